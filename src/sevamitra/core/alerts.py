"""The holder's note when their certificate is verified online: when it is due, and what it says.

A holder who asked for these notes learns each time someone checks their certificate on the
portal, so a copy shown where they did not show it comes to light. Verifiers who scan the same
paper again and again would flood the holder: one note per certificate per `ALERT_INTERVAL`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sevamitra.core.clipping import clip
from sevamitra.core.conversation import BUTTON_TITLE_LIMIT
from sevamitra.core.localtime import local_time
from sevamitra.core.messages import Button, ButtonsOut
from sevamitra.core.texts import Texts

ALERT_INTERVAL = timedelta(minutes=10)


def alert_due(last_alerted_at: datetime | None, now: datetime) -> bool:
    """Whether a new note may go out now, given when the last one did."""
    return last_alerted_at is None or now - last_alerted_at >= ALERT_INTERVAL


def verified_note(texts: Texts, language: str, *, number: str, verdict: str, at: datetime) -> ButtonsOut:
    """ "Your certificate N was verified online at T: <verdict>", with a button to stop these notes."""
    body = texts.get(
        language,
        "alerts_verified",
        number=number,
        time=local_time(at),
        verdict=texts.get(language, f"verify.verdict.{verdict}"),
    )
    stop = clip(texts.get(language, "button_alerts_off"), BUTTON_TITLE_LIMIT)
    return ButtonsOut(body=body, buttons=(Button(id=f"alerts:off:{number}", title=stop),))
