"""The dead-letter list: messages given up for good (rows written by the outbox and the statuses), and
their retry as new messages, marked and audited in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.officers import write_audit
from sevamitra.adapters.sql.stores import outbox_row
from sevamitra.adapters.sql.tables import dead_letters, outbox
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import DeadLetter

RETRY_AT_ONCE = 1000  # the most one "retry all" queues; the rest stay listed for the next press
AUDITED_IDS = 100  # dead-letter ids named in the audit row (the count is always whole)


class SqlDeadLetters:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)

    async def waiting(self, limit: int) -> tuple[list[DeadLetter], int]:
        waiting = dead_letters.c.retried_at.is_(None)
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(dead_letters).where(waiting).order_by(dead_letters.c.id.desc()).limit(limit)
            )
            found = [
                DeadLetter(
                    id=r.id,
                    address=r.address,
                    kind=r.kind,
                    state=r.state,
                    error_code=r.error_code,
                    error=r.error,
                    attempts=r.attempts,
                    dead_at=r.dead_at,
                )
                for r in rows
            ]
            total = await connection.scalar(select(func.count()).select_from(dead_letters).where(waiting))
        return found, int(total or 0)

    async def retry(self, ids: Sequence[int] | None, *, officer_id: int, now: datetime, ip: str | None) -> int:
        query = (
            select(dead_letters.c.id, outbox.c.address, outbox.c.wa_id, outbox.c.user_id, outbox.c.payload)
            .select_from(dead_letters.join(outbox, outbox.c.id == dead_letters.c.outbox_id))
            .where(dead_letters.c.retried_at.is_(None))
            .order_by(dead_letters.c.id)
            .limit(RETRY_AT_ONCE)
        )
        if ids is not None:
            query = query.where(dead_letters.c.id.in_(list(ids)))
        if not self.sqlite:  # two officers pressing at once queue each message once (SQLite: one writer at a time)
            query = query.with_for_update(of=dead_letters, skip_locked=True)
        async with self.engine.begin() as connection:
            rows = (await connection.execute(query)).all()
            for row in rows:
                queued = outbox_row(row.address, Recipient(wa_id=row.wa_id, user_id=row.user_id), row.payload, now)
                new_id = (await connection.execute(insert(outbox).values(queued).returning(outbox.c.id))).scalar_one()
                await connection.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id == row.id)
                    .values(retried_at=now, retried_by=officer_id, retry_outbox_id=new_id)
                )
            retried = [row.id for row in rows]
            detail = {"count": len(retried), "all": ids is None, "dead_letters": retried[:AUDITED_IDS]}
            await write_audit(
                connection, at=now, officer_id=officer_id, action="dead_letters_retried", detail=detail, ip=ip
            )
        return len(retried)
