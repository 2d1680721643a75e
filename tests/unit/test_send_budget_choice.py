"""Where each number's send budget lives follows the settings: Redis when given, else the database."""

from __future__ import annotations

from sevamitra.actions.send import LocalSendBudget
from sevamitra.adapters.redis_budget import RedisSendBudget
from sevamitra.adapters.sql.budget import SqlSendBudget
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.bootstrap import send_budget
from sevamitra.settings import Settings

POSTGRES = "postgresql://postgres@127.0.0.1:5432/unused"  # never connected to: engines connect lazily


async def test_sqlite_keeps_the_budget_in_its_one_sending_process() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    budget, close = send_budget(Settings(send_rate_per_second=50), engine)
    assert isinstance(budget, LocalSendBudget) and (budget.rate, budget.capacity) == (50, 50) and close is None
    await engine.dispose()


async def test_postgresql_keeps_it_in_a_row_and_redis_when_configured() -> None:
    engine = create_engine(POSTGRES)
    budget, close = send_budget(Settings(), engine)
    assert isinstance(budget, SqlSendBudget) and close is None
    budget, close = send_budget(Settings(send_budget_redis_url="redis://127.0.0.1:6379/15"), engine)
    assert isinstance(budget, RedisSendBudget) and close is not None
    await close()
    await engine.dispose()
