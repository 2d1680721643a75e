"""The inbox, conversations, outbox and statuses on SQLAlchemy Core, for SQLite and PostgreSQL.

Per-citizen ordering: on PostgreSQL a worker takes a transaction-scoped advisory lock on the
citizen (skipping citizens another worker holds) and reads their pending messages in arrival
order; on SQLite every transaction begins IMMEDIATE, which serialises writers outright.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, insert, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.bookings import confirm_places, hold_places
from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.erasure import record_erasure_request
from sevamitra.adapters.sql.phrasings import record_phrasing
from sevamitra.adapters.sql.subscriptions import add_subscriptions, remove_subscriptions
from sevamitra.adapters.sql.tables import (
    application_events,
    applications,
    arrivals,
    certificates,
    conversations,
    dead_letters,
    grievance_joins,
    inbox,
    log_pending,
    outbox,
    payments,
    ratings,
    reference_counters,
)
from sevamitra.core import logentries
from sevamitra.core.applications import ApplicationView, Status, format_reference
from sevamitra.core.decisions import BookingRequest
from sevamitra.core.delivery import advances
from sevamitra.core.erasure import ErasureScheduled
from sevamitra.core.messages import ChannelError, DeliveryStatus, Recipient
from sevamitra.core.payments import PaymentStatus
from sevamitra.core.ports import (
    InboxRecord,
    IssuedCertificate,
    NewApplication,
    NewInboxItem,
    OutboxRecord,
    ResolvedGrievance,
    ReturnedApplication,
    Sealer,
    Settled,
)
from sevamitra.core.workflow import OPEN, Case, distance_m, resubmitted

PROCESSED_KINDS = ("message", "status")  # the rest is stored for the record and not processed


def _lock_key(address: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(address.encode()).digest()[:8], "big", signed=True)


def _record(row: Any) -> InboxRecord:
    return InboxRecord(
        id=row.id,
        key=row.key,
        kind=row.kind,
        address=row.address,
        fragment=row.fragment,
        attempts=row.attempts,
        received_at=row.received_at,
    )


class SqlInbox:
    """Stores webhook items; concurrent deliveries share one transaction (group commit).

    A durable commit costs an fsync; under load many webhooks wait for it at once, so the first
    caller commits the items of every caller that queued meanwhile, in multi-row INSERTs that return
    the keys they stored, and each caller counts its own. A failed commit fails every caller of that
    batch, so none of them is acknowledged.

    On SQLite the batch goes to the driver itself: aiosqlite runs every call in its connection's
    thread, and a SQLAlchemy transaction takes nine such round trips (each a wake-up of the event
    loop) where BEGIN IMMEDIATE, INSERT ... RETURNING and COMMIT take three, on a connection kept
    while batches follow one another. Values are converted by the columns' own SQLAlchemy types, so
    rows are stored exactly as SQLAlchemy would store them.
    """

    MAX_BATCH = 512  # callers per batch
    ROWS_PER_INSERT = 500  # on SQLite: 7 parameters per row, well under its 32,766 per statement

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        dialect = engine.dialect
        self._binds = [
            (name, inbox.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in _INBOX_COLUMNS
        ]
        self._queue: list[tuple[list[dict[str, Any]], asyncio.Future[int]]] = []
        self._committing = False
        self._held: tuple[AsyncConnection, Any] | None = None  # SQLite: a connection and its driver, while busy

    async def add(self, items: Sequence[NewInboxItem], received_at: datetime) -> int:
        if not items:
            return 0
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((self._rows(items, received_at), done))
        if not self._committing:
            self._committing = True
            asyncio.get_running_loop().create_task(self._commit_queued())
        return await done

    async def _commit_queued(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.MAX_BATCH], self._queue[self.MAX_BATCH :]
                try:
                    counts = await self._commit(batch)
                except Exception as error:  # every caller of the batch learns it failed
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                else:
                    if not self._queue:  # the connection goes back before the last callers are told
                        await self._release()
                    for (_, done), count in zip(batch, counts, strict=True):
                        if not done.done():
                            done.set_result(count)
        finally:
            self._committing = False
            await self._release()

    async def _release(self) -> None:
        if self._held is not None:
            (connection, _), self._held = self._held, None
            with suppress(Exception):  # committed all the same; the pool discards a connection it cannot reset
                await connection.close()

    async def _commit(self, batch: list[tuple[list[dict[str, Any]], asyncio.Future[int]]]) -> list[int]:
        """Store the batch in one transaction; each caller's count of the keys it stored."""
        rows = [row for rows, _ in batch for row in rows]
        stored = await (self._insert_sqlite(rows) if self._sqlite else self._insert_postgres(rows))
        counts = []
        for rows, _ in batch:
            count = 0
            for row in rows:
                if row["key"] in stored:  # a key twice in a batch: only its first caller stored it
                    stored.discard(row["key"])
                    count += 1
            counts.append(count)
        return counts

    async def _insert_postgres(self, rows: list[dict[str, Any]]) -> set[str]:
        """One INSERT of the batch's columns as arrays, through asyncpg itself: the statement stays the same
        whatever the batch's size, so it is prepared once per connection."""
        columns: list[list[Any]] = [[] for _ in self._binds]
        for row in rows:
            for values, (name, process) in zip(columns, self._binds, strict=True):
                values.append(row[name] if process is None else process(row[name]))
        async with self.engine.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg's
            async with driver.transaction():
                return {record[0] for record in await driver.fetch(_POSTGRES_INSERT, *columns)}

    async def _insert_sqlite(self, rows: list[dict[str, Any]]) -> set[str]:
        if self._held is None:  # kept from batch to batch while callers keep coming
            connection = await self.engine.connect()
            self._held = connection, (await connection.get_raw_connection()).driver_connection  # aiosqlite's
        connection, driver = self._held
        stored: set[str] = set()
        try:
            await driver.execute_fetchall("BEGIN IMMEDIATE")
            for start in range(0, len(rows), self.ROWS_PER_INSERT):
                chunk = rows[start : start + self.ROWS_PER_INSERT]
                returned = await driver.execute_fetchall(_sqlite_insert_sql(len(chunk)), self._parameters(chunk))
                stored.update(key for (key,) in returned)
            await driver.commit()
        except BaseException:
            self._held = None
            with suppress(Exception):  # the batch's own error is raised; a broken connection is discarded
                await driver.rollback()  # by the pool when it comes back
            await connection.close()
            raise
        return stored

    def _parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        """The rows' values in `_INBOX_COLUMNS` order, one row after another, as the driver takes them."""
        values: list[Any] = []
        for row in rows:
            for name, process in self._binds:
                values.append(row[name] if process is None else process(row[name]))
        return values

    @staticmethod
    def _rows(items: Sequence[NewInboxItem], received_at: datetime) -> list[dict[str, Any]]:
        return [
            {
                "key": item.key,
                "kind": item.kind,
                "address": item.address,
                "fragment": item.fragment,
                "received_at": received_at,
                "state": "pending" if item.kind in PROCESSED_KINDS and item.address else "ignored",
                "attempts": 0,
            }
            for item in items
        ]


