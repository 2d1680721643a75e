"""Broadcast alerts in the pure core and the action: who an alert reaches, who may send one, the words
citizens type to opt in and out in three languages, and the message with its template fallback."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sevamitra.actions.broadcast import BroadcastRefused, InvalidBroadcast, broadcast
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.bootstrap import load_texts
from sevamitra.core.broadcasts import (
    EMERGENCY_PREFIX,
    MAX_TEXT,
    TOPICS,
    AlertCommand,
    Broadcast,
    Subscribe,
    Unsubscribe,
    alert_message,
    alert_payload,
    ancestors,
    area_name,
    covers,
    may_broadcast,
    parse_alert_command,
    reaches,
    resolve_area,
    subscribed_text,
    topics_for,
    unsubscribed_text,
)
from sevamitra.core.messages import TemplateOut, TextOut, outbound_from_dict
from sevamitra.core.officers import Officer

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogue"
LANGUAGES = ("te", "en", "hi")
TEXTS = load_texts(CATALOGUE)
PLACES = load_jurisdictions(CATALOGUE / "jurisdictions")
NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
NUNNA = "ntr/vijayawada-rural/nunna"
RURAL = "ntr/vijayawada-rural"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def officer(role: str, place: str = "state", department_id: str | None = None, *, active: bool = True) -> Officer:
    return Officer(
        id=7,
        username="someone",
        display_name="Officer",
        role=role,
        place=place,
        department_id=department_id,
        active=active,
    )


# --- who an alert reaches ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subscription", "alert", "reached"),
    [
        (RURAL, RURAL, True),  # the same mandal
        (NUNNA, RURAL, True),  # a village inside the mandal the alert is about
        ("ntr", RURAL, True),  # the district containing it: the subscriber asked about all of it
        ("state", RURAL, True),  # a state-wide subscriber hears of everything
        (RURAL, "ntr", True),  # a district-wide alert reaches the mandal's subscribers
        (NUNNA, "ntr", True),  # and the village's
        (NUNNA, "state", True),  # a state-wide alert reaches everyone
        ("state", "state", True),
        ("ntr/vijayawada-rural/gollapudi", NUNNA, False),  # a neighbouring village
        ("ntr/ibrahimpatnam", NUNNA, False),  # another mandal
        ("guntur", "ntr", False),  # another district
        ("guntur/pedakakani", "state", True),
        (RURAL, "ntr/vijayawada-rural-east", False),  # an id that merely starts the same
        ("ntr/vijayawada-rural-east", RURAL, False),
    ],
)
def test_an_alert_reaches_subscribers_of_places_inside_it_and_of_places_containing_it(
    subscription: str, alert: str, reached: bool
) -> None:
    assert reaches(subscription, alert) is reached
    assert reaches(alert, subscription) is reached  # the rule is symmetric


def test_covers_is_containment_and_the_state_covers_everything() -> None:
    assert covers("ntr", RURAL) and covers(RURAL, NUNNA) and covers("ntr", NUNNA) and covers(NUNNA, NUNNA)
    assert covers("state", "guntur") and covers("state", "state")
    assert not covers(NUNNA, RURAL) and not covers(RURAL, "ntr") and not covers("ntr", "state")
    assert not covers(RURAL, "ntr/vijayawada-rural-east")


def test_ancestors_lists_every_area_containing_a_place() -> None:
    assert ancestors(NUNNA) == ("state", "ntr", RURAL)
    assert ancestors("ntr") == ("state",)
    assert ancestors("state") == ()


_slug = st.sampled_from(["a", "b", "ab", "a-b"])
_area = st.one_of(st.just("state"), st.lists(_slug, min_size=1, max_size=3).map("/".join))


@given(_area, _area)
def test_reaches_agrees_with_the_sql_rule_on_any_pair_of_areas(subscription: str, alert: str) -> None:
    """The rule the SQL adapter applies: equal, one under the other, or the state on either side."""
    by_rule = (
        subscription == alert
        or subscription.startswith(alert + "/")
        or alert.startswith(subscription + "/")
        or "state" in (subscription, alert)
    )
    assert reaches(subscription, alert) is by_rule
    assert reaches(subscription, alert) is (subscription in (*ancestors(alert), alert) or covers(alert, subscription))


# --- who may send one ----------------------------------------------------------------------------


def test_a_district_administrator_alerts_only_within_their_district() -> None:
    admin = officer("district_admin", "ntr")
    assert all(may_broadcast(admin, "weather", area) for area in ("ntr", RURAL, NUNNA))
    assert not may_broadcast(admin, "weather", "guntur")
    assert not may_broadcast(admin, "weather", "guntur/pedakakani")
    assert not may_broadcast(admin, "weather", "state")
    assert not may_broadcast(admin, "no_such_topic", "ntr")
    assert topics_for(admin) == TOPICS


def test_a_state_administrator_alerts_anywhere_and_others_nowhere() -> None:
    state = officer("state_admin")
    assert all(may_broadcast(state, topic, area) for topic in TOPICS for area in ("state", "guntur", NUNNA))
    for role, place in (("tahsildar", RURAL), ("district_collector", "ntr"), ("digital_assistant", NUNNA)):
        assert not may_broadcast(officer(role, place), "weather", place)
        assert topics_for(officer(role, place)) == ()
    assert not may_broadcast(officer("state_admin", active=False), "weather", "state")


def test_a_department_administrator_alerts_the_whole_state_about_their_departments_topics() -> None:
    energy = officer("department_admin", department_id="energy")
    assert may_broadcast(energy, "power_outage", "state") and may_broadcast(energy, "power_outage", NUNNA)
    assert not may_broadcast(energy, "weather", "state")
    assert topics_for(energy) == ("power_outage", "scheme_deadline")  # every department runs schemes
    assert topics_for(officer("department_admin", department_id="school-education")) == ("scheme_deadline", "exams")


# --- what citizens type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "command"),
    [
        # English
        ("en", "stop", Unsubscribe()),
        ("en", "STOP!", Unsubscribe()),
        ("en", "stop alerts", Unsubscribe()),
        ("en", "Alerts off", Unsubscribe()),
        ("en", "unsubscribe", Unsubscribe()),
        ("en", "stop weather alerts", Unsubscribe(topic="weather")),
        ("en", "power alerts off please", Unsubscribe(topic="power_outage")),
        ("en", "alerts", Subscribe()),
        ("en", "weather alerts", Subscribe(topic="weather")),
        ("en", "subscribe exams", Subscribe(topic="exams")),
        ("en", "alerts weather Nunna", Subscribe(topic="weather", area="nunna")),
        ("en", "water alerts for Vijayawada Rural", Subscribe(topic="water_supply", area="vijayawada rural")),
        ("en", "alerts on for the whole state", Subscribe(area="whole state")),
        # Telugu
        ("te", "ఆపు", Unsubscribe()),
        ("te", "వద్దు", Unsubscribe()),
        ("te", "సూచనలు ఆపు", Unsubscribe()),
        ("te", "వాతావరణ సూచనలు ఆపండి", Unsubscribe(topic="weather")),
        ("te", "కరెంటు సూచనలు కావాలి", Subscribe(topic="power_outage")),
        ("te", "వాతావరణ సూచనలు నున్న", Subscribe(topic="weather", area="నున్న")),
        ("te", "stop alerts", Unsubscribe()),  # English works in every language
        # Hindi
        ("hi", "बंद", Unsubscribe()),
        ("hi", "अलर्ट बंद", Unsubscribe()),
        ("hi", "मौसम अलर्ट बंद करें", Unsubscribe(topic="weather")),
        ("hi", "मौसम अलर्ट चालू", Subscribe(topic="weather")),
        ("hi", "पानी अलर्ट नुन्ना", Subscribe(topic="water_supply", area="नुन्ना")),
    ],
)
def test_opt_in_and_opt_out_words_in_three_languages(language: str, text: str, command: AlertCommand) -> None:
    assert parse_alert_command(text, TEXTS, language) == command


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", ""),
        ("en", "   "),
        ("en", "hello"),
        ("en", "start"),  # the menu word, not an opt-in
        ("en", "weather"),  # a topic alone may be a search for a service
        ("en", "stop my application"),  # an opt-out with other words in it is not one
        ("en", "stop alerts on"),  # stop and start together
        ("en", "weather health alerts"),  # two topics
        ("en", "income certificate"),
        ("te", "ఆదాయ ధృవీకరణ పత్రం"),
        ("hi", "आय प्रमाण पत्र"),
        ("te", "बंद"),  # another language's word: the citizen's language and English only
    ],
)
def test_words_about_other_things_are_not_alert_commands(language: str, text: str) -> None:
    assert parse_alert_command(text, TEXTS, language) is None


@pytest.mark.parametrize(
    ("words", "area"),
    [
        ("Nunna", NUNNA),
        ("నున్న", NUNNA),
        ("Vijayawada Rural", RURAL),
        ("state", "state"),
        ("whole state", "state"),
        ("ఆంధ్రప్రదేశ్", "state"),
        ("आंध्र प्रदेश", "state"),
        ("zzzz qqqq", None),
        ("", None),
    ],
)
def test_the_area_a_citizen_names_is_resolved_to_a_place(words: str, area: str | None) -> None:
    assert resolve_area(words, TEXTS, PLACES) == area


@pytest.mark.parametrize("language", LANGUAGES)
def test_opt_in_and_opt_out_replies_name_the_topic_and_the_area(language: str) -> None:
    name = area_name(TEXTS, PLACES, NUNNA, language)
    assert name in subscribed_text(TEXTS, language, "weather", name)
    assert TEXTS.get(language, "alerts.topic.weather") in subscribed_text(TEXTS, language, "weather", name)
    assert name in subscribed_text(TEXTS, language, None, name)
    assert TEXTS.get(language, "alerts.topic.health") in unsubscribed_text(TEXTS, language, "health")
    assert unsubscribed_text(TEXTS, language, None) == TEXTS.get(language, "alerts.unsubscribed_all")


# --- the message -------------------------------------------------------------------------------


def test_an_alert_names_its_topic_and_area_and_carries_the_officers_words_with_a_stop_footer() -> None:
    area = area_name(TEXTS, PLACES, NUNNA, "en")
    assert area == "Nunna, Vijayawada Rural, NTR"
    message, fallback = alert_message(TEXTS, "en", "weather", area, "Heavy rain tonight.\nStay indoors.", False)
    assert isinstance(message, TextOut)
    assert message.body.startswith("📢 Weather · Nunna, Vijayawada Rural, NTR\nHeavy rain tonight.\nStay indoors.")
    assert message.body.endswith('reply "stop alerts".')
    assert EMERGENCY_PREFIX not in message.body
    assert fallback == TemplateOut(
        name="alert", language="en", body_parameters=("Weather", area, "Heavy rain tonight. Stay indoors.")
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_emergency_opens_with_the_emergency_prefix_in_the_message_and_its_template(language: str) -> None:
    area = area_name(TEXTS, PLACES, RURAL, language)
    message, fallback = alert_message(TEXTS, language, "weather", area, "Evacuate the low-lying areas now.", True)
    assert message.body.startswith(EMERGENCY_PREFIX)
    assert TEXTS.get(language, "alerts.footer") not in message.body  # an emergency is not a subscription
    assert "Evacuate the low-lying areas now." in message.body
    assert fallback.name == "alert" and fallback.language == language
    assert fallback.body_parameters[0].startswith(EMERGENCY_PREFIX)
    assert TEXTS.get(language, "alerts.topic.weather") in fallback.body_parameters[0]
    assert fallback.body_parameters[1:] == (area, "Evacuate the low-lying areas now.")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_payload_goes_through_the_outbox_and_its_template_fits_whatsapps_limits(language: str) -> None:
    longest = "వ" * MAX_TEXT  # Telugu at the limit: the filled template body must stay under 1,024
    area = area_name(TEXTS, PLACES, NUNNA, language)
    payload = alert_payload(TEXTS, language, "scheme_deadline", area, "\t" + longest + "\n\n", True)
    fallback = outbound_from_dict(payload.pop("fallback"))
    assert isinstance(outbound_from_dict(payload), TextOut)
    assert isinstance(fallback, TemplateOut)
    template = yaml.safe_load((CATALOGUE / "templates" / "alert.yaml").read_text(encoding="utf-8"))
    assert template["variables"] == ["topic", "area", "message"]
    assert len(fallback.body_parameters) == len(template["variables"])
    body = template["languages"][language]["body"]
    for number, value in enumerate(fallback.body_parameters, start=1):
        assert "\n" not in value and "\t" not in value and "     " not in value
        body = body.replace("{{" + str(number) + "}}", value)
    assert "{{" not in body and len(body) < 1024


def test_a_long_multi_line_message_becomes_one_clipped_template_line() -> None:
    text = "line one\n\n   line two " + "x" * 900
    _, fallback = alert_message(TEXTS, "en", "health", "NTR", text, False)
    assert fallback.body_parameters[2].startswith("line one line two x")
    assert len(fallback.body_parameters[2]) <= 720 and fallback.body_parameters[2].endswith("…")


# --- the locale files ------------------------------------------------------------------------------


def _locale(language: str) -> dict[str, str]:
    data = yaml.safe_load((CATALOGUE / "locales" / language / "alerts.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return {str(k): str(v) for k, v in data.items()}


def test_alert_texts_have_the_same_keys_and_placeholders_in_every_language() -> None:
    english = _locale("en")
    assert all(key.startswith("alerts.") for key in english)
    for language in ("te", "hi"):
        texts = _locale(language)
        assert set(texts) == set(english), language
        for key, text in texts.items():
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (language, key)
            assert text.strip(), (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_texts_do_not_clash_with_other_locale_files(language: str) -> None:
    ours = set(_locale(language))
    for path in (CATALOGUE / "locales" / language).glob("*.yaml"):
        if path.stem != "alerts":
            others = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            assert not ours & set(others), path


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_topic_has_a_name_and_words_and_the_emergency_text_starts_with_the_prefix(language: str) -> None:
    texts = _locale(language)
    assert texts["alerts.emergency"].startswith(EMERGENCY_PREFIX)
    for topic in TOPICS:
        assert texts[f"alerts.topic.{topic}"] and texts[f"alerts.words.topic.{topic}"]
    words = [w.strip() for topic in TOPICS for w in texts[f"alerts.words.topic.{topic}"].split(",")]
    assert len(words) == len(set(words)), "a word names one topic"
    assert not set(string.whitespace) & {c for w in words for c in w}, "topic words are single words"


# --- the action ------------------------------------------------------------------------------


class RecordingStore:
    """A store that keeps what it is asked to send and answers a fixed count."""

    def __init__(self) -> None:
        self.sent: list[Broadcast] = []

    async def send(self, broadcast: Broadcast, now: datetime) -> int:
        self.sent.append(broadcast)
        return 3


async def _send(
    who: Officer, area: str = RURAL, text: str = "Power cut 10:00-14:00", topic: str = "power_outage"
) -> RecordingStore:
    """Broadcast through a recording store; the store, holding what the action passed on."""
    store = RecordingStore()
    assert await broadcast(store, TEXTS, who, topic, area, text, False, NOW, PLACES) == 3
    return store


async def test_a_district_administrator_broadcasts_within_their_district_in_every_language() -> None:
    store = RecordingStore()
    admin = officer("district_admin", "ntr")
    assert (
        await broadcast(store, TEXTS, admin, "power_outage", RURAL, "  Power cut\r\n10:00-14:00 ", False, NOW, PLACES)
        == 3
    )
    (sent,) = store.sent
    assert (sent.topic, sent.area, sent.emergency, sent.created_by) == ("power_outage", RURAL, False, 7)
    assert sent.text == "Power cut\n10:00-14:00"
    assert set(sent.payloads) >= set(LANGUAGES)
    assert "విజయవాడ గ్రామీణ" in sent.payloads["te"]["body"] and "Vijayawada Rural" in sent.payloads["en"]["body"]
    assert sent.payloads["hi"]["fallback"]["language"] == "hi"
    assert sent.payload("ur") == sent.payloads["en"]  # a language without a message gets English


async def test_a_district_administrator_is_refused_another_district_and_the_state() -> None:
    admin = officer("district_admin", "ntr")
    for area in ("guntur", "guntur/pedakakani", "state"):
        with pytest.raises(BroadcastRefused):
            await _send(admin, area)
    with pytest.raises(BroadcastRefused):
        await _send(officer("tahsildar", RURAL))
    assert len((await _send(officer("state_admin"), "guntur")).sent) == 1


@pytest.mark.parametrize(
    ("area", "text", "topic", "problem"),
    [
        (RURAL, "", "weather", "text_empty"),
        (RURAL, " \n\t ", "weather", "text_empty"),
        (RURAL, "x" * (MAX_TEXT + 1), "weather", "text_too_long"),
        (RURAL, "rain", "earthquake", "topic"),
        ("ntr/no-such-mandal", "rain", "weather", "area"),
    ],
)
async def test_an_alert_that_will_not_do_is_refused_with_its_problem(
    area: str, text: str, topic: str, problem: str
) -> None:
    with pytest.raises(InvalidBroadcast) as refused:
        await _send(officer("state_admin"), area, text, topic=topic)
    assert refused.value.problem == problem


async def test_an_alert_of_exactly_the_limit_is_accepted() -> None:
    (sent,) = (await _send(officer("state_admin"), "state", "x" * MAX_TEXT)).sent
    assert sent.text == "x" * MAX_TEXT and sent.area == "state"
