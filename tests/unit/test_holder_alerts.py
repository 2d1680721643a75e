"""Holders' notes on verification, in the engine: the offer with the certificate, on and off, and the note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.core.alerts import ALERT_INTERVAL, alert_due, verified_note
from sevamitra.core.conversation import Context, ConversationState, Submitted, Watch, Watched, step
from sevamitra.core.messages import ButtonsOut, ChoiceIn, DocumentOut, TextOut

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
NUMBER = "AP-REV-ADG-2026-000001"


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(ROOT), texts=load_texts(ROOT))


def state(language: str = "en") -> ConversationState:
    return ConversationState(language=language, screen="departments", last_active=NOW)


def tap(context: Context, choice_id: str, language: str = "en") -> tuple[list[object], list[object]]:
    result = step(
        state(language),
        ChoiceIn(message_id="m1", sender="919800000001", sent_at=NOW, choice_id=choice_id, title=""),
        context,
        NOW,
    )
    return list(result.replies), list(result.effects)


def test_a_certificate_comes_with_the_offer_of_notes_and_a_decision_without_one_does_not(context: Context) -> None:
    document = DocumentOut(filename=f"{NUMBER}.pdf", link="https://verify.example/c/t.pdf")
    issued = Submitted(reference=NUMBER, service_id="revenue.adangal-extract", due_at=NOW, document=document)
    replies = step(state(), issued, context, NOW).replies
    assert replies[0] == document
    buttons = replies[1]
    assert isinstance(buttons, ButtonsOut)
    assert [b.id for b in buttons.buttons] == [f"alerts:on:{NUMBER}", "track:", "nav:menu"]
    plain = Submitted(reference=NUMBER, service_id="revenue.adangal-extract", due_at=NOW)
    (only,) = step(state(), plain, context, NOW).replies
    assert isinstance(only, ButtonsOut) and not any(b.id.startswith("alerts:") for b in only.buttons)


@pytest.mark.parametrize(("choice", "on"), [(f"alerts:on:{NUMBER}", True), (f"alerts:off:{NUMBER}", False)])
def test_tapping_the_offer_asks_for_notes_on_or_off(context: Context, choice: str, on: bool) -> None:
    replies, effects = tap(context, choice)
    assert replies == [] and effects == [Watch(number=NUMBER, on=on)]


@pytest.mark.parametrize("choice", ["alerts:on:", "alerts:maybe:AP-1", "alerts:"])
def test_a_malformed_alerts_choice_is_not_understood(context: Context, choice: str) -> None:
    replies, effects = tap(context, choice)
    assert effects == [] and replies


def test_the_holder_is_told_what_changed_in_their_language(context: Context) -> None:
    on = step(state("te"), Watched(number=NUMBER, on=True, found=True), context, NOW).replies
    assert isinstance(on[0], ButtonsOut) and NUMBER in on[0].body and "తనిఖీ" in on[0].body
    assert on[0].buttons[0].id == f"alerts:off:{NUMBER}"
    (off,) = step(state("en"), Watched(number=NUMBER, on=False, found=True), context, NOW).replies
    assert isinstance(off, TextOut) and "stopped" in off.body
    (missing,) = step(state("hi"), Watched(number=NUMBER, on=True, found=False), context, NOW).replies
    assert isinstance(missing, TextOut) and "जारी नहीं" in missing.body


def test_the_note_says_when_and_what_the_verifier_saw_in_indian_time(context: Context) -> None:
    note = verified_note(context.texts, "en", number=NUMBER, verdict="revoked", at=NOW)
    assert NUMBER in note.body and "30-11-2026 11:30" in note.body and "Revoked" in note.body
    assert note.buttons[0].id == f"alerts:off:{NUMBER}" and len(note.buttons[0].title) <= 20


def test_notes_are_due_once_per_interval() -> None:
    assert alert_due(None, NOW)
    assert not alert_due(NOW, NOW + ALERT_INTERVAL - timedelta(seconds=1))
    assert alert_due(NOW, NOW + ALERT_INTERVAL)
