"""Voice notes in the conversation: heard, confirmed, asked again; numbers typed; spoken replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon, load_texts
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.core.conversation import Context, ConversationState, Heard, Step, Transcribe, step
from sevamitra.core.messages import ButtonsOut, ChoiceIn, ListOut, MediaIn, Sender, SpeechOut, TextIn, TextOut
from sevamitra.core.speech import Transcript

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CITIZEN = Sender(wa_id="919800000021")


@pytest.fixture(scope="module")
def context() -> Context:
    catalogue = load_catalogue(ROOT)
    return Context(
        catalogue=catalogue,
        texts=load_texts(ROOT),
        router=Assistant(catalogue, load_lexicon(ROOT)),
        listens=True,
        speaks=True,
    )


def _state(language: str = "en") -> ConversationState:
    return ConversationState(language=language, screen="departments", last_active=NOW)


def _note() -> MediaIn:
    return MediaIn(
        message_id="wamid.v1", sender=CITIZEN, sent_at=NOW, kind="audio", media_id="m-voice", voice=True,
        mime_type="audio/ogg; codecs=opus",
    )  # fmt: skip


def _heard(text: str, confidence: float = 0.9, language: str = "en") -> Heard:
    return Heard(transcript=Transcript(text=text, language=language, confidence=confidence, seconds=2.5))


def _bodies(result: Step) -> str:
    return "\n".join(r.body for r in result.replies if isinstance(r, TextOut | ButtonsOut))


def test_a_voice_note_is_transcribed_in_the_citizens_language_then_confirmed(context: Context) -> None:
    sent = step(_state("hi"), _note(), context, NOW)
    assert sent.effects == (Transcribe(media_id="m-voice", mime_type="audio/ogg; codecs=opus", language="hi"),)
    assert not sent.replies  # nothing to say until it is heard
    heard = step(sent.state, _heard("I want to pay my property tax"), context, NOW)
    (ask,) = heard.replies
    assert isinstance(ask, ButtonsOut) and "property tax" in ask.body
    yes = ask.buttons[0]
    assert yes.id == "svc:municipal.property-tax-payment"
    assert {b.id for b in ask.buttons[1:]} == {"voice:again", "nav:menu"}
    shown = step(
        heard.state, ChoiceIn(message_id="w2", sender=CITIZEN, sent_at=NOW, choice_id=yes.id, title=""), context, NOW
    )
    assert shown.state.service_id == "municipal.property-tax-payment" and shown.state.screen == "service"


def test_unclear_or_quiet_speech_is_asked_again_never_guessed(context: Context) -> None:
    for said in (_heard("property tax", confidence=0.2), _heard("   ")):
        result = step(_state(), said, context, NOW)
        (again,) = result.replies
        assert isinstance(again, ButtonsOut) and "could not make out" in again.body
        assert result.state.screen == "departments"  # nothing opened
    retry = ChoiceIn(message_id="w3", sender=CITIZEN, sent_at=NOW, choice_id="voice:again", title="")
    assert "send your voice note again" in _bodies(step(_state(), retry, context, NOW))


@pytest.mark.parametrize(
    ("problem", "told"),
    [
        ("too_long", "under 60 seconds"),
        ("too_large", "too large"),
        ("expired", "no longer available"),
        ("corrupt", "could not be played"),
        ("unavailable", "type what you need"),
    ],
)
def test_each_problem_with_a_voice_note_is_told_plainly(context: Context, problem: str, told: str) -> None:
    assert told in _bodies(step(_state(), Heard(problem=problem), context, NOW))


def test_without_a_speech_backend_the_citizen_is_asked_to_type(context: Context) -> None:
    result = step(_state("te"), _note(), replace(context, listens=False), NOW)
    assert not result.effects
    assert "టైప్ చేయండి" in _bodies(result)


def test_numbers_are_never_taken_from_speech(context: Context) -> None:
    service = context.catalogue.service("revenue.income-certificate")
    assert service is not None
    index = next(i for i, f in enumerate(service.fields) if f.type == "aadhaar")
    state = replace(
        _state(), screen="form", service_id=service.id, draft={"service": service.id, "index": index, "answers": {}}
    )
    result = step(state, _note(), context, NOW)
    assert not result.effects
    assert "never taken from voice notes" in _bodies(result)


def test_a_heard_phrase_that_fits_several_services_lists_them(context: Context) -> None:
    listed = step(_state(), _heard("rice card"), context, NOW)
    heard, choices = listed.replies
    assert isinstance(heard, TextOut) and heard.body.startswith("🎤 I heard")
    assert isinstance(choices, ListOut) and listed.state.screen == "search"
    greeted = step(_state(), _heard("hello"), context, NOW)
    assert isinstance(greeted.replies[-1], ListOut)  # a greeting heard is a greeting: the menu


def test_spoken_replies_are_opt_in_and_follow_key_messages(context: Context) -> None:
    on = step(_state(), TextIn(message_id="w4", sender=CITIZEN, sent_at=NOW, body="voice on"), context, NOW)
    assert on.state.voice_replies
    tap = ChoiceIn(message_id="w5", sender=CITIZEN, sent_at=NOW, choice_id="svc:revenue.income-certificate", title="")
    shown = step(on.state, tap, context, NOW)
    spoken = [r for r in shown.replies if isinstance(r, SpeechOut)]
    assert len(spoken) == 1 and spoken[0].language == "en"
    assert "Income certificate" in spoken[0].text and "*" not in spoken[0].text
    off = step(shown.state, TextIn(message_id="w6", sender=CITIZEN, sent_at=NOW, body="voice off"), context, NOW)
    assert not off.state.voice_replies
    assert ConversationState.from_dict(on.state.to_dict()).voice_replies  # kept with the conversation
    asked = TextIn(message_id="w7", sender=CITIZEN, sent_at=NOW, body="voice on")
    cannot = step(_state(), asked, replace(context, speaks=False), NOW)
    assert not cannot.state.voice_replies and "not available" in _bodies(cannot)
