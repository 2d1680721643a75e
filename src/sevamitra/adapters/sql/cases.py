"""Reviewed applications as officers work them: the inbox of a desk, one case in a transaction,
its history, and the cases the SLA clock is due to look at.

A `CaseTransaction` holds one application locked (`FOR UPDATE` on PostgreSQL; SQLite serialises
writers) with its answers opened, and writes the new status and case, the history event, the
messages to the citizen and any certificate in one commit, as a citizen's turn does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.stores import enqueue_message, insert_certificate, record_event, unseal_json
from sevamitra.adapters.sql.tables import (
    application_events,
    applications,
    attachments,
    grievance_joins,
    officers,
)
from sevamitra.core.applications import Status
from sevamitra.core.messages import Recipient
from sevamitra.core.officers import Officer
from sevamitra.core.ports import CaseEvent, CaseRecord, CaseSummary, InboxFilter, IssuedCertificate, Sealer
from sevamitra.core.workflow import STATE, Case

OPEN_STATUSES = (Status.SUBMITTED.value, Status.UNDER_REVIEW.value)


def _record(row: Any, sealer: Sealer) -> CaseRecord:
    return CaseRecord(
        reference=row.reference,
        service_id=row.service_id,
        status=Status(row.status),
        language=row.language,
        address=row.address,
        recipient=Recipient(wa_id=row.wa_id, user_id=row.user_id),
        answers=unseal_json(sealer, row.answers),
        submitted_at=row.submitted_at,
        due_at=row.due_at,
        case=Case.from_dict(row.workflow) if row.workflow else None,
        district=row.district,
        department_id=row.department_id,
        fee_inr=row.fee_inr,
        decided_at=row.decided_at,
    )


@dataclass
class SqlCaseTransaction:
    connection: AsyncConnection
    record: CaseRecord
    now: datetime

    async def update(self, *, status: Status, case: Case | None, clock_at: datetime | None) -> None:
        decided = status in (Status.APPROVED, Status.REJECTED, Status.ISSUED) and self.record.decided_at is None
        await self.connection.execute(
            update(applications)
            .where(applications.c.reference == self.record.reference)
            .values(
                status=status.value,
                workflow=case.to_dict() if case else None,
                desk=case.desk if case else None,
                step_due_at=case.step_due_at if case else None,
                clock_at=clock_at,
                updated_at=self.now,
                **({"decided_at": self.now} if decided else {}),
            )
        )

    async def event(self, actor: str, kind: str, detail: dict[str, Any] | None = None) -> None:
        await record_event(self.connection, self.record.reference, self.now, actor, kind, detail)

    async def notify(self, recipient: Recipient, address: str, payload: dict[str, Any]) -> None:
        """A message in the outbox, sent after the commit."""
        await enqueue_message(self.connection, address, recipient, payload, self.now)

    async def attach(self, officer_id: int, content_type: str, data: bytes) -> int:
        inserted = await self.connection.execute(
            insert(attachments)
            .values(
                reference=self.record.reference,
                officer_id=officer_id,
                content_type=content_type,
                data=data,
                at=self.now,
            )
            .returning(attachments.c.id)
        )
        return int(inserted.scalar_one())

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        await insert_certificate(self.connection, certificate)

    async def close_joined(self) -> list[tuple[str, Recipient, str, str]]:
        """Close the "me too" reports attached to this grievance: (reference, recipient, address, language)."""
        rows = (
            await self.connection.execute(
                select(
                    applications.c.reference,
                    applications.c.wa_id,
                    applications.c.user_id,
                    applications.c.address,
                    applications.c.language,
                )
                .join(grievance_joins, grievance_joins.c.reference == applications.c.reference)
                .where(grievance_joins.c.joined == self.record.reference, applications.c.status == Status.JOINED.value)
            )
        ).all()
        if rows:
            await self.connection.execute(
                update(applications)
                .where(applications.c.reference.in_([r.reference for r in rows]))
                .values(status=Status.CLOSED.value, updated_at=self.now, decided_at=self.now)
            )
        return [(r.reference, Recipient(wa_id=r.wa_id, user_id=r.user_id), r.address, r.language) for r in rows]

    async def officers_at(self, desk: str) -> list[Recipient]:
        """Where to remind the officers of a desk (those with a WhatsApp number)."""
        role, _, place = desk.partition("@")
        rows = await self.connection.execute(
            select(officers.c.wa_id).where(
                officers.c.role == role,
                officers.c.place == place,
                officers.c.active.is_(True),
                officers.c.wa_id.isnot(None),
            )
        )
        return [Recipient(wa_id=r.wa_id) for r in rows]


@dataclass
class SqlCases:
    engine: AsyncEngine
    sealer: Sealer
    sqlite: bool = field(init=False)

    def __post_init__(self) -> None:
        self.sqlite = is_sqlite(self.engine)

    @asynccontextmanager
    async def transaction(self, reference: str, now: datetime) -> AsyncIterator[SqlCaseTransaction | None]:
        async with self.engine.begin() as connection:
            query = select(applications).where(applications.c.reference == reference)
            row = (await connection.execute(query if self.sqlite else query.with_for_update())).first()
            yield SqlCaseTransaction(connection, _record(row, self.sealer), now) if row else None

    async def get(self, reference: str) -> CaseRecord | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(applications).where(applications.c.reference == reference))).first()
        return _record(row, self.sealer) if row else None

    async def history(self, reference: str) -> list[CaseEvent]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(application_events)
                .where(application_events.c.reference == reference)
                .order_by(application_events.c.id)
            )
            return [CaseEvent(at=r.at, actor=r.actor, kind=r.kind, detail=r.detail or {}) for r in rows]

    async def attachment_by_id(self, attachment_id: int) -> tuple[str, bytes] | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(attachments.c.content_type, attachments.c.data).where(attachments.c.id == attachment_id)
                )
            ).first()
        return (row.content_type, row.data) if row else None

    async def attachment(self, reference: str, attachment_id: int) -> tuple[str, bytes] | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(attachments.c.content_type, attachments.c.data).where(
                        attachments.c.id == attachment_id, attachments.c.reference == reference
                    )
                )
            ).first()
        return (row.content_type, row.data) if row else None

    async def attachments_of(self, reference: str) -> list[tuple[int, str, datetime]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(attachments.c.id, attachments.c.content_type, attachments.c.at)
                .where(attachments.c.reference == reference)
                .order_by(attachments.c.id)
            )
            return [(r.id, r.content_type, r.at) for r in rows]

    async def inbox(self, officer: Officer, wanted: InboxFilter) -> tuple[list[CaseSummary], int]:
        """The cases at the officer's desks (or, for administrators, in their scope), soonest due first."""
        where = [_scope(officer)]
        if wanted.statuses:
            # literal values, so PostgreSQL sees the open-case indexes' predicate in every plan
            values = [s.value for s in wanted.statuses]
            statuses: Any = bindparam("statuses", values, expanding=True, literal_execute=True)
            where.append(applications.c.status.in_(statuses))
        if wanted.service_id:
            where.append(applications.c.service_id == wanted.service_id)
        if wanted.due_before is not None:
            where.append(applications.c.step_due_at <= wanted.due_before)
        condition = and_(*where)
        async with self.engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(applications).where(condition))
            rows = await connection.execute(
                select(
                    applications.c.reference,
                    applications.c.service_id,
                    applications.c.status,
                    applications.c.desk,
                    applications.c.district,
                    applications.c.submitted_at,
                    applications.c.step_due_at,
                )
                .where(condition)
                .order_by(applications.c.step_due_at, applications.c.id)
                .limit(wanted.limit)
                .offset(wanted.offset)
            )
            found = [
                CaseSummary(
                    reference=r.reference,
                    service_id=r.service_id,
                    status=Status(r.status),
                    desk=r.desk,
                    district=r.district,
                    submitted_at=r.submitted_at,
                    step_due_at=r.step_due_at,
                )
                for r in rows
            ]
        return found, int(total or 0)

    async def due_on_clock(self, now: datetime, limit: int) -> list[str]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(applications.c.reference)
                .where(applications.c.clock_at <= now)
                .order_by(applications.c.clock_at)
                .limit(limit)
            )
            return [r.reference for r in rows]


def _scope(officer: Officer) -> Any:
    """The SQL condition for the cases an officer may see in their inbox."""
    c = applications.c
    if officer.role == "state_admin":
        return c.desk.isnot(None)
    if officer.role == "department_admin":
        return and_(c.desk.isnot(None), c.department_id == officer.department_id)
    if officer.role == "district_admin":
        return and_(c.desk.isnot(None), c.district == officer.place)  # its queue holds its district's cases
    prefix = f"{officer.role}@"
    if officer.place == STATE:
        return c.desk.like(f"{_escaped(prefix)}%", escape="\\")
    exact = f"{prefix}{officer.place}"
    return or_(c.desk == exact, c.desk.like(f"{_escaped(exact)}/%", escape="\\"))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def inbox_statuses(values: Sequence[str]) -> tuple[Status, ...]:
    return tuple(Status(v) for v in values if v in Status._value2member_map_)
