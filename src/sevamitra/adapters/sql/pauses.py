"""Numbers whose sending is paused, one row each, seen by every process (SQLite and PostgreSQL).

A row appears when Meta refuses a number's access token (code 190) and goes when a probe send
succeeds. Taking the probe is one conditional UPDATE, so of many processes exactly one tries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Executable, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.tables import outbox, sending_pauses
from sevamitra.core.messages import ChannelError
from sevamitra.core.ports import SendingPause

TOKEN_REFUSED = 190  # the error code the held messages carry


class SqlSendingPauses:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)

    async def current(self) -> dict[str, SendingPause]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(sending_pauses))
        return {
            r.phone_number_id: SendingPause(
                number=r.phone_number_id,
                error_code=r.error_code,
                reason=r.reason,
                paused_at=r.paused_at,
                next_probe_at=r.next_probe_at,
                probes=r.probes,
            )
            for r in rows
        }

    async def pause(self, number: str, error: ChannelError, now: datetime, probe_at: datetime, token: str) -> bool:
        reason = f"{error.title}: {error.message or ''}".strip(": ")[:500]
        row = {
            "phone_number_id": number,
            "error_code": error.code,
            "reason": reason,
            "paused_at": now,
            "next_probe_at": probe_at,
            "probes": 0,
            "token": token[:16],
        }
        statement: Executable
        if self.sqlite:
            statement = sqlite_insert(sending_pauses).values(row).on_conflict_do_nothing()
        else:
            statement = postgres_insert(sending_pauses).values(row).on_conflict_do_nothing()
        async with self.engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def claim_probe(self, number: str, now: datetime, next_probe_at: datetime) -> bool:
        statement = (
            update(sending_pauses)
            .where(sending_pauses.c.phone_number_id == number, sending_pauses.c.next_probe_at <= now)
            .values(next_probe_at=next_probe_at, probes=sending_pauses.c.probes + 1)
        )
        async with self.engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def resume(self, number: str) -> bool:
        async with self.engine.begin() as connection:
            deleted = await connection.execute(delete(sending_pauses).where(sending_pauses.c.phone_number_id == number))
            return deleted.rowcount == 1

    async def probe_sooner(self, token: str, now: datetime) -> int:
        statement = (
            update(sending_pauses)
            .where(sending_pauses.c.token != token[:16], sending_pauses.c.next_probe_at > now)
            .values(next_probe_at=now)
        )
        # the messages the refusal held back are due now too: the probe needs one to send
        held = (
            update(outbox)
            .where(outbox.c.state == "pending", outbox.c.error_code == TOKEN_REFUSED, outbox.c.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
        async with self.engine.begin() as connection:
            sooner = (await connection.execute(statement)).rowcount
            if sooner:
                await connection.execute(held)
            return sooner
