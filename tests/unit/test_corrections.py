"""A returned application corrected in chat, and a citizen's rating, through the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.core.applications import ApplicationView, Status
from sevamitra.core.conversation import (
    Comment,
    Context,
    ConversationState,
    CorrectionLoaded,
    LoadCorrection,
    Rate,
    Rated,
    Resubmit,
    Resubmitted,
    Tracked,
    step,
)
from sevamitra.core.messages import ChoiceIn, TextIn, TextOut
from sevamitra.core.workflow import open_case

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
REFERENCE = "AP-REV-INC-2026-000007"


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(ROOT), texts=load_texts(ROOT))


def idle() -> ConversationState:
    return ConversationState(language="en", screen="departments", last_active=NOW)


def say(text: str) -> TextIn:
    return TextIn(message_id="m2", sender="919800000001", sent_at=NOW, body=text)


def tap(choice: str) -> ChoiceIn:
    return ChoiceIn(message_id="m", sender="919800000001", sent_at=NOW, choice_id=choice, title="")


def test_tapping_correct_now_loads_what_the_officer_asked(context: Context) -> None:
    result = step(idle(), tap(f"fix:{REFERENCE.lower()}"), context, NOW)
    assert result.effects == (LoadCorrection(reference=REFERENCE),)


def test_only_the_named_fields_are_asked_and_then_sent_back(context: Context) -> None:
    loaded = CorrectionLoaded(
        reference=REFERENCE,
        service_id="revenue.income-certificate",
        fields=("annual_income",),
        message="Income does not match the ration card",
    )
    asked = step(idle(), loaded, context, NOW)
    text = " ".join(r.body for r in asked.replies if isinstance(r, TextOut))
    assert "ration card" in text and asked.state.screen == "form"
    answered = step(
        asked.state, TextIn(message_id="m2", sender="919800000001", sent_at=NOW, body="96000"), context, NOW
    )
    assert answered.effects == (Resubmit(reference=REFERENCE, answers={"annual_income": 96000}),)
    assert answered.state.draft is None
    done = step(answered.state, Resubmitted(reference=REFERENCE, accepted=True), context, NOW)
    assert any(REFERENCE in r.body for r in done.replies if isinstance(r, TextOut))


def test_a_wrong_correction_is_asked_again_and_nothing_is_sent(context: Context) -> None:
    loaded = CorrectionLoaded(reference=REFERENCE, service_id="revenue.income-certificate", fields=("annual_income",))
    asked = step(idle(), loaded, context, NOW)
    wrong = step(asked.state, say("lots"), context, NOW)
    assert wrong.effects == () and wrong.state.draft is not None


def test_nothing_to_correct_is_said_plainly(context: Context) -> None:
    result = step(idle(), CorrectionLoaded(reference=REFERENCE), context, NOW)
    assert result.effects == () and REFERENCE in result.replies[0].body  # type: ignore[union-attr]


@pytest.mark.parametrize(("choice", "score"), [(f"rate:{REFERENCE}:5", 5), (f"rate:{REFERENCE}:1", 1)])
def test_a_rating_button_rates_the_application(context: Context, choice: str, score: int) -> None:
    assert step(idle(), tap(choice), context, NOW).effects == (Rate(reference=REFERENCE, score=score),)


@pytest.mark.parametrize("choice", [f"rate:{REFERENCE}:9", "rate:nonsense:3", f"fix:{REFERENCE}x"])
def test_a_malformed_choice_asks_for_nothing(context: Context, choice: str) -> None:
    assert step(idle(), tap(choice), context, NOW).effects == ()


def test_a_status_reply_shows_the_clock_and_who_it_moves_to(context: Context) -> None:
    service = context.catalogue.service("revenue.income-certificate")
    assert service is not None
    case = open_case(service, {"residence": {"district": "ntr", "mandal": "ntr/vijayawada-rural"}}, NOW)
    view = ApplicationView(
        reference=REFERENCE,
        service_id=service.id,
        status=Status.SUBMITTED,
        submitted_at=NOW,
        due_at=NOW + timedelta(days=7),
        workflow=case.to_dict(),
    )
    later = NOW + timedelta(days=1, hours=3)
    result = step(idle(), Tracked(asked=REFERENCE, applications=(view,)), context, later)
    text = result.replies[0].body  # type: ignore[union-attr]
    assert "day 2 of 7" in text and "Revenue Inspector" in text and "day 3" in text


def test_after_rating_the_next_text_is_kept_as_a_comment_or_skipped(context: Context) -> None:
    rated = step(idle(), Rated(reference=REFERENCE, accepted=True), context, NOW)
    assert rated.state.comment_on == REFERENCE
    commented = step(rated.state, say("The VRO was very helpful"), context, NOW)
    assert commented.effects == (Comment(reference=REFERENCE, text="The VRO was very helpful"),)
    assert commented.state.comment_on is None
    skipped = step(rated.state, tap("comment:skip"), context, NOW)
    assert skipped.effects == () and skipped.state.comment_on is None
