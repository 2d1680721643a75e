"""Phrasings citizens confirmed by picking from the assistant's list: counted, reviewed, and once
accepted routed like the catalogue's own aliases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.adapters.sql.phrasings import SqlPhrasings
from sevamitra.adapters.sql.stores import SqlConversations
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
PHRASE = "mamidi thota subsidy kosam"  # "for a mango orchard subsidy": no alias says this
SERVICE = "agriculture.apmapb-farmers-subsidy"


async def test_a_pick_is_counted_reviewed_and_then_routed(engine: AsyncEngine) -> None:
    catalogue = load_catalogue(ROOT)
    service_id = SERVICE
    assert catalogue.service(service_id) is not None
    for minute in (0, 5):
        async with SqlConversations(engine, SEALER).turn(f"91980000030{minute}", NOW) as turn:
            assert turn is not None
            await turn.learn(PHRASE, service_id, "te", NOW + timedelta(minutes=minute))
    store = SqlPhrasings(engine)
    (proposed,) = await store.listed()
    assert (proposed.text, proposed.service_id, proposed.count) == (PHRASE, service_id, 2)
    assert await store.accepted() == {}
    assert await store.review(proposed.id, "accepted", "state-team") and not await store.review(999, "rejected", "x")
    accepted = await store.accepted()
    assert accepted == {service_id: [PHRASE]}

    assistant = Assistant(catalogue, load_lexicon(ROOT))
    assistant.add_phrasings(accepted)
    understood = assistant.route(PHRASE)
    assert understood.best == service_id and understood.clear