_INBOX_COLUMNS = ("key", "kind", "address", "fragment", "received_at", "state", "attempts")


# the columns of `_INBOX_COLUMNS` as arrays; the fragment comes as JSON text, as SQLAlchemy binds it
_POSTGRES_INSERT = (
    'INSERT INTO inbox ("key", "kind", "address", "fragment", "received_at", "state", "attempts") '
    "SELECT k, kd, a, f::json, r, s, n FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::timestamptz[], $6::text[], $7::int[]) AS t(k, kd, a, f, r, s, n) "
    'ON CONFLICT ("key") DO NOTHING RETURNING "key"'
)


def _sqlite_insert_sql(rows: int) -> str:
    columns = ", ".join(f'"{name}"' for name in _INBOX_COLUMNS)
    values = ", ".join(["(" + ", ".join("?" * len(_INBOX_COLUMNS)) + ")"] * rows)
    insert = f"INSERT INTO inbox ({columns}) VALUES {values}"  # noqa: S608 (names and placeholders only)
    return insert + ' ON CONFLICT ("key") DO NOTHING RETURNING "key"'


def seal_json(sealer: Sealer, data: Any) -> str:
    return sealer.seal(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def unseal_json(sealer: Sealer, sealed: str) -> Any:
    return json.loads(sealer.open(sealed))


def outbox_row(
    address: str, recipient: Recipient, payload: dict[str, Any], now: datetime, *, cause: int | None = None
) -> dict[str, Any]:
    """A pending outbox row: one message to one citizen, sent after the caller's commit."""
    return {
        "address": address,
        "wa_id": recipient.wa_id,
        "user_id": recipient.user_id,
        "payload": payload,
        "cause": cause,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def enqueue_message(
    connection: AsyncConnection, address: str, recipient: Recipient, payload: dict[str, Any], now: datetime
) -> None:
    """Queue one message in the caller's transaction."""
    await connection.execute(insert(outbox).values(outbox_row(address, recipient, payload, now)))


async def record_event(
    connection: AsyncConnection,
    reference: str,
    at: datetime,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """A line in an application's history, in the caller's transaction."""
    await connection.execute(
        insert(application_events).values(reference=reference, at=at, actor=actor, kind=kind, detail=detail)
    )


async def insert_payment(
    connection: AsyncConnection,
    *,
    reference: str,
    address: str,
    provider: str,
    provider_ref: str,
    amount_paise: int,
    link: str | None,
    now: datetime,
    expires_at: datetime | None = None,
    purpose: str = "",
    message: Mapping[str, Any] | None = None,
) -> Any:
    """A new payment (status created), in the caller's transaction; returns its row."""
    detail: dict[str, Any] = {"purpose": purpose}
    if expires_at is not None:
        detail["expires_at"] = expires_at.isoformat()
    if message is not None:
        detail["message"] = dict(message)
    inserted = await connection.execute(
        insert(payments)
        .values(
            reference=reference,
            address=address,
            provider=provider,
            provider_ref=provider_ref,
            amount_paise=amount_paise,
            status=PaymentStatus.CREATED.value,
            link=link,
            created_at=now,
            updated_at=now,
            detail=detail,
        )
        .returning(*payments.c)
    )
    return inserted.one()


async def next_number(connection: AsyncConnection, prefix: str, year: int, *, count: int = 1) -> int:
    """Take `count` reference numbers for a service and year; returns the last one taken
    (row lock on PostgreSQL, write lock on SQLite)."""
    bumped = await connection.execute(
        update(reference_counters)
        .where(reference_counters.c.prefix == prefix, reference_counters.c.year == year)
        .values(last=reference_counters.c.last + count)
        .returning(reference_counters.c.last)
    )
    row = bumped.first()
    if row is not None:
        return int(row.last)
    await connection.execute(insert(reference_counters).values(prefix=prefix, year=year, last=count))
    return count


async def submit_application(
    connection: AsyncConnection, sealer: Sealer, address: str, application: NewApplication
) -> str:
    """Store an application under a fresh reference number, in the caller's transaction."""
    year = application.submitted_at.year
    reference = format_reference(
        application.reference_prefix, year, await next_number(connection, application.reference_prefix, year)
    )
    await insert_application(connection, sealer, address, application, reference)
    return reference


async def insert_application(
    connection: AsyncConnection, sealer: Sealer, address: str, application: NewApplication, reference: str
) -> None:
    submission, case = application.submission, application.case
    await connection.execute(
        insert(applications).values(
            reference=reference,
            service_id=submission.service_id,
            service_version=submission.service_version,
            definition_hash=submission.definition_hash,
            address=address,
            wa_id=application.recipient.wa_id,
            user_id=application.recipient.user_id,
            language=submission.language,
            answers=seal_json(sealer, dict(submission.answers)),
            status=application.status.value,
            decision=application.decision,
            fee_inr=application.fee_inr,
            submitted_at=application.submitted_at,
            due_at=application.due_at,
            updated_at=application.submitted_at,
            department_id=application.department_id,
            district=application.district,
            desk=case.desk if case else None,
            step_due_at=case.step_due_at if case else None,
            clock_at=application.clock_at,
            workflow=case.to_dict() if case else None,
            latitude=application.latitude,
            longitude=application.longitude,
        )
    )
    if case is not None:
        await record_event(connection, reference, application.submitted_at, "citizen", "submitted", {"desk": case.desk})


class SqlApplications:
    """Applications stored outside a conversation (sample issuance, officers' tools)."""

    def __init__(self, engine: AsyncEngine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self._blocks: dict[tuple[str, int], tuple[int, int]] = {}

    BLOCK = 32  # reference numbers a batch issuer reserves at a time (a crash leaves a gap, never a duplicate)

    async def reserve(self, prefix: str, year: int) -> str:
        """A reference number from this process's reserved block (one transaction per block)."""
        first, end = self._blocks.get((prefix, year), (0, 0))
        if first >= end:
            async with self.engine.begin() as connection:
                last = await next_number(connection, prefix, year, count=self.BLOCK)
            first, end = last - self.BLOCK + 1, last + 1
        self._blocks[(prefix, year)] = (first + 1, end)
        return format_reference(prefix, year, first)

    async def store_issued(
        self, address: str, application: NewApplication, reference: str, certificate: IssuedCertificate
    ) -> None:
        """A decided application and its certificate, in one transaction."""
        async with self.engine.begin() as connection:
            await insert_application(connection, self.sealer, address, application, reference)
            await insert_certificate(connection, certificate)


@dataclass
class SqlCitizenTurn:
    connection: AsyncConnection
    sealer: Sealer
    address: str
    pending: list[InboxRecord]
    state: dict[str, Any] | None
    _now: datetime
    _done: list[tuple[int, str | None]] = field(default_factory=list)
    _outbox: list[dict[str, Any]] = field(default_factory=list)
    _save: tuple[dict[str, Any], Recipient] | None = None
    _existed: bool = False  # whether the citizen's conversation was stored before this turn
    _deferred: list[tuple[int, datetime]] = field(default_factory=list)

    def done(self, record: InboxRecord, *, error: str | None = None) -> None:
        self._done.append((record.id, error))

    def defer(self, record: InboxRecord, until: datetime) -> None:
        self._deferred.append((record.id, until))

    def save_state(self, state: dict[str, Any], recipient: Recipient, now: datetime) -> None:
        self.state = state
        self._save = (state, recipient)

    def enqueue(self, recipient: Recipient, payload: dict[str, Any], now: datetime, *, cause: int | None) -> None:
        self._outbox.append(outbox_row(self.address, recipient, payload, now, cause=cause))

    async def submit(self, application: NewApplication) -> str:
        """Store an application under a fresh reference number, in this turn's transaction."""
        return await submit_application(self.connection, self.sealer, self.address, application)

    async def book(
        self, application: NewApplication, request: BookingRequest, *, confirm: bool
    ) -> tuple[str, tuple[int, ...]] | None:
        """The application and its places in a savepoint: rolled back together when the places are gone."""
        sqlite = self.connection.dialect.name == "sqlite"
        savepoint = await self.connection.begin_nested()
        reference = await submit_application(self.connection, self.sealer, self.address, application)
        held = await hold_places(self.connection, request, reference, application.submitted_at, sqlite=sqlite)
        if held is None:
            await savepoint.rollback()
            return None
        if confirm:
            await confirm_places(self.connection, reference, application.submitted_at, sqlite=sqlite)
        await savepoint.commit()
        return reference, held

    async def applications(self, reference: str | None, limit: int = 5) -> list[ApplicationView]:
        """This citizen's applications: the one with `reference`, or the latest ones."""
        query = select(applications).where(applications.c.address == self.address)
        if reference is not None:
            query = query.where(applications.c.reference == reference)
        rows = await self.connection.execute(query.order_by(applications.c.id.desc()).limit(limit))
        return [
            ApplicationView(
                reference=r.reference,
                service_id=r.service_id,
                status=Status(r.status),
                submitted_at=r.submitted_at,
                due_at=r.due_at,
                workflow=r.workflow,
            )
            for r in rows
        ]

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        await insert_certificate(self.connection, certificate)

    async def add_payment(
        self,
        *,
        reference: str,
        provider: str,
        provider_ref: str,
        amount_paise: int,
        now: datetime,
        purpose: str = "",
        message: Mapping[str, Any] | None = None,
    ) -> None:
        """An order paid in the chat, stored with the turn that asks for it."""
        await insert_payment(
            self.connection,
            reference=reference,
            address=self.address,
            provider=provider,
            provider_ref=provider_ref,
            amount_paise=amount_paise,
            link=None,
            now=now,
            purpose=purpose,
            message=message,
        )

    async def correction(self, reference: str) -> ReturnedApplication | None:
        """This citizen's returned application and what the officer asked to correct."""
        row = (
            await self.connection.execute(
                select(applications.c.service_id).where(
                    applications.c.reference == reference,
                    applications.c.address == self.address,
                    applications.c.status == Status.RETURNED.value,
                )
            )
        ).first()
        if row is None:
            return None
        asked = await self.connection.scalar(
            select(application_events.c.detail)
            .where(application_events.c.reference == reference, application_events.c.kind == "returned")
            .order_by(application_events.c.id.desc())
            .limit(1)
        )
        asked = asked or {}
        fields = tuple(str(f) for f in asked.get("fields", ()))
        return ReturnedApplication(
            reference=reference, service_id=row.service_id, fields=fields, message=str(asked.get("message", ""))
        )

    async def resubmit(self, reference: str, answers: Mapping[str, Any], now: datetime) -> bool:
        """Merge the corrections, restart the step's clock with the time it had left, log it."""
        row = (
            await self.connection.execute(
                select(applications.c.answers, applications.c.workflow).where(
                    applications.c.reference == reference,
                    applications.c.address == self.address,
                    applications.c.status == Status.RETURNED.value,
                )
            )
        ).first()
        if row is None or row.workflow is None:
            return False
        merged = {**unseal_json(self.sealer, row.answers), **answers}
        case = resubmitted(Case.from_dict(row.workflow), now)
        await self.connection.execute(
            update(applications)
            .where(applications.c.reference == reference)
            .values(
                answers=seal_json(self.sealer, merged),
                status=Status.UNDER_REVIEW.value,
                workflow=case.to_dict(),
                step_due_at=case.step_due_at,
                clock_at=now,  # the clock's next round recomputes it with the service's step time
                updated_at=now,
            )
        )
        await record_event(self.connection, reference, now, "citizen", "resubmitted", {"fields": sorted(answers)})
        return True

    async def rate(self, reference: str, score: int, now: datetime) -> bool:
        """The rating of a decided application of this citizen's; a second rating replaces the first."""
        decided = (Status.APPROVED, Status.ISSUED, Status.REJECTED, Status.DECIDED, Status.CLOSED)
        owned = await self.connection.scalar(
            select(applications.c.id).where(
                applications.c.reference == reference,
                applications.c.address == self.address,
                applications.c.status.in_([s.value for s in decided]),
            )
        )
        if owned is None:
            return False
        changed = await self.connection.execute(
            update(ratings).where(ratings.c.reference == reference).values(score=score, at=now)
        )
        if changed.rowcount == 0:
            await self.connection.execute(insert(ratings).values(reference=reference, score=score, at=now))
        return True

    async def resolved_grievance(self, reference: str) -> ResolvedGrievance | None:
        row = (
            await self.connection.execute(
                select(applications.c.service_id, applications.c.workflow, applications.c.answers).where(
                    applications.c.reference == reference,
                    applications.c.address == self.address,
                    applications.c.status == Status.RESOLVED.value,
                )
            )
        ).first()
        if row is None or row.workflow is None:
            return None
        return ResolvedGrievance(
            reference=reference,
            service_id=row.service_id,
            case=Case.from_dict(row.workflow),
            answers=unseal_json(self.sealer, row.answers),
        )

    async def settle_grievance(
        self, reference: str, *, status: Status, case: Case | None, clock_at: datetime | None, kind: str, now: datetime
    ) -> None:
        await self.connection.execute(
            update(applications)
            .where(applications.c.reference == reference, applications.c.address == self.address)
            .values(
                status=status.value,
                workflow=case.to_dict() if case else None,
                desk=case.desk if case else None,
                step_due_at=case.step_due_at if case else None,
                clock_at=clock_at,
                updated_at=now,
            )
        )
        detail = {"to": case.desk} if case and status is not Status.CLOSED else None
        await record_event(self.connection, reference, now, "citizen", kind, detail)

    async def nearby_open(
        self, service_id: str, latitude: float, longitude: float, meters: int
    ) -> tuple[str, int] | None:
        """A bounding box in SQL, then the exact great-circle distance for the few inside it."""
        degrees = meters / 111_000
        spread = degrees / max(0.1, math.cos(math.radians(latitude)))
        rows = await self.connection.execute(
            select(applications.c.reference, applications.c.latitude, applications.c.longitude).where(
                applications.c.service_id == service_id,
                applications.c.status.in_([s.value for s in OPEN]),
                applications.c.latitude.between(latitude - degrees, latitude + degrees),
                applications.c.longitude.between(longitude - spread, longitude + spread),
            )
        )
        near = sorted((round(distance_m(latitude, longitude, r.latitude, r.longitude)), r.reference) for r in rows)
        return (near[0][1], near[0][0]) if near and near[0][0] <= meters else None

    async def join(self, application: NewApplication, joined: str) -> str:
        reference = await submit_application(self.connection, self.sealer, self.address, application)
        await self.connection.execute(insert(grievance_joins).values(reference=reference, joined=joined, at=self._now))
        await record_event(self.connection, joined, self._now, "citizen", "joined", {"reference": reference})
        return reference

    async def change_alerts(
        self, recipient: Recipient, topics: Sequence[str], area: str | None, language: str, now: datetime
    ) -> int:
        if area is None:
            if not topics:
                return await remove_subscriptions(self.connection, self.address)
            return sum([await remove_subscriptions(self.connection, self.address, t) for t in topics])
        return await add_subscriptions(
            self.connection,
            address=self.address,
            recipient=recipient,
            topics=topics,
            area=area,
            language=language,
            now=now,
        )

    async def learn(self, text: str, service_id: str, language: str, now: datetime) -> None:
        await record_phrasing(self.connection, text, service_id, language, now)

    async def arrived(self, service_id: str, source: str | None, language: str, first: bool, now: datetime) -> None:
        await self.connection.execute(
            insert(arrivals).values(
                service_id=service_id, source=source, language=language, first_contact=first, arrived_at=now
            )
        )

    async def comment(self, reference: str, text: str, now: datetime) -> bool:
        """The comment that goes with this citizen's rating of their application."""
        owned = select(applications.c.reference).where(
            applications.c.reference == reference, applications.c.address == self.address
        )
        changed = await self.connection.execute(
            update(ratings).where(ratings.c.reference == reference, ratings.c.reference.in_(owned)).values(comment=text)
        )
        return changed.rowcount == 1

    async def watch(self, number: str, on: bool) -> bool:
        """The holder's notes on verification, for a certificate of this citizen's only."""
        result = await self.connection.execute(
            update(certificates)
            .where(certificates.c.number == number, certificates.c.address == self.address)
            .values(alerts=on)
        )
        return result.rowcount == 1

    async def request_erasure(self, now: datetime, retention: timedelta) -> ErasureScheduled:
        """This citizen's erasure request, recorded in this turn's transaction."""
        return await record_erasure_request(self.connection, self.address, now, retention)

    @property
    def existed(self) -> bool:
        return self._existed


async def _flush(connection: AsyncConnection, turns: Sequence[SqlCitizenTurn]) -> None:
    """Write what a batch of turns decided, a few statements for all of them."""
    updated: list[dict[str, Any]] = []
    created: list[dict[str, Any]] = []
    queued: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    deferred: list[dict[str, Any]] = []
    for turn in turns:
        deferred += [{"_id": record_id, "_until": until} for record_id, until in turn._deferred]
        if turn._save is not None:
            state, recipient = turn._save
            values = {
                "state": seal_json(turn.sealer, state),
                "wa_id": recipient.wa_id,
                "user_id": recipient.user_id,
                "number": recipient.via,
                "updated_at": turn._now,
            }
            if turn.existed:
                updated.append({f"_{name}": value for name, value in values.items()} | {"_address": turn.address})
            else:
                created.append({**values, "address": turn.address, "created_at": turn._now})
        queued += turn._outbox
        done += [
            {"_id": record_id, "_state": "failed" if error else "done", "_at": turn._now, "_error": error}
            for record_id, error in turn._done
        ]
    if updated:
        await connection.execute(_UPDATE_CONVERSATION, updated)
    if created:
        await connection.execute(insert(conversations), created)
    if queued:
        await connection.execute(insert(outbox), queued)
    if done:
        await connection.execute(_MARK_PROCESSED, done)
    if deferred:
        await connection.execute(_DEFER, deferred)


_UPDATE_CONVERSATION = (
    update(conversations)
    .where(conversations.c.address == bindparam("_address"))
    .values(
        state=bindparam("_state"),
        wa_id=bindparam("_wa_id"),
        user_id=bindparam("_user_id"),
        number=bindparam("_number"),
        updated_at=bindparam("_updated_at"),
    )
)
_MARK_PROCESSED = (
    update(inbox)
    .where(inbox.c.id == bindparam("_id"))
    .values(state=bindparam("_state"), processed_at=bindparam("_at"), error=bindparam("_error"))
)

_DEFER = update(inbox).where(inbox.c.id == bindparam("_id")).values(not_before=bindparam("_until"))


class SqlConversations:
    def __init__(self, engine: AsyncEngine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self.sqlite = is_sqlite(engine)

    async def addresses_waiting(self, limit: int, now: datetime | None = None) -> list[str]:
        due = or_(inbox.c.not_before.is_(None), inbox.c.not_before <= now) if now is not None else true()
        query = (
            select(inbox.c.address)
            .where(inbox.c.state == "pending", inbox.c.kind == "message", due)
            .group_by(inbox.c.address)
            .order_by(func.min(inbox.c.id))
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return [row.address for row in await connection.execute(query)]

    @asynccontextmanager
    async def turn(self, address: str, now: datetime) -> AsyncIterator[SqlCitizenTurn | None]:
        async with self.turns([address], now) as turns:
            yield turns[0] if turns else None

    @asynccontextmanager
    async def turns(self, addresses: Sequence[str], now: datetime) -> AsyncIterator[list[SqlCitizenTurn]]:
        async with self.engine.begin() as connection:
            locked = list(addresses)
            if not self.sqlite and locked:
                keys = [_lock_key(address) for address in locked]
                found = await connection.execute(_TRY_LOCKS, {"addresses": locked, "keys": keys})
                held = {row.address for row in found}
                locked = [address for address in locked if address in held]
            if not locked:
                yield []
                return
            rows = await connection.execute(
                select(inbox)
                .where(inbox.c.address.in_(locked), inbox.c.state == "pending", inbox.c.kind == "message")
                .order_by(inbox.c.id)
            )
            pending: dict[str, list[InboxRecord]] = {address: [] for address in locked}
            for row in rows:
                pending[row.address].append(_record(row))
            found_states = await connection.execute(
                select(conversations.c.address, conversations.c.state).where(conversations.c.address.in_(locked))
            )
            sealed = {row.address: row.state for row in found_states}
            turns = [
                SqlCitizenTurn(
                    connection=connection,
                    sealer=self.sealer,
                    address=address,
                    pending=pending[address],
                    state=unseal_json(self.sealer, sealed[address]) if address in sealed else None,
                    _now=now,
                    _existed=address in sealed,
                )
                for address in locked
            ]
            yield turns
            await _flush(connection, turns)


# Each citizen's lock for this transaction, where no other worker holds it; the citizens locked.
_TRY_LOCKS = text(
    """
    SELECT a.address FROM unnest(CAST(:addresses AS text[]), CAST(:keys AS bigint[])) AS a(address, key)
    WHERE pg_try_advisory_xact_lock(a.key)
    """
)


async def insert_certificate(connection: AsyncConnection, certificate: IssuedCertificate) -> None:
    """A certificate and its issuance entry for the transparency log, in the caller's transaction."""
    statement = certificate.statement
    entry = logentries.issuance(
        number=statement.number,
        salt=certificate.log_salt,
        time=int(statement.issued_at.timestamp()),
        kind=statement.kind,
        service=statement.service_id,
        office=statement.office.get("en", ""),
        kid=certificate.kid,
        cose=certificate.cose,
    )
    await connection.execute(insert(certificates).values(certificate_row(certificate)))
    await append_log_entry(connection, entry.encode(), statement.number, statement.issued_at)


async def append_log_entry(connection: AsyncConnection, entry: bytes, number: str | None, now: datetime) -> None:
    """Sequence an entry for the transparency log in the caller's transaction (integrated later)."""
    await append_log_entries(connection, [(entry, number)], now)


async def append_log_entries(
    connection: AsyncConnection, entries: Sequence[tuple[bytes, str | None]], now: datetime
) -> None:
    """Sequence many entries (with the certificate each is about) in one statement, in this order."""
    if entries:
        rows = [{"entry": entry, "number": number, "created_at": now} for entry, number in entries]
        await connection.execute(insert(log_pending).values(rows))


def certificate_row(certificate: IssuedCertificate) -> dict[str, Any]:
    statement = certificate.statement
    return {
        "number": statement.number,
        "reference": certificate.reference,
        "service_id": statement.service_id,
        "kind": statement.kind,
        "address": certificate.address,
        "language": certificate.language,
        "issued_at": statement.issued_at,
        "valid_until": statement.valid_until,
        "kid": certificate.kid.hex(),
        "cose": certificate.cose,
        "pdf": certificate.pdf,
        "download_token": certificate.download_token,
        "log_salt": certificate.log_salt,
        "status": "valid",
    }


def _error_values(error: ChannelError | None) -> dict[str, Any]:
    if error is None:
        return {}
    return {"error_code": error.code, "error": f"{error.title}: {error.message or ''}".strip(": ")[:2000]}


# Kinds never listed as dead letters: a read receipt (or typing indicator) is worth nothing later.
NOT_LISTED = frozenset({"mark_read"})
OUTSIDE_WINDOW, UNDELIVERABLE = 131047, 131026  # the codes of a `failed` status that name their own state


def _dead_letter(
    outbox_id: int,
    address: str,
    payload: Mapping[str, Any],
    state: str,
    error: ChannelError | None,
    attempts: int,
    at: datetime,
) -> dict[str, Any]:
    """A row of the dead-letter list: a message given up for good (nothing was queued in its place)."""
    return {
        "outbox_id": outbox_id,
        "address": address,
        "kind": str(payload.get("kind", "?"))[:24],
        "state": state,
        **_error_values(error),
        "attempts": attempts,
        "dead_at": at,
    }


class SqlOutbox:
    def __init__(self, engine: AsyncEngine, *, run_length: int = 20) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self.run_length = run_length  # the most messages of one citizen claimed at once

    async def claim(self, limit: int, now: datetime, lease_seconds: float) -> list[OutboxRecord]:
        earlier = outbox.alias("earlier")
        blocked = exists().where(
            earlier.c.address == outbox.c.address,
            earlier.c.id < outbox.c.id,
            earlier.c.state.in_(("pending", "sending")),
        )
        # The head's lock (skipped by other senders) holds the whole queue: a later message of the same
        # citizen is never a head while an earlier one waits.
        heads = select(outbox.c.id, outbox.c.address).where(_due(now), ~blocked).order_by(outbox.c.id).limit(limit)
        if not self.sqlite:
            heads = heads.with_for_update(skip_locked=True, of=outbox)
        async with self.engine.begin() as connection:
            first = {r.address: r.id for r in await connection.execute(heads)}
            if not first:
                return []
            queued = (
                select(outbox, _due(now).label("due"), conversations.c.number.label("via"))
                .select_from(outbox.outerjoin(conversations, conversations.c.address == outbox.c.address))
                .where(outbox.c.address.in_(list(first)), outbox.c.state.in_(("pending", "sending")))
                .order_by(outbox.c.address, outbox.c.id)
            )
            runs: dict[str, list[Any]] = {address: [] for address in first}
            ended: set[str] = set()  # a queue's run ends at its first message not due (a retry waiting)
            for row in await connection.execute(queued):
                run = runs[row.address]
                if row.address in ended or row.id < first[row.address]:
                    continue
                if not row.due or len(run) >= self.run_length:
                    ended.add(row.address)
                    continue
                run.append(row)
            rows = sorted((r for run in runs.values() for r in run), key=lambda r: r.id)
            await connection.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(state="sending", lease_until=now + timedelta(seconds=lease_seconds))
            )
        return [
            OutboxRecord(
                id=r.id,
                address=r.address,
                recipient=Recipient(wa_id=r.wa_id, user_id=r.user_id, via=r.via),
                payload=r.payload,
                attempts=r.attempts,
            )
            for r in rows
        ]

    async def settle(self, outcomes: Sequence[Settled]) -> None:
        sent = [
            {"_id": o.record.id, "_message_id": o.message_id, "_at": o.at, "_attempts": o.record.attempts + 1}
            for o in outcomes
            if o.state == "sent"
        ]
        dead: list[dict[str, Any]] = []  # given up with nothing in their place: listed for officers
        async with self.engine.begin() as connection:
            if sent:
                await connection.execute(_MARK_SENT, sent)
            for o in outcomes:
                if o.state == "sent":
                    continue
                attempts = o.record.attempts + (1 if o.tried else 0)
                values: dict[str, Any] = {"state": o.state, "attempts": attempts, "lease_until": None}
                if o.state == "pending":
                    values["next_attempt_at"] = o.at
                await connection.execute(
                    update(outbox).where(outbox.c.id == o.record.id).values(**values, **_error_values(o.error))
                )
                if o.follow_up is not None:
                    await enqueue_message(connection, o.record.address, o.record.recipient, o.follow_up, o.at)
                elif o.state != "pending" and o.record.payload.get("kind") not in NOT_LISTED:
                    record = o.record
                    dead.append(
                        _dead_letter(record.id, record.address, record.payload, o.state, o.error, attempts, o.at)
                    )
            if dead:
                await connection.execute(insert(dead_letters), dead)


_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("_id"))
    .values(
        state="sent",
        message_id=bindparam("_message_id"),
        sent_at=bindparam("_at"),
        attempts=bindparam("_attempts"),
        lease_until=None,
    )
)


def _due(now: datetime) -> ColumnElement[bool]:
    """An outbox message ready to go: pending and due, or left sending by a sender whose lease ran out."""
    return or_(
        and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= now),
        and_(outbox.c.state == "sending", outbox.c.lease_until < now),
    )


class SqlStatuses:
    """Delivery statuses onto their messages. A `failed` one gives the message up for good: outside the 24-hour
    window (131047) `replace` names what goes in its place (its template), and a message nothing replaces goes
    to the dead letters."""

    def __init__(
        self, engine: AsyncEngine, *, replace: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None
    ) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self.replace = replace

    async def pending(self, limit: int, now: datetime) -> list[InboxRecord]:
        query = (
            select(inbox)
            .where(
                inbox.c.state == "pending",
                inbox.c.kind == "status",
                or_(inbox.c.not_before.is_(None), inbox.c.not_before <= now),
            )
            .order_by(inbox.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return [_record(r) for r in await connection.execute(query)]

    async def apply(self, record: InboxRecord, status: DeliveryStatus | None, now: datetime) -> bool:
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                update(inbox).where(inbox.c.id == record.id, inbox.c.state == "pending").values(state="working")
            )
            if claimed.rowcount != 1:
                return True  # another worker has it
            if status is None:
                await connection.execute(
                    update(inbox).where(inbox.c.id == record.id).values(state="failed", processed_at=now)
                )
                return True
            current = await connection.execute(
                select(
                    outbox.c.id,
                    outbox.c.delivery,
                    outbox.c.address,
                    outbox.c.wa_id,
                    outbox.c.user_id,
                    outbox.c.payload,
                    outbox.c.attempts,
                ).where(outbox.c.message_id == status.message_id)
            )
            row = current.first()
            if row is None:
                await connection.rollback()
                return False
            if advances(row.delivery, status.state):
                error = status.errors[0] if status.errors else None
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(delivery=status.state, delivery_at=status.at, **_error_values(error))
                )
                if status.state == "failed":
                    await self._gave_up(connection, row, error, now)
            await connection.execute(
                update(inbox).where(inbox.c.id == record.id).values(state="done", processed_at=now)
            )
            return True

    async def _gave_up(self, connection: AsyncConnection, row: Any, error: ChannelError | None, now: datetime) -> None:
        """A message Meta accepted and then could not deliver: its replacement queued, else a dead letter."""
        payload: Mapping[str, Any] = row.payload
        if payload.get("kind") in NOT_LISTED:
            return
        code = error.code if error else None
        if code == OUTSIDE_WINDOW and self.replace is not None:
            follow_up = self.replace(payload)
            if follow_up is not None:
                recipient = Recipient(wa_id=row.wa_id, user_id=row.user_id)
                await enqueue_message(connection, row.address, recipient, follow_up, now)
                return
        state = {OUTSIDE_WINDOW: "outside_window", UNDELIVERABLE: "undeliverable"}.get(code or 0, "failed")
        dead = _dead_letter(row.id, row.address, payload, state, error, row.attempts, now)
        await connection.execute(insert(dead_letters).values(dead))

    async def postpone(self, record: InboxRecord, until: datetime, *, give_up: bool) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(inbox)
                .where(inbox.c.id == record.id)
                .values(
                    attempts=record.attempts + 1,
                    not_before=until,
                    state="ignored" if give_up else "pending",
                    error="no outbound message with this id" if give_up else None,
                )
            )
