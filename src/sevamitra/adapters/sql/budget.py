"""The send budget of one WhatsApp number, shared by every sending process through PostgreSQL.

Meta limits how fast one number may send; with several workers each holding its own token bucket
the number would exceed it. Here the bucket is one row: each send takes a token in one atomic
UPDATE against the database's clock, so every process on every host sees the same budget. A
negative balance is the queue: the taker waits until its token would have been there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.tables import send_budgets

_TAKE = text(
    """
    UPDATE send_budgets SET
      tokens = LEAST(:capacity, tokens + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) * :rate) - 1,
      updated_at = clock_timestamp()
    WHERE phone_number_id = :phone
    RETURNING tokens
    """
)


@dataclass
class SqlSendBudget:
    """`take()` → seconds to wait before sending (0 when a token is there now). PostgreSQL only."""

    engine: AsyncEngine
    phone_number_id: str
    rate: float  # sends a second
    capacity: float  # the largest burst

    async def take(self) -> float:
        async with self.engine.begin() as connection:
            found = (await connection.execute(_TAKE, self._values())).scalar_one_or_none()
            if found is None:  # the first send of this number: a full bucket
                row = {"phone_number_id": self.phone_number_id, "tokens": self.capacity}
                statement = insert(send_budgets).values(**row, updated_at=text("clock_timestamp()"))
                await connection.execute(statement.on_conflict_do_nothing(index_elements=["phone_number_id"]))
                found = (await connection.execute(_TAKE, self._values())).scalar_one()
        tokens = float(found)
        return 0.0 if tokens >= 0 else -tokens / self.rate

    def _values(self) -> dict[str, object]:
        return {"capacity": self.capacity, "rate": self.rate, "phone": self.phone_number_id}
