"""Broadcast alerts: topics, who an alert for an area reaches, the words that opt in and out, the message.

Citizens opt in to a topic (weather, power outages, ...) for an area: a village or ward, a mandal
or urban local body, a district, or the whole state ("state"). Officers send an alert about a
topic to an area.

Who an alert reaches (`reaches`): a subscription reaches an alert when either area lies within
the other. A citizen who asked about a place wants alerts about that place and anything inside
it (a village alert reaches a subscriber of its district, who asked about the whole district),
and alerts about a larger area that contains it (a district-wide flood alert reaches a village's
subscriber). A village alert does not reach a subscriber of the neighbouring village, and a
subscriber of "state" gets the topic's alerts from everywhere.

Emergencies reach everyone in the area, subscribed or not: see `SqlBroadcasts` for who we know
to be there. Their message opens with `EMERGENCY_PREFIX`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from sevamitra.core.clipping import clip
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.messages import TemplateOut, TextOut, outbound_to_dict
from sevamitra.core.officers import Officer, within
from sevamitra.core.texts import Texts
from sevamitra.core.workflow import STATE

TOPICS: Final = ("weather", "power_outage", "water_supply", "health", "scheme_deadline", "exams")
# Which departments' administrators may alert about each topic (None: any department's).
TOPIC_DEPARTMENTS: Final[Mapping[str, frozenset[str] | None]] = {
    "weather": frozenset({"revenue"}),  # disaster management sits with revenue in the districts
    "power_outage": frozenset({"energy"}),
    "water_supply": frozenset({"rural-water-supply", "municipal", "panchayat-raj"}),
    "health": frozenset({"health"}),
    "scheme_deadline": None,  # every department runs schemes with deadlines
    "exams": frozenset({"school-education", "intermediate-education"}),
}
ALERT_TEMPLATE: Final = "alert"  # catalogue/templates/alert.yaml: variables [topic, area, message]
EMERGENCY_PREFIX: Final = "⚠️ EMERGENCY"  # every language's `alerts.emergency` starts with it
MAX_TEXT: Final = 700  # characters an officer may write in one alert
TEMPLATE_PARAMETER_LIMIT: Final = 720  # the message inside the template; its body stays under 1,024
_SPACES = re.compile(r"\s+")


# --- who an alert reaches -------------------------------------------------------------------


def covers(outer: str, inner: str) -> bool:
    """Whether the area `outer` (a place id, or "state") contains the area `inner`, or is it."""
    return within(inner, outer)


def reaches(subscription_area: str, alert_area: str) -> bool:
    """Whether an alert about `alert_area` goes to a subscriber of `subscription_area`: one lies within the other."""
    return covers(alert_area, subscription_area) or covers(subscription_area, alert_area)


def ancestors(area: str) -> tuple[str, ...]:
    """The areas that contain `area`, largest first, the state included: `ntr/a/b` → state, ntr, ntr/a."""
    if area == STATE:
        return ()
    parts = area.split("/")
    return (STATE, *("/".join(parts[:i]) for i in range(1, len(parts))))


def may_broadcast(officer: Officer, topic: str, area: str) -> bool:
    """Whether the officer may alert `area` about `topic`: a state administrator anywhere, a district
    administrator within their district, a department administrator anywhere about their
    department's topics; nobody else."""
    if not officer.active or topic not in TOPICS:
        return False
    if officer.role == "state_admin":
        return True
    if officer.role == "district_admin":
        return area != STATE and covers(officer.place, area)
    if officer.role == "department_admin":
        departments = TOPIC_DEPARTMENTS[topic]
        return officer.department_id is not None and (departments is None or officer.department_id in departments)
    return False


def topics_for(officer: Officer) -> tuple[str, ...]:
    """The topics the officer may alert about somewhere."""
    if officer.role == "department_admin":
        return tuple(t for t in TOPICS if may_broadcast(officer, t, STATE))
    return TOPICS if officer.role in ("state_admin", "district_admin") and officer.active else ()


