"""How much waits in the inbox and the outbox, and for how long: read at each metrics scrape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.stores import PROCESSED_KINDS
from sevamitra.adapters.sql.tables import inbox, outbox

OUTBOX_WAITING = ("pending", "sending")  # not sent, not given up: due now, later (a retry) or in flight


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    waiting: int
    oldest_age_seconds: float  # 0 when nothing waits


async def queues(engine: AsyncEngine, now: datetime) -> dict[str, Queue]:
    """The inbox's messages and statuses not yet processed, and the outbox's messages not yet sent."""
    waiting_in = select(func.count(), func.min(inbox.c.received_at)).where(
        inbox.c.state == "pending", inbox.c.kind.in_(PROCESSED_KINDS)
    )
    waiting_out = select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.state.in_(OUTBOX_WAITING))
    async with engine.connect() as connection:
        found = {
            "inbox": (await connection.execute(waiting_in)).one(),
            "outbox": (await connection.execute(waiting_out)).one(),
        }
    return {
        name: Queue(waiting=int(count), oldest_age_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        for name, (count, oldest) in found.items()
    }
