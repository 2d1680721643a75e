"""Opting in to and out of alerts in plain words, through the engine, and into the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.sql.stores import SqlConversations
from sevamitra.adapters.sql.tables import subscriptions
from sevamitra.core.conversation import AlertsChanged, ChangeAlerts, Context, ConversationState, step
from sevamitra.core.messages import Recipient, TextIn
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(ROOT), texts=load_texts(ROOT), places=load_jurisdictions(ROOT / "jurisdictions")
    )


def said(context: Context, body: str) -> tuple[tuple[object, ...], str]:
    state = ConversationState(language="en", screen="departments", last_active=NOW)
    result = step(state, TextIn(message_id="m", sender="919800000001", sent_at=NOW, body=body), context, NOW)
    return result.effects, " ".join(getattr(r, "body", "") for r in result.replies)


def test_a_topic_and_a_place_opt_in(context: Context) -> None:
    effects, _ = said(context, "weather alerts Nunna")
    assert effects == (ChangeAlerts(topic="weather", area="ntr/vijayawada-rural/nunna"),)


def test_stop_alerts_opts_out_of_everything(context: Context) -> None:
    effects, _ = said(context, "stop alerts")
    assert effects == (ChangeAlerts(topic=None),)


def test_alerts_without_a_place_ask_for_one(context: Context) -> None:
    effects, reply = said(context, "weather alerts")
    assert effects == () and "Which place" in reply


def test_the_reply_names_the_topic_and_the_place(context: Context) -> None:
    state = ConversationState(language="en", screen="departments", last_active=NOW)
    reply = step(state, AlertsChanged(topic="weather", area="ntr/vijayawada-rural/nunna"), context, NOW).replies[0]
    assert "Nunna" in reply.body  # type: ignore[union-attr]


async def test_the_turn_keeps_and_removes_subscriptions(engine: AsyncEngine) -> None:
    async with SqlConversations(engine, SEALER).turn("919800000001", NOW) as turn:
        assert turn is not None
        await turn.change_alerts(Recipient(wa_id="919800000001"), ("weather", "health"), "ntr", "te", NOW)
    async with engine.connect() as connection:
        kept = sorted((r.topic, r.area) for r in await connection.execute(select(subscriptions)))
    assert kept == [("health", "ntr"), ("weather", "ntr")]
    async with SqlConversations(engine, SEALER).turn("919800000001", NOW) as turn:
        assert turn is not None
        await turn.change_alerts(Recipient(wa_id="919800000001"), (), None, "te", NOW)
    async with engine.connect() as connection:
        assert (await connection.execute(select(subscriptions))).all() == []
