"""The send budgets of WhatsApp numbers shared by every sending process: in PostgreSQL and in Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as redis

from sevamitra.adapters.redis_budget import RedisSendBudget, redis_send_budget
from sevamitra.adapters.sql.budget import SqlSendBudget
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.core.ports import SendBudget

REDIS_URL = os.environ.get("SEVAMITRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NUMBER, OTHER = "106540352242922", "999000111222333"

Budgets = Callable[[float, float], SendBudget]  # (rate, capacity) -> a budget on its own connections: a process


@pytest.fixture
async def redis_client() -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
        await client.aclose()
        if IN_CI:
            pytest.fail(f"CI must test Redis too: nothing answers at SEVAMITRA_TEST_REDIS_URL={REDIS_URL} ({error})")
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: redis.Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"sevamitra:test:{uuid.uuid4().hex}:"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture(params=["postgres", "redis"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Overrides conftest's: its fresh migrated PostgreSQL schema for the SQL budget; none for Redis."""
    if request.param == "redis":
        return None
    url: str = request.getfixturevalue("database_url")  # conftest's, for this same parameter
    return url


@pytest.fixture
async def closing() -> AsyncIterator[list[Callable[[], Awaitable[None]]]]:
    """What closes the connections a test opened, run after it."""
    closes: list[Callable[[], Awaitable[None]]] = []
    yield closes
    for close in closes:
        await close()


@pytest.fixture
def budgets(
    database_url: str | None, closing: list[Callable[[], Awaitable[None]]], request: pytest.FixtureRequest
) -> Budgets:
    """Makes budgets of one store, each on connections of its own, as separate processes have."""

    def in_postgres(url: str, rate: float, capacity: float) -> SendBudget:
        engine = create_engine(url)
        closing.append(engine.dispose)
        return SqlSendBudget(engine, rate, capacity)

    def in_redis(prefix: str, rate: float, capacity: float) -> SendBudget:
        budget, close = redis_send_budget(REDIS_URL, rate, capacity, prefix)
        closing.append(close)
        return budget

    if database_url is not None:
        url = database_url
        return lambda rate, capacity: in_postgres(url, rate, capacity)
    prefix: str = request.getfixturevalue("redis_prefix")
    return lambda rate, capacity: in_redis(prefix, rate, capacity)


async def test_a_full_bucket_sends_at_once_then_one_slot_apart(budgets: Budgets) -> None:
    budget = budgets(4.0, 5.0)
    assert await budget.take(NUMBER, 0) == []
    assert await budget.take(NUMBER, 7) == pytest.approx([0, 0, 0, 0, 0, 0.25, 0.5])
    later = await budget.take(NUMBER, 2)  # the queue goes on; what refilled meanwhile shortens it a little
    assert 0.65 < later[0] <= 0.75 + 1e-9
    assert later[1] - later[0] == pytest.approx(0.25)
    [last] = await budget.take(NUMBER)
    assert 1.15 < last <= 1.25 + 1e-9


async def test_the_bucket_refills_with_time_up_to_its_capacity(budgets: Budgets) -> None:
    budget = budgets(20.0, 4.0)
    assert await budget.take(NUMBER, 4) == [0, 0, 0, 0]
    [wait] = await budget.take(NUMBER)
    assert 0 < wait <= 0.05
    await asyncio.sleep(0.2)  # four tokens back, less the one owed
    assert await budget.take(NUMBER, 2) == [0, 0]
    await asyncio.sleep(0.5)  # ten tokens' time, but the bucket holds four
    assert await budget.take(NUMBER, 5) == pytest.approx([0, 0, 0, 0, 0.05])


async def test_each_number_has_its_own_budget(budgets: Budgets) -> None:
    budget = budgets(4.0, 3.0)
    assert (await budget.take(NUMBER, 5))[3:] == pytest.approx([0.25, 0.5])
    assert await budget.take(OTHER, 3) == [0, 0, 0]
    [wait] = await budget.take(NUMBER)
    assert wait > 0.5


async def test_many_takers_in_two_processes_share_one_budget(budgets: Budgets) -> None:
    rate, capacity = 50.0, 10.0
    processes = [budgets(rate, capacity), budgets(rate, capacity)]
    clock = asyncio.get_running_loop().time
    taken: list[tuple[float, list[float]]] = []  # (when the take returned, its waits)

    async def taker(n: int) -> None:
        for i in range(10):
            waits = await processes[n % 2].take(NUMBER, 1 + (n + i) % 3)
            taken.append((clock(), waits))

    start = clock()
    await asyncio.gather(*(taker(n) for n in range(8)))
    elapsed = clock() - start
    total = sum(len(waits) for _, waits in taken)
    every = [wait for _, waits in taken for wait in waits]
    assert every.count(0) <= capacity + rate * elapsed
    # By any moment, no more sends fall due than the bucket held at first plus what refilled since.
    due = sorted(returned + wait for returned, waits in taken for wait in waits)
    assert all(k + 1 <= capacity + rate * (moment - start) + 1e-6 for k, moment in enumerate(due))
    # Nobody waits longer than the whole queue, and the last waits about as long as it.
    assert (total - capacity) / rate - elapsed - 1e-6 <= max(every) <= (total - capacity) / rate + 1e-6


async def test_a_redis_budget_expires_once_it_would_have_refilled(redis_client: redis.Redis, redis_prefix: str) -> None:
    budget = RedisSendBudget(redis_client, 1.0, 10.0, redis_prefix)
    await budget.take(NUMBER, 10)  # empty: ten seconds to refill
    assert 10_000 < await redis_client.pttl(f"{redis_prefix}{NUMBER}") <= 11_000