# --- what an officer sends --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Broadcast:
    """One alert, composed in every language: what the store records and queues for each recipient."""

    topic: str
    area: str
    emergency: bool
    text: str  # the officer's words, as sent
    payloads: Mapping[str, Mapping[str, Any]]  # language → outbox payload (the message, with its "fallback")
    default_language: str = "en"  # for a recipient whose language has no payload
    created_by: int | None = None  # the officer

    def payload(self, language: str) -> Mapping[str, Any]:
        return self.payloads.get(language) or self.payloads[self.default_language]


@dataclass(frozen=True, slots=True, kw_only=True)
class SentBroadcast:
    """A broadcast as the dashboard lists it."""

    id: int
    topic: str
    area: str
    emergency: bool
    text: str
    created_by: int | None
    created_at: datetime
    recipients: int


class BroadcastStore(Protocol):
    async def send(self, broadcast: Broadcast, now: datetime) -> int:
        """Record the broadcast and queue it for each of its recipients, once each; returns how many."""
        ...


def area_name(texts: Texts, places: Jurisdictions, area: str, language: str) -> str:
    """An area as citizens read it: `Nunna, Vijayawada Rural, NTR`; the state by its name."""
    if area == STATE:
        return texts.get(language, "alerts.state")
    if area not in places:
        return area.rpartition("/")[2]
    return ", ".join(place.name(language) for place in reversed(places.path(area)))


def topic_name(texts: Texts, language: str, topic: str) -> str:
    return texts.get(language, f"alerts.topic.{topic}")


def alert_message(
    texts: Texts, language: str, topic: str, area_name: str, text: str, emergency: bool
) -> tuple[TextOut, TemplateOut]:
    """The alert as a session message, and the approved template that stands in for it outside the
    citizen's 24-hour window. An emergency opens both with the `EMERGENCY_PREFIX`."""
    topic_text = topic_name(texts, language, topic)
    words = text.strip()
    body = texts.get(language, "alerts.message", topic=topic_text, area=area_name, text=words)
    if emergency:
        body = texts.get(language, "alerts.emergency") + "\n" + body
    else:
        body += "\n\n" + texts.get(language, "alerts.footer")
    topic_parameter = f"{texts.get(language, 'alerts.emergency')} · {topic_text}" if emergency else topic_text
    fallback = TemplateOut(
        name=ALERT_TEMPLATE,
        language=language,
        body_parameters=(
            template_parameter(topic_parameter, 120),
            template_parameter(area_name, 160),
            template_parameter(words, TEMPLATE_PARAMETER_LIMIT),
        ),
    )
    return TextOut(body=body), fallback


def alert_payload(
    texts: Texts, language: str, topic: str, area_name: str, text: str, emergency: bool
) -> dict[str, Any]:
    """The outbox payload: the message, with its template as the `fallback` the sender uses on 131047."""
    message, fallback = alert_message(texts, language, topic, area_name, text, emergency)
    return {**outbound_to_dict(message), "fallback": outbound_to_dict(fallback)}


def template_parameter(text: str, limit: int) -> str:
    """A template's body parameter as WhatsApp takes it: one line, no runs of spaces, at most `limit` characters."""
    return clip(_SPACES.sub(" ", text).strip(), limit)


# --- what a citizen types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe:
    """Opt in: `topic` None asks for every topic; `area` the place as typed (None: not said), to resolve
    with `resolve_area`."""

    topic: str | None = None
    area: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe:
    """Opt out of `topic` in every area; None: of every alert."""

    topic: str | None = None


AlertCommand = Subscribe | Unsubscribe


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    stop: frozenset[str]
    start: frozenset[str]
    alerts: frozenset[str]
    filler: frozenset[str]
    topics: Mapping[str, str] = field(default_factory=dict)  # word → topic


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _tokens(text: str) -> list[str]:
    """Words, casefolded, without punctuation around them (Telugu and Hindi vowel signs are kept)."""
    words = []
    for raw in _folded(text).split():
        word = "".join(ch for ch in raw if unicodedata.category(ch)[0] in "LMN" or ch in "_-")
        if word.strip("_-"):
            words.append(word)
    return words


