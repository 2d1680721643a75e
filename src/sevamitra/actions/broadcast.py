"""Sending a broadcast alert: who may, what is accepted, and the message composed in every language.

The alert goes through the outbox like every other message, so the sender's per-number token
bucket paces it and the approved `alert` template stands in for it outside a citizen's 24-hour
window.
"""

from __future__ import annotations

from datetime import datetime

from sevamitra.core.broadcasts import (
    MAX_TEXT,
    TOPICS,
    Broadcast,
    BroadcastStore,
    alert_payload,
    area_name,
    may_broadcast,
)
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.officers import Officer
from sevamitra.core.texts import Texts
from sevamitra.core.workflow import STATE

DEFAULT_LANGUAGE = "en"


class BroadcastRefused(Exception):
    """The officer may not alert this area about this topic."""


class InvalidBroadcast(ValueError):
    """The alert will not do; `problem` names why: text_empty, text_too_long, topic or area
    (`alerts.error.<problem>` in the locale files says it to the officer)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def clean_text(text: str) -> str:
    """The officer's words as sent: line ends made `\\n`, spaces at either end dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def check(topic: str, area: str, text: str, places: Jurisdictions) -> str:
    """The cleaned text, or InvalidBroadcast."""
    if topic not in TOPICS:
        raise InvalidBroadcast("topic")
    if area != STATE and area not in places:
        raise InvalidBroadcast("area")
    cleaned = clean_text(text)
    if not cleaned:
        raise InvalidBroadcast("text_empty")
    if len(cleaned) > MAX_TEXT:
        raise InvalidBroadcast("text_too_long")
    return cleaned


def compose(
    texts: Texts,
    places: Jurisdictions,
    *,
    topic: str,
    area: str,
    text: str,
    emergency: bool,
    created_by: int | None = None,
) -> Broadcast:
    """The broadcast with its message in every language the texts have."""
    languages = tuple(texts.by_language) or (DEFAULT_LANGUAGE,)
    payloads = {
        language: alert_payload(texts, language, topic, area_name(texts, places, area, language), text, emergency)
        for language in languages
    }
    default = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in payloads else languages[0]
    return Broadcast(
        topic=topic,
        area=area,
        emergency=emergency,
        text=text,
        payloads=payloads,
        default_language=default,
        created_by=created_by,
    )


async def broadcast(
    store: BroadcastStore,
    texts: Texts,
    officer: Officer,
    topic: str,
    area: str,
    text: str,
    emergency: bool,
    now: datetime,
    places: Jurisdictions,
) -> int:
    """Queue the alert for everyone it reaches; returns how many citizens that is.

    BroadcastRefused when the officer may not (a district administrator outside their district,
    anyone but an administrator); InvalidBroadcast when the topic or area is unknown or the text
    empty or longer than MAX_TEXT characters."""
    cleaned = check(topic, area, text, places)
    if not may_broadcast(officer, topic, area):
        raise BroadcastRefused(f"{officer.role} at {officer.place} may not alert {area} about {topic}")
    composed = compose(texts, places, topic=topic, area=area, text=cleaned, emergency=emergency, created_by=officer.id)
    return await store.send(composed, now)
