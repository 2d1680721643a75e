"""The assistant: romanising, routing free text in four writing styles, dates and number words in words,
and the conversation acting on what it understood."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon, load_texts
from sevamitra.adapters.nlu.dates import read_date
from sevamitra.adapters.nlu.romanise import romanise, script_of, words
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.core.conversation import Context, ConversationState, Learn, step
from sevamitra.core.messages import ButtonsOut, ChoiceIn, ListOut, TextIn
from sevamitra.core.numberwords import number_word

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SENDER = "919800000011"


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return Assistant(load_catalogue(ROOT), load_lexicon(ROOT))


@pytest.fixture(scope="module")
def context(assistant: Assistant) -> Context:
    return Context(catalogue=assistant.catalogue, texts=load_texts(ROOT), router=assistant, read_date=read_date)


def test_three_scripts_meet_in_one_spelling() -> None:
    assert script_of("ఆదాయ ధృవీకరణ పత్రం") == "te" and script_of("जाति प्रमाण पत्र") == "hi" and script_of("EC") == "latin"
    assert romanise("పత్రం") == "patram"
    assert words("ఆదాయ ధృవీకరణ పత్రం") == words("aadaaya dhruveekarana pathram") == ["aday", "druvikaran", "patram"]
    assert words("certificate") == words("certificat") == ["sertipikat"]


@pytest.mark.parametrize(
    ("text", "language", "service"),
    [
        ("naaku income certificate kavali", "te_latn", "revenue.income-certificate"),
        ("ఆదాయ ధృవీకరణ పత్రం కావాలి", "te", "revenue.income-certificate"),
        ("मुझे जाति प्रमाण पत्र चाहिए", "hi", "revenue.integrated-certificate"),
        ("I want an encumbrance certificate", "en", "registration.encumbrance-certificate"),
        ("current bill kattali kurnool", "te_latn", "energy.bill-payment-apspdcl"),
    ],
)
def test_each_style_reaches_its_service(assistant: Assistant, text: str, language: str, service: str) -> None:
    understood = assistant.route(text)
    assert (understood.language, understood.intent, understood.best) == (language, "apply", service)


def test_a_question_about_a_service_is_an_ask(assistant: Assistant) -> None:
    understood = assistant.route("how much is the fee for EC")
    assert (understood.intent, understood.ask, understood.best) == (
        "ask",
        "fee",
        "registration.encumbrance-certificate",
    )
    assert assistant.route("కుల ధృవీకరణ పత్రానికి ఏ పత్రాలు కావాలి").ask == "documents"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("namaskaram", "greeting"),
        ("thank you so much", "thanks"),
        ("change language", "language"),
        ("I want to talk to an officer", "human"),
        ("where is my application", "track"),
        ("asdf qwzx", "not_understood"),
        ("who won the cricket match", "not_understood"),
    ],
)
def test_intents_without_a_service(assistant: Assistant, text: str, intent: str) -> None:
    assert assistant.route(text).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "కఖగఘ",  # the alphabet as it is learnt, in either script
        "अआइई",
        "फिल्म के टिकट बुक करो",  # an off-topic word outweighs even a near match ("ticket booking")
        "book movie tickets for tonight",
        "क्या कर रहे हो",  # function words alone say nothing
        "send me good morning images",  # off topic beats a greeting too
    ],
)
def test_noise_and_off_topic_messages_are_not_understood(assistant: Assistant, text: str) -> None:
    assert assistant.route(text).intent == "not_understood", text


def test_a_greeting_word_inside_a_services_name_keeps_the_service(assistant: Assistant) -> None:
    assert assistant.route("सुप्रभात सेवा का टिकट").best == "endowments.ttd-suprabhatam"  # सुप्रभात greets too
    assert assistant.route("सुप्रभात").intent == "greeting"


def test_a_village_or_a_town_named_favours_its_own_local_body(assistant: Assistant) -> None:
    village = [c.service_id for c in assistant.route("drinking water not coming in our village").candidates]
    town = [c.service_id for c in assistant.route("drinking water not coming in our ward").candidates]
    assert village[0] == "rural-water-supply.drinking-water-complaint"
    assert town[0] == "municipal.no-water-supply"


def test_a_specific_complaint_lists_its_departments_general_grievance(assistant: Assistant) -> None:
    listed = [c.service_id for c in assistant.route("garbage not lifted in our street for a week").candidates]
    assert listed[0] == "municipal.garbage-not-lifted"
    assert "grievances.pgrs-municipal" in listed[:3]
    offered = {s.id for s in assistant.catalogue.services}
    assert set(load_lexicon(ROOT)["general_grievance"].values()) <= offered  # the lexicon names real services


def test_a_reference_number_is_tracked(assistant: Assistant) -> None:
    understood = assistant.route("status of AP-REV-INC-2026-000123 please")
    assert (understood.intent, understood.reference) == ("track", "AP-REV-INC-2026-000123")


def test_number_words_and_dates_in_words() -> None:
    assert [number_word(w) for w in ("okati", "రెండు", "तीन", "four", "Aidu", "pizza")] == [1, 2, 3, 4, 5, None]
    today = date(2026, 11, 30)  # a Monday
    assert read_date("repu", today) == read_date("రేపు", today) == date(2026, 12, 1)
    assert read_date("next Monday", today) == date(2026, 12, 7)
    assert read_date("15 August", today) == date(2027, 8, 15)
    assert read_date("कल", today, "past") == date(2026, 11, 29) and read_date("कल", today) == date(2026, 12, 1)
    assert read_date("no date here at all", today) is None


def say(context: Context, state: ConversationState, text: str) -> tuple[ConversationState, list[object], list[object]]:
    result = step(state, TextIn(message_id="m", sender=SENDER, sent_at=NOW, body=text), context, NOW)
    return result.state, list(result.replies), list(result.effects)


MENU = ConversationState(language="en", screen="departments", last_active=NOW)


def test_a_clear_service_opens_with_its_one_tap_start(context: Context) -> None:
    state, replies, _ = say(context, MENU, "naaku income certificate kavali")
    assert state.screen == "service" and state.service_id == "revenue.income-certificate"
    assert isinstance(replies[0], ButtonsOut) and replies[0].buttons[0].id == "form:start"


def test_a_fee_question_is_answered_from_the_catalogue_in_the_citizens_language(context: Context) -> None:
    _, replies, _ = say(context, MENU, "how much is the fee for EC")
    body = str(getattr(replies[0], "body", ""))
    assert (body.startswith("*Encumbrance certificate*\nFee:") and "₹" in body) or "Free" in body
    _, replies, _ = say(
        context, ConversationState(language="te", screen="departments", last_active=NOW), "EC fees entha"
    )
    assert "రుసుము" in str(getattr(replies[0], "body", ""))


def test_an_ambiguous_phrase_gives_a_short_list_and_a_pick_is_kept_for_review(context: Context) -> None:
    state, replies, _ = say(context, MENU, "pension")
    assert isinstance(replies[0], ListOut) and state.screen == "search" and 2 <= len(state.results) <= 5
    picked = state.results[1]
    result = step(
        state, ChoiceIn(message_id="c", sender=SENDER, sent_at=NOW, choice_id=f"svc:{picked}", title=""), context, NOW
    )
    assert result.effects == (Learn(text="pension", service_id=picked, language="en"),)
    assert result.state.asked is None


def test_gibberish_gets_a_polite_fallback_and_the_menu(context: Context) -> None:
    state, replies, _ = say(context, MENU, "kjhsdf qwpoeiru")
    assert "did not understand" in str(getattr(replies[0], "body", "")) and state.screen == "departments"


def test_a_number_word_picks_a_menu_entry(context: Context) -> None:
    state, _, _ = say(context, MENU, "rendu")
    assert state.screen == "services" and state.department_id == context.catalogue.departments[1].id


def test_a_first_message_naming_a_service_skips_the_language_question(context: Context) -> None:
    state, replies, _ = say(context, ConversationState(), "मुझे जाति प्रमाण पत्र चाहिए")
    assert state.language == "hi" and state.service_id == "revenue.integrated-certificate"
    assert "जाति" in str(getattr(replies[0], "body", ""))


def test_a_date_in_words_answers_a_date_question(context: Context) -> None:
    service = context.catalogue.service("endowments.srisailam-darshan")
    assert service is not None
    draft = {
        "service": service.id,
        "version": service.version,
        "hash": service.definition_hash,
        "index": 0,
        "answers": {},
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
    }
    state = ConversationState(language="te", screen="form", service_id=service.id, draft=draft, last_active=NOW)
    state, _, _ = say(context, state, "repu")
    assert state.draft is not None and state.draft["answers"]["visit_date"] == "2026-12-01"
