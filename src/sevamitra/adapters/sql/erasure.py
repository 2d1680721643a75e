"""Erasure requests and their execution on SQLAlchemy Core; the masking of Aadhaar numbers in the text of
messages already processed.

One citizen's erasure is one transaction: their conversation, answers, photos, messages, payment details,
rating comments and alerts are deleted or reduced to what statistics need, and the request is marked done;
a crash leaves all of it or none, and the next round takes it again. Rows that stay (applications,
payments, certificates, messages) name the citizen by `erased:<request id>`, which is nobody's number.
The transparency log, the officers' audit log and the rows of other citizens are not touched.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.tables import (
    application_events,
    applications,
    attachments,
    certificates,
    conversations,
    erasure_requests,
    inbox,
    metadata,
    outbox,
    payment_events,
    payments,
    privacy_marks,
    ratings,
    subscriptions,
)
from sevamitra.core.applications import Status
from sevamitra.core.erasure import (
    DONE,
    RECHECK,
    WAITING,
    ApplicationTimes,
    ErasureScheduled,
    erased_address,
    erased_decision,
    erased_detail,
    erased_fragment,
    erased_message,
    erasure_due,
    held_back,
    masked_fragment,
)
from sevamitra.core.ports import ErasureOutcome, Sealer

MASKED_MARK = "inbox_masked"  # privacy_marks: every processed message up to here has its Aadhaar numbers masked
UNSENT = ("pending", "sending")  # outbox messages still on their way: left as they are


def citizen_lock_key(address: str) -> int:
    """The key of the citizen's PostgreSQL advisory lock: the same as the turn worker's (stores._lock_key),
    so an erasure never runs while one of their messages is being answered."""
    return int.from_bytes(hashlib.sha256(address.encode()).digest()[:8], "big", signed=True)


def _hashed(value: str) -> str:
    """A channel message id (which spells the citizen's number in base64) as an opaque, still unique key."""
    return "erased:" + hashlib.sha256(value.encode()).hexdigest()[:40]


async def _application_times(connection: AsyncConnection, address: str) -> list[ApplicationTimes]:
    rows = await connection.execute(
        select(applications.c.status, applications.c.updated_at, applications.c.decided_at).where(
            applications.c.address == address
        )
    )
    return [
        ApplicationTimes(status=Status(r.status), last_change=max(t for t in (r.updated_at, r.decided_at) if t))
        for r in rows
    ]


async def record_erasure_request(
    connection: AsyncConnection, address: str, now: datetime, retention: timedelta
) -> ErasureScheduled:
    """The citizen's request, in the caller's transaction (their turn holds the citizen's lock); asked
    again while one waits, the first stands."""
    times = await _application_times(connection, address)
    waiting = (
        await connection.execute(
            select(erasure_requests.c.requested_at, erasure_requests.c.due_at)
            .where(erasure_requests.c.address == address, erasure_requests.c.status == WAITING)
            .order_by(erasure_requests.c.id)
            .limit(1)
        )
    ).first()
    if waiting is not None:
        return ErasureScheduled(
            requested_at=waiting.requested_at, due_at=waiting.due_at, open_applications=held_back(times), again=True
        )
    due = erasure_due(now, times, retention)
    await connection.execute(
        insert(erasure_requests).values(address=address, requested_at=now, due_at=due, status=WAITING)
    )
    return ErasureScheduled(requested_at=now, due_at=due, open_applications=held_back(times), again=False)


class SqlErasures:
    """The worker's side: due requests carried out, and processed messages masked (the `Erasures` port)."""

    def __init__(self, engine: AsyncEngine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self.sqlite = is_sqlite(engine)

    async def due(self, now: datetime, limit: int) -> list[int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(erasure_requests.c.id)
                .where(erasure_requests.c.status == WAITING, erasure_requests.c.due_at <= now)
                .order_by(erasure_requests.c.due_at, erasure_requests.c.id)
                .limit(limit)
            )
            return [row.id for row in rows]

    async def carry_out(self, request_id: int, now: datetime, retention: timedelta) -> ErasureOutcome | None:
        async with self.engine.begin() as connection:
            query = select(erasure_requests).where(
                erasure_requests.c.id == request_id, erasure_requests.c.status == WAITING
            )
            if not self.sqlite:  # SQLite's IMMEDIATE transactions already exclude every other writer
                query = query.with_for_update(skip_locked=True)
            request = (await connection.execute(query)).first()
            if request is None or request.address is None:
                return None
            address: str = request.address
            if not self.sqlite:
                locked = await connection.scalar(select(func.pg_try_advisory_xact_lock(citizen_lock_key(address))))
                if not locked:  # one of their messages is being answered: next round
                    return None
            times = await _application_times(connection, address)
            due = erasure_due(request.requested_at, times, retention)
            if held_back(times) or due > now:
                later = max(due, now + RECHECK) if held_back(times) else due
                await connection.execute(
                    update(erasure_requests).where(erasure_requests.c.id == request_id).values(due_at=later)
                )
                return ErasureOutcome(request_id=request_id, done=False, erased={}, postponed_to=later)
            erased = await _erase(connection, self.sealer, address, erased_address(request_id))
            await connection.execute(
                update(erasure_requests)
                .where(erasure_requests.c.id == request_id)
                .values(status=DONE, done_at=now, address=None, erased=erased)
            )
            return ErasureOutcome(request_id=request_id, done=True, erased=erased)

    async def mask_processed_messages(self, now: datetime, limit: int) -> int:
        """Mask Aadhaar numbers in messages processed since the mark, in arrival order; the mark stops before
        the first message still pending (those after it are masked now and read again, unchanged, later).
        Read without the write lock; a write transaction only when there is something to write."""
        async with self.engine.connect() as connection:
            mark = await connection.scalar(select(privacy_marks.c.position).where(privacy_marks.c.name == MASKED_MARK))
            start = int(mark or 0)
            rows = (
                await connection.execute(
                    select(inbox.c.id, inbox.c.key, inbox.c.state, inbox.c.fragment)
                    .where(inbox.c.id > start, inbox.c.kind == "message")
                    .order_by(inbox.c.id)
                    .limit(limit)
                )
            ).all()
        changed: list[dict[str, Any]] = []
        reached, blocked = start, False
        for row in rows:
            if row.state == "pending":
                blocked = True
                continue
            masked = masked_fragment(row.fragment)
            if masked != row.fragment:
                changed.append({"_id": row.id, "_key": row.key, "_fragment": masked})
            if not blocked:
                reached = row.id
        if changed or reached > start:
            async with self.engine.begin() as connection:
                if changed:  # an erasure meanwhile changed the key, and its own reduced fragment stands
                    await connection.execute(_SET_FRAGMENT, changed)
                if reached > start:
                    await _advance(connection, MASKED_MARK, reached, now, new=mark is None)
        return len(changed) + sum(1 for row in rows if start < row.id <= reached)


_SET_FRAGMENT = (
    update(inbox)
    .where(inbox.c.id == bindparam("_id"), inbox.c.key == bindparam("_key"))
    .values(fragment=bindparam("_fragment"))
)


async def _advance(connection: AsyncConnection, name: str, reached: int, now: datetime, *, new: bool) -> None:
    if new:  # the migration adds the mark; a database made otherwise gets it here
        await connection.execute(insert(privacy_marks).values(name=name, position=reached, updated_at=now))
        return
    await connection.execute(
        update(privacy_marks)
        .where(privacy_marks.c.name == name, privacy_marks.c.position < reached)
        .values(position=reached, updated_at=now)
    )


# ---------------------------------------------------------------- one citizen's erasure


async def _erase(connection: AsyncConnection, sealer: Sealer, address: str, standin: str) -> dict[str, int]:
    """Every table's share of one citizen's personal data; returns the rows changed per table."""
    erased: dict[str, int] = {}
    references = [
        r.reference
        for r in await connection.execute(select(applications.c.reference).where(applications.c.address == address))
    ]
    gone = await connection.execute(delete(conversations).where(conversations.c.address == address))
    erased["conversations"] = gone.rowcount
    erased["applications"] = await _erase_applications(connection, sealer, address, standin)
    erased |= await _erase_by_reference(connection, references)
    erased |= await _erase_payments(connection, address, standin)
    erased["certificates"] = await _erase_certificates(connection, address, standin)
    gone = await connection.execute(delete(subscriptions).where(subscriptions.c.address == address))
    erased["subscriptions"] = gone.rowcount
    erased["inbox"] = await _erase_inbox(connection, address, standin)
    erased["outbox"] = await _erase_outbox(connection, address, standin)
    erased |= await _anonymise_others(connection, address, standin)
    return {table: count for table, count in erased.items() if count}


async def _erase_applications(connection: AsyncConnection, sealer: Sealer, address: str, standin: str) -> int:
    """Answers emptied (sealed `{}`), registry facts and shared locations dropped; service, district, desk,
    status, fee and dates stay for statistics."""
    rows = (
        await connection.execute(
            select(applications.c.id, applications.c.decision).where(applications.c.address == address)
        )
    ).all()
    if rows:
        empty = sealer.seal(b"{}")
        await connection.execute(
            update(applications)
            .where(applications.c.id == bindparam("_id"))
            .values(
                address=standin,
                wa_id=None,
                user_id=None,
                answers=empty,
                decision=bindparam("_decision"),
                latitude=None,
                longitude=None,
            ),
            [{"_id": r.id, "_decision": erased_decision(r.decision)} for r in rows],
        )
    return len(rows)


async def _erase_by_reference(connection: AsyncConnection, references: list[str]) -> dict[str, int]:
    """The applications' history without free text, officers' photos deleted, rating comments dropped."""
    if not references:
        return {}
    events = (
        await connection.execute(
            select(application_events.c.id, application_events.c.detail).where(
                application_events.c.reference.in_(references), application_events.c.detail.is_not(None)
            )
        )
    ).all()
    changed = [{"_id": e.id, "_detail": erased_detail(e.detail)} for e in events if erased_detail(e.detail) != e.detail]
    if changed:
        await connection.execute(
            update(application_events)
            .where(application_events.c.id == bindparam("_id"))
            .values(detail=bindparam("_detail")),
            changed,
        )
    photos = await connection.execute(delete(attachments).where(attachments.c.reference.in_(references)))
    comments = await connection.execute(
        update(ratings).where(ratings.c.reference.in_(references), ratings.c.comment.is_not(None)).values(comment=None)
    )
    return {"application_events": len(changed), "attachments": photos.rowcount, "ratings": comments.rowcount}


async def _erase_payments(connection: AsyncConnection, address: str, standin: str) -> dict[str, int]:
    """Amounts, statuses and the gateway's reference stay (the accounts need them); the pay link, the
    order message and the gateway's webhook payloads (payer details) go."""
    rows = (
        await connection.execute(select(payments.c.id, payments.c.detail).where(payments.c.address == address))
    ).all()
    if not rows:
        return {}
    await connection.execute(
        update(payments)
        .where(payments.c.id == bindparam("_id"))
        .values(address=standin, link=None, detail=bindparam("_detail")),
        [{"_id": r.id, "_detail": {"purpose": (r.detail or {}).get("purpose", ""), "erased": True}} for r in rows],
    )
    events = await connection.execute(
        update(payment_events)
        .where(payment_events.c.payment_id.in_([r.id for r in rows]), payment_events.c.detail.is_not(None))
        .values(detail=None)
    )
    return {"payments": len(rows), "payment_events": events.rowcount}


async def _erase_certificates(connection: AsyncConnection, address: str, standin: str) -> int:
    """The PDF as sent goes, and its download link with it; the signed QR payload stays (it holds what the
    holder's paper shows, identifiers masked: verification, revocation and the log commit to it)."""
    numbers = [
        r.number
        for r in await connection.execute(select(certificates.c.number).where(certificates.c.address == address))
    ]
    if numbers:
        await connection.execute(
            update(certificates)
            .where(certificates.c.number == bindparam("_number"))
            .values(address=standin, pdf=b"", alerts=False, download_token=bindparam("_token")),
            [{"_number": n, "_token": f"erased-{secrets.token_hex(16)}"} for n in numbers],
        )
    return len(numbers)


async def _erase_inbox(connection: AsyncConnection, address: str, standin: str) -> int:
    """Messages and statuses received, reduced to their kind and type; a message still pending (written
    after the erasure fell due) is left to be answered."""
    rows = (
        await connection.execute(
            select(inbox.c.id, inbox.c.key, inbox.c.kind, inbox.c.fragment).where(
                inbox.c.address == address, inbox.c.state != "pending"
            )
        )
    ).all()
    if rows:
        await connection.execute(
            update(inbox)
            .where(inbox.c.id == bindparam("_id"))
            .values(address=standin, key=bindparam("_key"), fragment=bindparam("_fragment"), error=None),
            [
                {"_id": r.id, "_key": _hashed(r.key), "_fragment": erased_fragment(r.kind, r.fragment or {})}
                for r in rows
            ],
        )
    return len(rows)


async def _erase_outbox(connection: AsyncConnection, address: str, standin: str) -> int:
    """Messages sent, reduced to their kind; delivery states and times stay."""
    rows = (
        await connection.execute(
            select(outbox.c.id, outbox.c.payload, outbox.c.message_id).where(
                outbox.c.address == address, outbox.c.state.not_in(UNSENT)
            )
        )
    ).all()
    if rows:
        await connection.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("_id"))
            .values(
                address=standin,
                wa_id=None,
                user_id=None,
                payload=bindparam("_payload"),
                message_id=bindparam("_message_id"),
                error=None,
            ),
            [
                {
                    "_id": r.id,
                    "_payload": erased_message(r.payload or {}),
                    "_message_id": _hashed(r.message_id) if r.message_id else None,
                }
                for r in rows
            ],
        )
    return len(rows)


_HANDLED = frozenset(
    {"applications", "certificates", "conversations", "inbox", "outbox", "payments", "subscriptions"}
)  # tables with an `address` column erased above; the erasure requests themselves are done apart
_FREE_TEXT = ("error", "detail", "message", "comment", "note", "text")  # columns of others that may hold personal data


async def _anonymise_others(connection: AsyncConnection, address: str, standin: str) -> dict[str, int]:
    """Any other table that names citizens by `address` (one added since, say): the citizen replaced by the
    stand-in, and its nullable free-text columns emptied."""
    found: dict[str, int] = {}
    for table in _other_citizen_tables():
        values: dict[str, Any] = {"address": standin}
        values |= {c: None for c in _FREE_TEXT if c in table.c and table.c[c].nullable}
        result = await connection.execute(update(table).where(table.c.address == address).values(values))
        found[table.name] = result.rowcount
    return found


def _other_citizen_tables() -> list[Table]:
    return [
        table
        for table in metadata.sorted_tables
        if "address" in table.c and table.name not in _HANDLED and table is not erasure_requests
    ]
