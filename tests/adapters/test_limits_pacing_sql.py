"""A citizen who writes too fast, through the real turn worker and database (SQLite and PostgreSQL): told once
to wait a moment, every message kept and answered later in order, and no one else held up meanwhile."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import Turns, converse
from sevamitra.adapters.sql.stores import SqlConversations, SqlInbox
from sevamitra.adapters.sql.tables import inbox, outbox
from sevamitra.core.pacing import SLOW_DOWN, Pace
from sevamitra.testing.clock import FixedClock
from tests.adapters.test_sql_spine import CONTEXT, SEALER, items, rows, text_update, turns

HASTY = "919000000011"
CALM = "919000000022"
PACE = Pace(per_minute=6, burst=3)  # three at once, then one every ten seconds


def paced(engine: AsyncEngine, clock: FixedClock) -> Turns:
    return dataclasses.replace(turns(engine, clock, SqlConversations(engine, SEALER)), pace=PACE)


async def answered(engine: AsyncEngine, wa_id: str) -> list[str]:
    """The message ids marked read for this citizen, in the order their turns ran."""
    queued = await rows(engine, outbox)
    return [r.payload["message_id"] for r in queued if r.wa_id == wa_id and r.payload["kind"] == "mark_read"]


async def texts_to(engine: AsyncEngine, wa_id: str) -> list[str]:
    return [r.payload["body"] for r in await rows(engine, outbox) if r.wa_id == wa_id and r.payload["kind"] == "text"]


async def test_a_hasty_citizen_is_told_once_and_every_message_is_answered_later_in_order(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    worker = paced(engine, clock)
    sent = [f"wamid.H{i}" for i in range(6)]
    for i, message_id in enumerate(sent):
        await store.add(items(text_update(HASTY, "hi", message_id, timestamp=1768469400 + i)), clock.now())

    assert await converse(worker, limit=10) == 3  # the burst
    assert await answered(engine, HASTY) == sent[:3]
    slow_down = "\n\n".join(CONTEXT.texts.get(language, SLOW_DOWN) for language in ("te", "en"))
    assert (await texts_to(engine, HASTY)).count(slow_down) == 1
    states = [r.state for r in await rows(engine, inbox)]
    assert states == ["done"] * 3 + ["pending"] * 3  # kept, not dropped

    assert await converse(worker, limit=10) == 0  # nothing is due yet: no turn, no second warning
    await store.add(items(text_update(HASTY, "hi", "wamid.H6", timestamp=1768469406)), clock.now())
    assert await converse(worker, limit=10) == 0  # a new message waits behind the older ones
    sent.append("wamid.H6")

    clock.advance(seconds=10)
    assert await converse(worker, limit=10) == 1
    assert await answered(engine, HASTY) == sent[:4]
    clock.advance(seconds=60)
    assert await converse(worker, limit=10) == 3  # refilled: the rest at once, in order
    assert await answered(engine, HASTY) == sent
    assert [r.state for r in await rows(engine, inbox)] == ["done"] * 7
    assert (await texts_to(engine, HASTY)).count(slow_down) == 1  # told once in the whole spell


async def test_a_paced_citizen_holds_up_no_one_else(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    worker = paced(engine, clock)
    for i in range(5):
        await store.add(items(text_update(HASTY, "hi", f"wamid.H{i}")), clock.now())
    assert await converse(worker, limit=1) == 3
    await store.add(items(text_update(CALM, "hi", "wamid.C0")), clock.now())
    assert await converse(worker, limit=1) == 1  # the one slot goes to the citizen whose message is due
    assert await answered(engine, CALM) == ["wamid.C0"]


async def test_the_warning_is_in_the_citizens_language(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    worker = paced(engine, clock)
    await store.add(items(text_update(HASTY, "hi", "wamid.L0")), clock.now())
    await converse(worker, limit=10)
    await store.add(items(text_update(HASTY, "2", "wamid.L1")), clock.now())  # 2: English, on the language menu
    await converse(worker, limit=10)
    for i in range(2, 5):
        await store.add(items(text_update(HASTY, "hi", f"wamid.L{i}")), clock.now())
    await converse(worker, limit=10)
    assert CONTEXT.texts.get("en", SLOW_DOWN) in await texts_to(engine, HASTY)
    assert CONTEXT.texts.get("te", SLOW_DOWN) not in "\n".join(await texts_to(engine, HASTY))


async def test_without_a_pace_every_message_is_taken_at_once(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    for i in range(6):
        await store.add(items(text_update(HASTY, "hi", f"wamid.N{i}")), clock.now())
    assert await converse(turns(engine, clock), limit=10) == 6