def _words(texts: Texts, languages: tuple[str, ...], key: str) -> frozenset[str]:
    found: set[str] = set()
    for language in languages:
        for word in texts.by_language.get(language, {}).get(key, "").split(","):
            if word.strip():
                found.add(_folded(word.strip()))
    return frozenset(found)


def _vocabulary(texts: Texts, language: str) -> _Vocabulary:
    languages = (language, "en") if language != "en" else ("en",)
    topics: dict[str, str] = {}
    for topic in TOPICS:
        for word in _words(texts, languages, f"alerts.words.topic.{topic}") | {topic}:
            topics.setdefault(word, topic)
    return _Vocabulary(
        stop=_words(texts, languages, "alerts.words.stop"),
        start=_words(texts, languages, "alerts.words.start"),
        alerts=_words(texts, languages, "alerts.words.alerts"),
        filler=_words(texts, languages, "alerts.words.filler"),
        topics=topics,
    )


def parse_alert_command(text: str, texts: Texts, language: str) -> AlertCommand | None:
    """What a citizen's words ask of their alerts, or None when they are about something else.

    The words are those of the citizen's language and English (`alerts.words.*`), in any order:
    a stop word alone ("stop", "ఆపు", "వద్దు", "बंद") opts out of everything; a stop word with the
    word for alerts and/or a topic opts out of that ("stop alerts", "alerts off", "weather alerts
    stop", "వాతావరణ సూచనలు ఆపు", "अलर्ट बंद करें"). The word for alerts or a start word with a
    topic opts in, and the words left over name the area ("alerts weather Nunna", "subscribe
    weather alerts for Vijayawada Rural", "मौसम अलर्ट चालू"). A `Subscribe` without an area
    should be answered with a question for it: a subscription is always for an area. A topic alone, or a start word
    alone ("start" is also the menu), is not about alerts. Stop and start words together are
    ambiguous: None. An opt-out with other words in it ("stop my application") is not one.
    """
    tokens = _tokens(text)
    if not tokens:
        return None
    words = _vocabulary(texts, language)
    if len(tokens) == 1 and tokens[0] in words.stop:
        return Unsubscribe()
    stop = start = alerts = False
    topics: list[str] = []
    rest: list[str] = []
    for token in tokens:
        if token in words.stop:
            stop = True
        elif token in words.start:
            start = True
        elif token in words.alerts:
            alerts = True
        elif token in words.topics:
            topics.append(words.topics[token])
        elif token not in words.filler:
            rest.append(token)
    named = tuple(dict.fromkeys(topics))
    if (stop and start) or len(named) > 1 or not (alerts or named):
        return None
    topic = named[0] if named else None
    if stop:
        return None if rest else Unsubscribe(topic=topic)
    if alerts or start:
        return Subscribe(topic=topic, area=" ".join(rest) or None)
    return None


def resolve_area(words: str, texts: Texts, places: Jurisdictions) -> str | None:
    """The area a citizen named: "state" for the state's names (`alerts.words.state`), else the
    best-matching place, else None."""
    folded = " ".join(_tokens(words))
    if not folded:
        return None
    every = tuple(texts.by_language)
    if folded in _words(texts, every, "alerts.words.state"):
        return STATE
    found = places.find(words, limit=1)
    return found[0].id if found else None


def subscribed_text(texts: Texts, language: str, topic: str | None, area_name: str) -> str:
    """The reply to an opt-in: "We will send you weather alerts for Nunna here"; `topic` None: every alert."""
    if topic is None:
        return texts.get(language, "alerts.subscribed_all", area=area_name)
    return texts.get(language, "alerts.subscribed", topic=topic_name(texts, language, topic), area=area_name)


def unsubscribed_text(texts: Texts, language: str, topic: str | None) -> str:
    """The reply to an opt-out; `topic` None: of every alert."""
    if topic is None:
        return texts.get(language, "alerts.unsubscribed_all")
    return texts.get(language, "alerts.unsubscribed", topic=topic_name(texts, language, topic))
