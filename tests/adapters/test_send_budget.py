"""One WhatsApp number's send budget shared by every sending process, in PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from sevamitra.adapters.sql.budget import SqlSendBudget
from sevamitra.adapters.sql.engine import create_engine

RATE, CAPACITY, TAKES = 20.0, 5.0, 60


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_processes_share_one_budget(database_url: str) -> None:
    first, second = create_engine(database_url), create_engine(database_url)  # two pools, as two processes have
    try:
        budgets = [SqlSendBudget(engine, "106540352242922", RATE, CAPACITY) for engine in (first, second)]
        other = SqlSendBudget(first, "999000111222333", RATE, CAPACITY)  # another number: its own budget
        waits = await asyncio.gather(*(budgets[i % 2].take() for i in range(TAKES)))
        assert sum(1 for w in waits if w == 0) <= CAPACITY + 1  # a full bucket at first, then the queue
        longest = max(waits)
        assert (TAKES - CAPACITY) / RATE - 0.5 <= longest <= (TAKES - CAPACITY) / RATE + 0.05
        assert len({round(w * RATE) for w in waits if w > 0}) >= TAKES - CAPACITY - 2  # one slot each, no sharing
        assert await other.take() == 0.0
    finally:
        await first.dispose()
        await second.dispose()
