"""The send budgets of WhatsApp numbers, shared by every sending process through PostgreSQL.

Meta limits how fast one number may send; with several workers each holding its own token bucket
the number would exceed it. Here each number's bucket is one row: a batch of sends takes its tokens
in one atomic UPDATE against the database's clock, so every process on every host sees the same
budget. A negative balance is the queue: each taker waits until its token would have been there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.tables import send_budgets
from sevamitra.core.ratelimit import waits

_TAKE = text(
    """
    UPDATE send_budgets SET
      tokens = LEAST(:capacity, tokens + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) * :rate)
        - :count,
      updated_at = clock_timestamp()
    WHERE phone_number_id = :number
    RETURNING tokens
    """
)


@dataclass(frozen=True, slots=True)
class SqlSendBudget:
    """A token bucket per number, one row each in `send_budgets`. PostgreSQL only."""

    engine: AsyncEngine
    rate: float  # sends a second
    capacity: float  # the largest burst

    async def take(self, number: str, count: int = 1) -> list[float]:
        """Take `count` sends of `number`; returns the seconds to wait before each (0: now), in order."""
        if count < 1:
            return []
        values = {"capacity": self.capacity, "rate": self.rate, "count": float(count), "number": number}
        async with self.engine.begin() as connection:
            found = (await connection.execute(_TAKE, values)).scalar_one_or_none()
            if found is None:  # the number's first send: a full bucket
                row = {"phone_number_id": number, "tokens": self.capacity, "updated_at": text("clock_timestamp()")}
                statement = insert(send_budgets).values(**row)
                await connection.execute(statement.on_conflict_do_nothing(index_elements=["phone_number_id"]))
                found = (await connection.execute(_TAKE, values)).scalar_one()
        return waits(float(found), count, self.rate)
