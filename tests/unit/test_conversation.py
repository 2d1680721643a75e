"""The conversation engine, step by step, in Telugu, English and Hindi."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.whatsapp.outbound import to_graph_body
from sevamitra.core.catalogue import Catalogue, Department, Fee, Service, Sla
from sevamitra.core.clipping import clip
from sevamitra.core.conversation import Context, ConversationState, Step, step
from sevamitra.core.messages import (
    ButtonsOut,
    ChoiceIn,
    Inbound,
    ListOut,
    LocationIn,
    MediaIn,
    ReactionIn,
    Recipient,
    Sender,
    TextIn,
    TextOut,
)
from sevamitra.testing.clock import FixedClock

CITIZEN = Sender(wa_id="919000000001", user_id="IN.000000000000001", name="Lakshmi")


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue"


def many_services(count: int) -> Catalogue:
    """A department with `count` services, to page through."""
    department = Department(id="revenue", code="REV", names={"te": "రెవెన్యూ", "en": "Revenue", "hi": "राजस्व"})
    services = tuple(
        Service(
            id=f"revenue.service-{n:02d}",
            department_id="revenue",
            code=f"REV-S{n:02d}",
            names={"te": f"సేవ {n}", "en": f"Service {n}", "hi": f"सेवा {n}"},
            sla=Sla(days=1 if n == 1 else 7),
            fee=Fee(kind="fixed", amount_inr=45),
        )
        for n in range(1, count + 1)
    )
    return Catalogue(departments=(department,), services=services)


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(FIXTURE), texts=load_texts())


@pytest.fixture(scope="module")
def big() -> Context:
    return Context(catalogue=many_services(12), texts=load_texts())


class Citizen:
    """A citizen talking to the engine; keeps the state between turns like the worker does."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.state = ConversationState()
        self.clock = FixedClock()
        self.n = 0

    def send(self, inbound: Inbound) -> Step:
        result = step(self.state, inbound, self.context, self.clock.now())
        self.state = result.state
        for reply in result.replies:  # every reply must be sendable within WhatsApp's limits
            to_graph_body(Recipient.of(CITIZEN), reply)
        return result

    def _id(self) -> str:
        self.n += 1
        return f"wamid.test{self.n}"

    def says(self, text: str) -> Step:
        return self.send(TextIn(message_id=self._id(), sender=CITIZEN, sent_at=self.clock.now(), body=text))

    def taps(self, choice_id: str) -> Step:
        return self.send(
            ChoiceIn(message_id=self._id(), sender=CITIZEN, sent_at=self.clock.now(), choice_id=choice_id, title="")
        )


def rows(result: Step) -> list[str]:
    lists = [r for r in result.replies if isinstance(r, ListOut)]
    assert lists, f"expected a list in {result.replies}"
    return [row.id for s in lists[-1].sections for row in s.rows]


def texts(result: Step) -> str:
    return "\n".join(r.body for r in result.replies if isinstance(r, TextOut | ButtonsOut | ListOut))


def test_first_message_gets_a_bilingual_greeting_with_privacy_notice_and_language_buttons(context: Context) -> None:
    result = Citizen(context).says("hi")
    assert isinstance(result.replies[0], TextOut)
    assert "స్వాగతం" in result.replies[0].body and "Welcome" in result.replies[0].body
    assert "Privacy" in result.replies[0].body and "గోప్యత" in result.replies[0].body
    buttons = result.replies[1]
    assert isinstance(buttons, ButtonsOut)
    assert [b.id for b in buttons.buttons] == ["lang:te", "lang:en", "lang:hi"]
    assert result.state.screen == "language"


