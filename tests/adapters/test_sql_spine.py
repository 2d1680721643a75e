"""The inbox, the turn worker, the outbox and statuses on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import Turns, converse
from sevamitra.actions.statuses import apply_statuses
from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.stores import SqlConversations, SqlInbox, SqlOutbox, SqlStatuses
from sevamitra.adapters.sql.tables import inbox, outbox
from sevamitra.adapters.whatsapp.webhook import parse_item, split_update
from sevamitra.core.conversation import Context
from sevamitra.core.ports import NewInboxItem, OutboxRecord, Settled
from sevamitra.testing.clock import FixedClock

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue"
CONTEXT = Context(
    catalogue=load_catalogue(FIXTURE),
    texts=load_texts(),
    places=load_jurisdictions(DEFAULT_CATALOGUE_DIR / "jurisdictions"),
)
SEALER = AesGcmSealer.from_secret("test-data-key")


class NoRegistry:
    async def lookup(self, registry: str, service_id: str, keys: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return None


def turns(engine: AsyncEngine, clock: FixedClock, conversations: SqlConversations | None = None) -> Turns:
    return Turns(
        conversations=conversations or SqlConversations(engine, SEALER),
        parse=parse_item,
        context=CONTEXT,
        clock=clock,
        registry=NoRegistry(),
    )


def text_update(wa_id: str, body: str, message_id: str, timestamp: int = 1768469400) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "919552300009", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Citizen"}, "wa_id": wa_id}],
        "messages": [
            {"from": wa_id, "id": message_id, "timestamp": str(timestamp), "type": "text", "text": {"body": body}}
        ],
    }
    update = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(update).encode()


def status_update(message_id: str, status: str, wa_id: str = "919000000001") -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "919552300009", "phone_number_id": "106540352242922"},
        "statuses": [{"id": message_id, "status": status, "timestamp": "1768469401", "recipient_id": wa_id}],
    }
    update = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(update).encode()


def items(raw: bytes) -> list[NewInboxItem]:
    return [NewInboxItem(key=i.key, kind=i.kind, address=i.address, fragment=i.fragment) for i in split_update(raw)]


async def rows(engine: AsyncEngine, table: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(table).order_by(table.c.id)))


async def test_a_redelivered_message_is_stored_once(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    raw = text_update("919000000001", "hi", "wamid.A")
    assert await store.add(items(raw), clock.now()) == 1
    assert await store.add(items(raw), clock.now()) == 0
    assert len(await rows(engine, inbox)) == 1


async def test_a_redelivered_message_is_answered_once(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    conversations = SqlConversations(engine, SEALER)
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    assert await converse(turns(engine, clock, conversations), limit=10) == 1
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    assert await converse(turns(engine, clock, conversations), limit=10) == 0
    replies = [r for r in await rows(engine, outbox) if r.payload["kind"] != "mark_read"]
    assert [r.payload["kind"] for r in replies] == ["text", "buttons"]


async def test_a_turn_saves_state_marks_read_and_queues_replies_together(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    conversations = SqlConversations(engine, SEALER)
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await converse(turns(engine, clock, conversations), limit=10)
    await store.add(items(text_update("919000000001", "1", "wamid.B")), clock.now())
    await converse(turns(engine, clock, conversations), limit=10)
    queued = await rows(engine, outbox)
    assert queued[0].payload == {"kind": "mark_read", "message_id": "wamid.A", "typing": True}
    assert queued[0].wa_id == "919000000001"
    assert [r.state for r in await rows(engine, inbox)] == ["done", "done"]
    async with conversations.turn("919000000001", clock.now()) as turn:
        assert turn is not None and turn.state is not None and turn.state["language"] == "te"


async def test_statuses_and_unknown_changes_are_kept_but_not_conversed(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    update = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}],
    }
    await store.add(items(json.dumps(update).encode()), clock.now())
    await store.add(items(b"not json at all"), clock.now())
    assert [r.state for r in await rows(engine, inbox)] == ["ignored", "ignored"]
    assert await converse(turns(engine, clock), limit=10) == 0


async def test_each_citizens_messages_are_processed_in_arrival_order_by_concurrent_workers(
    engine: AsyncEngine,
) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    citizens = [f"91900000{n:04d}" for n in range(6)]
    # hi → language list; "2" → English; then departments by number, menu, ...: order changes the outcome
    script = ["hi", "2", "1", "menu", "2", "back", "3", "menu"]
    for step_no, word in enumerate(script):
        for wa_id in citizens:
            await store.add(items(text_update(wa_id, word, f"wamid.{wa_id}.{step_no}")), clock.now())
    workers = [SqlConversations(engine, SEALER) for _ in range(4)]

    async def work(conversations: SqlConversations) -> None:
        while await converse(turns(engine, clock, conversations), limit=3):
            await asyncio.sleep(0)

    await asyncio.gather(*(work(w) for w in workers))
    processed = await rows(engine, inbox)
    assert all(r.state == "done" for r in processed)
    for wa_id in citizens:
        mark_reads = [
            r.payload["message_id"]
            for r in await rows(engine, outbox)
            if r.address == wa_id and r.payload["kind"] == "mark_read"
        ]
        assert mark_reads == [f"wamid.{wa_id}.{n}" for n in range(len(script))]
    async with SqlConversations(engine, SEALER).turn(citizens[0], clock.now()) as turn:
        assert turn is not None and turn.state is not None
        assert turn.state["language"] == "en" and turn.state["screen"] == "departments"


async def test_outbox_gives_each_citizens_queue_to_one_sender_in_order(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await store.add(items(text_update("919000000002", "hi", "wamid.B")), clock.now())
    await converse(turns(engine, clock), limit=10)
    box = SqlOutbox(engine)
    first = await box.claim(10, clock.now(), 60)
    by_citizen = {a: [r.id for r in first if r.address == a] for a in ("919000000001", "919000000002")}
    assert all(len(ids) > 1 and ids == sorted(ids) for ids in by_citizen.values())  # a read receipt, then replies
    assert await box.claim(10, clock.now(), 60) == []  # leased: no other sender gets any of them
    await box.settle([sent_as(record, f"wamid.out.{record.id}", clock) for record in first[:1]])
    assert await box.claim(10, clock.now(), 60) == []  # the rest of that queue is still leased


async def test_a_retry_holds_back_the_rest_of_its_citizens_queue(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await converse(turns(engine, clock), limit=10)
    box = SqlOutbox(engine)
    head, *rest = await box.claim(10, clock.now(), 60)
    later = clock.now() + timedelta(seconds=30)
    untried = [Settled(record=r, state="pending", at=clock.now(), tried=False) for r in rest]
    await box.settle([Settled(record=head, state="pending", at=later), *untried])
    assert await box.claim(10, clock.now(), 60) == []  # the head waits for its retry, and the rest behind it
    clock.advance(seconds=31)
    again = await box.claim(10, clock.now(), 60)
    assert [r.id for r in again] == [head.id, *(r.id for r in rest)]
    assert again[0].attempts == 1 and all(r.attempts == 0 for r in again[1:])


def sent_as(record: OutboxRecord, message_id: str, clock: FixedClock) -> Settled:
    return Settled(record=record, state="sent", at=clock.now(), message_id=message_id)


async def test_an_expired_lease_is_claimed_again(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await converse(turns(engine, clock), limit=10)
    box = SqlOutbox(engine)
    claimed = await box.claim(10, clock.now(), 60)
    clock.advance(seconds=61)
    assert [r.id for r in await box.claim(10, clock.now(), 60)] == [r.id for r in claimed]


async def test_status_webhooks_advance_an_outbound_message_and_never_go_back(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await converse(turns(engine, clock), limit=10)
    box = SqlOutbox(engine)
    record, *_ = await box.claim(10, clock.now(), 60)
    await box.settle([sent_as(record, "wamid.OUT1", clock)])
    for status in ("delivered", "read", "delivered"):  # a late "delivered" after "read"
        await store.add(items(status_update("wamid.OUT1", status)), clock.now())
        await apply_statuses(SqlStatuses(engine), parse_item, clock, limit=10)
    (sent,) = [r for r in await rows(engine, outbox) if r.id == record.id]
    assert sent.state == "sent" and sent.delivery == "read"


async def test_a_status_that_overtakes_its_send_result_is_applied_once_the_id_is_known(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await converse(turns(engine, clock), limit=10)
    await store.add(items(status_update("wamid.EARLY", "delivered")), clock.now())
    statuses = SqlStatuses(engine)
    assert await apply_statuses(statuses, parse_item, clock, limit=10) == 0
    box = SqlOutbox(engine)
    record, *_ = await box.claim(10, clock.now(), 60)
    await box.settle([sent_as(record, "wamid.EARLY", clock)])
    clock.advance(seconds=3)
    assert await apply_statuses(statuses, parse_item, clock, limit=10) == 1
    (sent,) = [r for r in await rows(engine, outbox) if r.id == record.id]
    assert sent.delivery == "delivered"


@pytest.mark.parametrize("code", [131026])
async def test_a_failed_status_records_its_error_code(engine: AsyncEngine, code: int) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    await store.add(items(text_update("919000000001", "hi", "wamid.A")), clock.now())
    await converse(turns(engine, clock), limit=10)
    box = SqlOutbox(engine)
    record, *_ = await box.claim(10, clock.now(), 60)
    await box.settle([sent_as(record, "wamid.F", clock)])
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1", "phone_number_id": "1"},
        "statuses": [
            {
                "id": "wamid.F",
                "status": "failed",
                "timestamp": "1768469401",
                "recipient_id": "919000000001",
                "errors": [{"code": code, "title": "Message undeliverable"}],
            }
        ],
    }
    raw = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    )
    await store.add(items(raw.encode()), clock.now())
    await apply_statuses(SqlStatuses(engine), parse_item, clock, limit=10)
    (failed,) = [r for r in await rows(engine, outbox) if r.id == record.id]
    assert failed.delivery == "failed" and failed.error_code == code


async def test_concurrent_deliveries_share_commits_and_each_learns_its_own_count(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    raws = [text_update(f"9190000{n % 7:05d}", "hi", f"wamid.C{n % 40}") for n in range(60)]  # 20 redeliveries
    counts = await asyncio.gather(*(store.add(items(raw), clock.now()) for raw in raws))
    assert sum(counts) == 40 and set(counts) <= {0, 1}
    assert len(await rows(engine, inbox)) == 40


async def test_a_failed_commit_fails_every_delivery_in_it_and_stores_none(engine: AsyncEngine) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    broken = NewInboxItem(key="k" * 300, kind="message", address="1", fragment={})  # longer than the key column
    good = items(text_update("919000000001", "hi", "wamid.G"))
    results = await asyncio.gather(
        store.add(good, clock.now()), store.add([broken], clock.now()), return_exceptions=True
    )
    if engine.dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        assert all(isinstance(r, Exception) for r in results)
        assert await rows(engine, inbox) == []
    else:
        assert results == [1, 1]
