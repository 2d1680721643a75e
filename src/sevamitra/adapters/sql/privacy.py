"""Citizens' consents, their data as held, and officers' accesses to it, within the citizen's turn.

Everything here runs on the connection of the turn that asked (`SqlCitizenTurn`), so a consent, a
withdrawal or a request commits with the state and the replies of that turn, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sevamitra.adapters.sql.stores import SqlCitizenTurn, unseal_json
from sevamitra.adapters.sql.subscriptions import remove_subscriptions
from sevamitra.adapters.sql.tables import (
    application_events,
    applications,
    audit_log,
    certificates,
    consents,
    conversations,
    data_requests,
    inbox,
    officers,
    outbox,
    payments,
    ratings,
    subscriptions,
)
from sevamitra.core.ports import CitizenTurn
from sevamitra.core.privacy import (
    KEPT_UNDER_LAW,
    Access,
    ConsentRecord,
    HeldAlert,
    HeldApplication,
    HeldCertificate,
    HeldEvent,
    HeldPayment,
    HeldRating,
    HeldRequest,
    Holdings,
)


def _sql_turn(turn: CitizenTurn) -> SqlCitizenTurn:
    if not isinstance(turn, SqlCitizenTurn):
        raise TypeError(f"SqlRights works within a turn of SqlConversations, not {type(turn).__name__}")
    return turn


class SqlRights:
    """The `DataRights` port on SQLAlchemy Core, for SQLite and PostgreSQL."""

    async def consent(self, turn: CitizenTurn, record: ConsentRecord) -> None:
        sql = _sql_turn(turn)
        await sql.connection.execute(
            insert(consents).values(
                address=sql.address,
                notice_version=record.notice,
                language=record.language,
                purposes=list(record.purposes),
                given_at=record.given_at,
                withdrawn_at=record.withdrawn_at,
            )
        )

    async def withdraw(self, turn: CitizenTurn, now: datetime) -> tuple[str, ...]:
        """The consent withdrawn, the citizen's alerts and certificates' verification notes stopped."""
        sql = _sql_turn(turn)
        connection, address = sql.connection, sql.address
        await connection.execute(
            update(consents)
            .where(consents.c.address == address, consents.c.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
        await remove_subscriptions(connection, address)
        await connection.execute(
            update(certificates).where(certificates.c.address == address, certificates.c.alerts).values(alerts=False)
        )
        kept = await connection.execute(
            select(applications.c.reference)
            .where(applications.c.address == address, applications.c.status.in_([s.value for s in KEPT_UNDER_LAW]))
            .order_by(applications.c.id)
        )
        return tuple(row.reference for row in kept)

    async def holdings(self, turn: CitizenTurn) -> Holdings:
        sql = _sql_turn(turn)
        connection, address = sql.connection, sql.address
        conversation = (
            await connection.execute(select(conversations).where(conversations.c.address == address))
        ).first()
        held = await _applications(connection, sql, address)
        references = [app.reference for app in held]
        return Holdings(
            address=address,
            wa_id=conversation.wa_id if conversation else None,
            user_id=conversation.user_id if conversation else None,
            conversation=unseal_json(sql.sealer, conversation.state) if conversation else None,
            first_seen=conversation.created_at if conversation else None,
            last_seen=conversation.updated_at if conversation else None,
            consents=tuple(await _consents(connection, address)),
            applications=held,
            payments=tuple(await _payments(connection, address)),
            certificates=tuple(await _certificates(connection, address)),
            ratings=tuple(await _ratings(connection, references)),
            alerts=tuple(await _alerts(connection, address)),
            requests=tuple(await _requests(connection, address)),
            messages_received=await _count(connection, inbox, inbox.c.address == address, inbox.c.kind == "message"),
            messages_sent=await _count(
                connection, outbox, outbox.c.address == address, outbox.c.payload["kind"].as_string() != "mark_read"
            ),
        )

    async def accesses(self, turn: CitizenTurn, limit: int) -> tuple[list[Access], int]:
        """Rows of the audit log on the citizen's applications by an officer, joined to the officer's office
        and role (their name and id stay out)."""
        sql = _sql_turn(turn)
        own = select(applications.c.reference).where(applications.c.address == sql.address)
        where = (audit_log.c.reference.in_(own), audit_log.c.officer_id.is_not(None))
        rows = await sql.connection.execute(
            select(
                audit_log.c.at,
                audit_log.c.reference,
                audit_log.c.action,
                officers.c.role,
                officers.c.place,
                officers.c.department_id,
            )
            .join(officers, officers.c.id == audit_log.c.officer_id)
            .where(*where)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        listed = [
            Access(
                at=r.at,
                reference=r.reference,
                action=r.action,
                role=r.role,
                place=r.place,
                department_id=r.department_id,
            )
            for r in rows
        ]
        total = await _count(sql.connection, audit_log, *where)
        return listed, total

    async def requested(self, turn: CitizenTurn, kind: str, now: datetime) -> None:
        sql = _sql_turn(turn)
        await sql.connection.execute(insert(data_requests).values(address=sql.address, kind=kind, at=now))

    async def last_requested(self, turn: CitizenTurn, kind: str) -> datetime | None:
        sql = _sql_turn(turn)
        last: datetime | None = await sql.connection.scalar(
            select(data_requests.c.at)
            .where(data_requests.c.address == sql.address, data_requests.c.kind == kind)
            .order_by(data_requests.c.at.desc())
            .limit(1)
        )
        return last


async def _count(connection: AsyncConnection, table: Any, *where: Any) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def _applications(connection: AsyncConnection, sql: SqlCitizenTurn, address: str) -> tuple[HeldApplication, ...]:
    rows = (
        await connection.execute(
            select(applications).where(applications.c.address == address).order_by(applications.c.id)
        )
    ).all()
    history: dict[str, list[HeldEvent]] = {}
    references = [row.reference for row in rows]
    if references:
        events = await connection.execute(
            select(application_events)
            .where(application_events.c.reference.in_(references))
            .order_by(application_events.c.id)
        )
        for e in events:
            history.setdefault(e.reference, []).append(
                HeldEvent(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail or {})
            )
    return tuple(
        HeldApplication(
            reference=row.reference,
            service_id=row.service_id,
            status=row.status,
            language=row.language,
            answers=unseal_json(sql.sealer, row.answers),
            submitted_at=row.submitted_at,
            due_at=row.due_at,
            decided_at=row.decided_at,
            fee_inr=row.fee_inr,
            decision=row.decision,
            history=tuple(history.get(row.reference, ())),
        )
        for row in rows
    )


async def _consents(connection: AsyncConnection, address: str) -> list[ConsentRecord]:
    rows = await connection.execute(select(consents).where(consents.c.address == address).order_by(consents.c.id))
    return [
        ConsentRecord(
            notice=r.notice_version,
            language=r.language,
            purposes=tuple(r.purposes),
            given_at=r.given_at,
            withdrawn_at=r.withdrawn_at,
        )
        for r in rows
    ]


async def _payments(connection: AsyncConnection, address: str) -> list[HeldPayment]:
    rows = await connection.execute(select(payments).where(payments.c.address == address).order_by(payments.c.id))
    return [
        HeldPayment(
            reference=r.reference,
            provider=r.provider,
            amount_paise=r.amount_paise,
            status=r.status,
            created_at=r.created_at,
            paid_at=r.paid_at,
        )
        for r in rows
    ]


async def _certificates(connection: AsyncConnection, address: str) -> list[HeldCertificate]:
    columns = (
        certificates.c.number,
        certificates.c.reference,
        certificates.c.service_id,
        certificates.c.kind,
        certificates.c.issued_at,
        certificates.c.valid_until,
        certificates.c.status,
    )
    rows = await connection.execute(
        select(*columns).where(certificates.c.address == address).order_by(certificates.c.issued_at)
    )
    return [
        HeldCertificate(
            number=r.number,
            reference=r.reference,
            service_id=r.service_id,
            kind=r.kind,
            issued_at=r.issued_at,
            valid_until=r.valid_until,
            status=r.status,
        )
        for r in rows
    ]


async def _ratings(connection: AsyncConnection, references: Sequence[str]) -> list[HeldRating]:
    if not references:
        return []
    rows = await connection.execute(
        select(ratings).where(ratings.c.reference.in_(list(references))).order_by(ratings.c.at)
    )
    return [HeldRating(reference=r.reference, score=r.score, at=r.at, comment=r.comment) for r in rows]


async def _alerts(connection: AsyncConnection, address: str) -> list[HeldAlert]:
    rows = await connection.execute(
        select(subscriptions).where(subscriptions.c.address == address).order_by(subscriptions.c.created_at)
    )
    return [HeldAlert(topic=r.topic, area=r.area, language=r.language, created_at=r.created_at) for r in rows]


async def _requests(connection: AsyncConnection, address: str) -> list[HeldRequest]:
    rows = await connection.execute(
        select(data_requests.c.kind, data_requests.c.at)
        .where(data_requests.c.address == address)
        .order_by(data_requests.c.id)
    )
    return [HeldRequest(kind=r.kind, at=r.at) for r in rows]