def test_choosing_telugu_shows_departments_in_telugu(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    result = citizen.taps("lang:te")
    assert result.state.language == "te"
    assert "తెలుగు" in texts(result)
    assert rows(result)[0] == "dept:revenue"
    listing = result.replies[-1]
    assert isinstance(listing, ListOut) and listing.button == "శాఖలు"


def test_language_can_be_chosen_by_typing_its_name_or_number(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("namaskaram")
    assert citizen.says("telugu").state.language == "te"
    other = Citizen(context)
    other.says("hello")
    assert other.says("2").state.language == "en"


def test_anything_before_a_language_is_chosen_is_welcomed_again(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    again = citizen.says("what is this")
    assert again.state.language is None
    assert isinstance(again.replies[-1], ButtonsOut)


def test_services_list_pages_when_a_department_has_more_than_ten(big: Context) -> None:
    citizen = Citizen(big)
    citizen.says("hi")
    citizen.taps("lang:en")
    first = rows(citizen.taps("dept:revenue"))
    assert len(first) <= 10 and "page:1" in first and first[-1] == "nav:back"
    second = rows(citizen.taps("page:1"))
    assert "page:0" in second and "page:2" not in second
    services = {r for r in first + second if r.startswith("svc:")}
    assert len(services) == len(big.catalogue.services_of("revenue")) == 12


def test_picking_a_service_shows_its_fee_and_time_and_back_returns_to_the_list(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    citizen.taps("dept:revenue")
    shown = citizen.taps("svc:revenue.income-certificate")
    assert "Income certificate" in texts(shown) and "₹45" in texts(shown) and "7 days" in texts(shown)
    assert citizen.says("back").state.screen == "services"


def test_a_one_day_service_says_a_day_not_1_days(big: Context) -> None:
    citizen = Citizen(big)
    citizen.says("hi")
    citizen.taps("lang:en")
    assert "within a day" in texts(citizen.taps("svc:revenue.service-01"))


def test_typed_number_picks_that_row_of_the_menu_on_screen(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    assert citizen.says("2").state.department_id == "municipal"


@pytest.mark.parametrize("word", ["hi", "MENU", "0", "మెనూ", "నమస్కారం", "नमस्ते"])
def test_reset_words_return_to_the_main_menu_from_anywhere(context: Context, word: str) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:te")
    citizen.taps("dept:revenue")
    citizen.taps("svc:revenue.income-certificate")
    result = citizen.says(word)
    assert result.state.screen == "departments"
    assert rows(result)[0] == "dept:revenue"


def test_language_can_be_switched_any_time_and_is_remembered(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:te")
    citizen.taps("dept:municipal")
    assert citizen.says("భాష").state.screen == "language"
    result = citizen.taps("lang:en")
    assert result.state.language == "en"
    assert "English" in texts(citizen.says("menu")) or citizen.state.language == "en"


def test_help_lists_the_words_that_work_everywhere(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:te")
    assert "భాష" in texts(citizen.says("సహాయం"))


def test_an_idle_session_expires_and_resumes_politely_at_the_main_menu(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    citizen.taps("dept:revenue")
    citizen.clock.advance(minutes=31)
    result = citizen.taps("svc:revenue.income-certificate")
    assert "Welcome back" in texts(result)
    assert result.state.screen == "departments" and result.state.language == "en"


def test_a_session_within_the_idle_timeout_continues(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    citizen.taps("dept:revenue")
    citizen.clock.advance(minutes=29)
    assert citizen.taps("svc:revenue.income-certificate").state.screen == "service"


def test_unreadable_messages_get_a_polite_localised_answer(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:te")
    now = citizen.clock.now()
    photo = MediaIn(message_id="wamid.p", sender=CITIZEN, sent_at=now, kind="image", media_id="m1")
    assert "క్షమించండి" in texts(citizen.send(photo))
    place = LocationIn(message_id="wamid.l", sender=CITIZEN, sent_at=now, latitude=16.5, longitude=80.6)
    assert "క్షమించండి" in texts(citizen.send(place))


def test_reactions_are_not_answered(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    reaction = ReactionIn(
        message_id="wamid.r", sender=CITIZEN, sent_at=citizen.clock.now(), emoji="👍", reacted_message_id="x"
    )
    assert citizen.send(reaction).replies == ()


def test_gibberish_is_not_understood_and_the_menu_is_shown_again(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    result = citizen.says("qwerty")
    assert "did not understand" in texts(result)
    assert rows(result)[0] == "dept:revenue"


def test_state_survives_a_round_trip_through_its_dict(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:hi")
    citizen.taps("dept:revenue")
    assert ConversationState.from_dict(citizen.state.to_dict()) == citizen.state


def test_same_inputs_give_same_replies(context: Context) -> None:
    a, b = Citizen(context), Citizen(context)
    for citizen in (a, b):
        citizen.says("hi")
        citizen.taps("lang:te")
    assert a.taps("dept:revenue") == b.taps("dept:revenue")


def test_every_language_has_every_text_key() -> None:
    texts_ = load_texts()
    keys = {lang: set(t) for lang, t in texts_.by_language.items()}
    assert set(keys) >= {"te", "en", "hi"}
    assert keys["te"] == keys["en"] == keys["hi"]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 24, "short"),
        ("Hello world this is long", 10, "Hello wor…"),
        ("కుటుంబ పత్రం", 10, "కుటుంబ ప…"),  # not "పత్…": a virama cut from its conjunct
        ("కుటుంబ పత్రం", 11, "కుటుంబ ప…"),
    ],
)
def test_clip_cuts_between_syllables(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


@pytest.mark.parametrize("limit", range(2, 26))
def test_clip_never_leaves_a_dangling_vowel_sign_or_virama(limit: int) -> None:
    text = "ఈడబ్ల్యూఎస్ ధృవీకరణ పత్రం"
    kept = clip(text, limit).removesuffix("…")
    assert text.startswith(kept)
    rest = text[len(kept) :]
    if rest:
        assert unicodedata.category(rest[0])[0] != "M"  # no vowel sign or virama torn from its letter
        torn_conjunct = kept and unicodedata.combining(kept[-1]) == 9 and rest[0].isalpha()
        assert not torn_conjunct


def test_idle_timeout_is_configurable(context: Context) -> None:
    short = Context(catalogue=context.catalogue, texts=context.texts, idle_timeout=timedelta(minutes=1))
    citizen = Citizen(short)
    citizen.says("hi")
    citizen.taps("lang:en")
    citizen.clock.advance(minutes=2)
    assert "Welcome back" in texts(citizen.says("1"))
