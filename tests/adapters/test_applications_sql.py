"""Applications stored through the turn worker: reference numbers, sealed answers, owner-only tracking."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import converse
from sevamitra.adapters.sql.stores import SqlInbox
from sevamitra.adapters.sql.tables import applications, conversations, outbox
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.testing.clock import FixedClock
from tests.adapters.test_sql_spine import SEALER, items, text_update, turns

AADHAAR = "34567890123" + verhoeff_digit("34567890123")


def choice_update(wa_id: str, choice_id: str, message_id: str) -> bytes:
    """A tapped list row: the text update with its message swapped for an interactive reply."""
    update = json.loads(text_update(wa_id, choice_id, message_id))
    message = update["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message |= {
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": choice_id, "title": choice_id}},
    }
    return json.dumps(update).encode()


async def apply(engine: AsyncEngine, clock: FixedClock, wa_id: str) -> None:
    inbox = SqlInbox(engine)
    script: list[tuple[str, str]] = [
        ("text", "hi"),
        ("choice", "lang:en"),
        ("choice", "svc:revenue.income-certificate"),
        ("choice", "form:start"),
        ("text", "Lakshmi Devi"),
        ("text", AADHAAR),
        ("text", "15-08-1985"),
        ("choice", "place:ntr"),
        ("choice", "place:ntr/vijayawada-corporation"),
        ("choice", "place:ntr/vijayawada-corporation/ward-12"),
        ("text", "120000"),
        ("choice", "answer:education"),
        ("text", "skip"),
        ("choice", "form:submit"),
    ]
    for n, (kind, value) in enumerate(script):
        maker = text_update if kind == "text" else choice_update
        await inbox.add(items(maker(wa_id, value, f"wamid.{wa_id}.{n}")), clock.now())
        await converse(turns(engine, clock), limit=10)


async def rows(engine: AsyncEngine, table: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(
            await connection.execute(select(table).order_by(table.c.id if "id" in table.c else table.c.address))
        )


async def test_a_submitted_application_gets_a_reference_per_service_and_year(engine: AsyncEngine) -> None:
    clock = FixedClock()
    await apply(engine, clock, "919000000001")
    await apply(engine, clock, "919000000002")
    stored = await rows(engine, applications)
    assert [a.reference for a in stored] == ["AP-REV-INC-2026-000001", "AP-REV-INC-2026-000002"]
    first = stored[0]
    assert (first.service_id, first.service_version, first.status) == ("revenue.income-certificate", 3, "submitted")
    assert len(first.definition_hash) == 64 and first.fee_inr == 45
    assert first.due_at - first.submitted_at == timedelta(days=7)  # the service's SLA
    replies = [r.payload for r in await rows(engine, outbox) if r.address == "919000000001"]
    assert any("AP-REV-INC-2026-000001" in json.dumps(p, ensure_ascii=False) for p in replies)


async def test_personal_data_is_sealed_at_rest(engine: AsyncEngine) -> None:
    clock = FixedClock()
    await apply(engine, clock, "919000000001")
    (stored,) = await rows(engine, applications)
    assert AADHAAR not in stored.answers and "Lakshmi" not in stored.answers
    assert json.loads(SEALER.open(stored.answers))["aadhaar"] == AADHAAR
    for conversation in await rows(engine, conversations):
        assert AADHAAR not in conversation.state


async def test_tracking_shows_only_the_citizens_own_applications(engine: AsyncEngine) -> None:
    clock = FixedClock()
    await apply(engine, clock, "919000000001")
    inbox = SqlInbox(engine)
    await inbox.add(items(text_update("919000000001", "status AP-REV-INC-2026-000001", "wamid.t1")), clock.now())
    await inbox.add(items(text_update("919000000002", "hi", "wamid.t2")), clock.now())
    await inbox.add(items(choice_update("919000000002", "lang:en", "wamid.t3")), clock.now())
    await inbox.add(items(text_update("919000000002", "status AP-REV-INC-2026-000001", "wamid.t4")), clock.now())
    await converse(turns(engine, clock), limit=10)
    by_citizen: dict[str, str] = {}
    for r in await rows(engine, outbox):
        by_citizen[r.address] = by_citizen.get(r.address, "") + json.dumps(r.payload, ensure_ascii=False)
    assert "submitted" in by_citizen["919000000001"].split("AP-REV-INC-2026-000001")[-1]
    assert "No application of yours" in by_citizen["919000000002"]


async def test_batch_issuers_reserve_distinct_blocks_of_reference_numbers(engine: AsyncEngine) -> None:
    from sevamitra.adapters.sql.stores import SqlApplications

    first, second = SqlApplications(engine, SEALER), SqlApplications(engine, SEALER)
    taken = [await issuer.reserve("AP-REV-INC", 2026) for _ in range(40) for issuer in (first, second)]
    assert len(set(taken)) == len(taken) == 80
    assert taken[0] == "AP-REV-INC-2026-000001" and taken[1] == "AP-REV-INC-2026-000033"
