"""The inbox's group commit on a real database (SQLite and PostgreSQL): one transaction for every
delivery that queued meanwhile, each caller told exactly how many of its items were new."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.stores import SqlInbox
from sevamitra.adapters.sql.tables import inbox
from sevamitra.core.ports import NewInboxItem

AT = datetime(2026, 1, 15, 9, 30, 12, 345678, tzinfo=UTC)


def item(key: str, *, kind: str = "message", address: str | None = "919000000001") -> NewInboxItem:
    return NewInboxItem(key=key, kind=kind, address=address, fragment={"key": key, "text": "నమస్కారం", "n": [1, 2.5]})


def counting_commits(store: SqlInbox) -> list[int]:
    """The number of callers in each transaction the store commits from now on."""
    sizes: list[int] = []
    commit = store._commit

    async def counted(batch: list[tuple[list[dict[str, Any]], asyncio.Future[int]]]) -> list[int]:
        sizes.append(len(batch))
        return await commit(batch)

    store._commit = counted  # type: ignore[method-assign]
    return sizes


async def together(store: SqlInbox, deliveries: Sequence[Sequence[NewInboxItem]]) -> list[int]:
    """Deliveries that arrive at once (each caller queues before the first commit starts)."""
    return await asyncio.gather(*(store.add(items, AT) for items in deliveries))


async def stored(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(inbox).order_by(inbox.c.id)))


async def test_each_caller_of_a_group_learns_exactly_how_many_of_its_items_were_new(engine: AsyncEngine) -> None:
    store = SqlInbox(engine)
    commits = counting_commits(store)
    first = await together(
        store,
        [
            [item("k1")],
            [item("k2"), item("k3", kind="status", address="919000000002")],
            [item("k1")],  # the same message from another caller of the same group: a duplicate
            [item("k4"), item("k4")],  # twice in one delivery: stored once
            [item("k5", kind="other", address=None)],
        ],
    )
    assert first == [1, 2, 0, 1, 1]
    second = await together(
        store,
        [
            [item("k1")],  # stored by the group before
            [item("k6"), item("k2")],
            [item("k6")],
            [item("k7"), item("k3", kind="status", address="919000000002")],
        ],
    )
    assert second == [0, 1, 0, 1]
    assert commits == [5, 4]  # one transaction per group
    rows = await stored(engine)
    assert [r.key for r in rows] == ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]  # arrival order, once each
    by_key = {r.key: r for r in rows}
    assert (by_key["k3"].kind, by_key["k3"].address, by_key["k3"].state) == ("status", "919000000002", "pending")
    assert (by_key["k5"].kind, by_key["k5"].address, by_key["k5"].state) == ("other", None, "ignored")
    assert all(r.fragment == item(r.key).fragment and r.attempts == 0 for r in rows)
    assert all(r.received_at.replace(tzinfo=UTC) == AT for r in rows)


async def test_a_group_larger_than_one_insert_is_still_one_transaction(engine: AsyncEngine) -> None:
    store = SqlInbox(engine)
    commits = counting_commits(store)
    assert await store.add([item("early-0"), item("early-1")], AT) == 2
    deliveries = [[item(f"big-{n}-{i}") for i in range(4)] for n in range(300)]  # 1,200 rows
    assert 2 * SqlInbox.ROWS_PER_INSERT < 4 * 300  # three INSERTs on SQLite, two on PostgreSQL
    deliveries[200][1] = item("big-3-0")  # the 802nd row repeats the 13th, which an earlier INSERT stored
    deliveries[299][3] = item("early-1")  # stored by the transaction before
    counts = await together(store, deliveries)
    assert counts[3] == 4 and counts[200] == 3 and counts[299] == 3
    assert sum(counts) == 4 * 300 - 2
    assert commits == [1, 300]
    assert len(await stored(engine)) == 2 + 4 * 300 - 2


async def test_a_failed_batch_fails_all_its_callers_and_the_next_one_commits(engine: AsyncEngine) -> None:
    store = SqlInbox(engine)
    broken = NewInboxItem(key="broken", kind=cast(str, None), address=None, fragment={})  # kind is NOT NULL
    results = await asyncio.gather(
        store.add([item("a1")], AT), store.add([broken], AT), store.add([item("a2")], AT), return_exceptions=True
    )
    assert all(isinstance(r, Exception) for r in results)
    assert await stored(engine) == []
    assert await together(store, [[item("a1")], [item("a2")]]) == [1, 1]
    assert [r.key for r in await stored(engine)] == ["a1", "a2"]


async def test_a_caller_that_goes_away_does_not_hold_up_the_others_of_its_batch(engine: AsyncEngine) -> None:
    store = SqlInbox(engine)
    gone = asyncio.create_task(store.add([item("g1")], AT))
    staying = asyncio.create_task(store.add([item("g2")], AT))
    await asyncio.sleep(0)  # both queued, the commit begun
    gone.cancel()
    assert await staying == 1
    assert [r.key for r in await stored(engine)] == ["g1", "g2"]  # queued items are committed all the same
