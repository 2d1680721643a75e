"""The holder's note when their certificate is verified online (if they asked for it in chat)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sevamitra.core.alerts import ALERT_INTERVAL, verified_note
from sevamitra.core.certificates import Verdict
from sevamitra.core.messages import outbound_to_dict
from sevamitra.core.ports import HolderAlerts
from sevamitra.core.texts import Texts

# Verdicts on a statement our own key signed: the certificate is real, so its holder may want to know.
NOTED_VERDICTS = frozenset({Verdict.VALID, Verdict.REVOKED, Verdict.SUPERSEDED, Verdict.EXPIRED})


async def alert_holder(alerts: HolderAlerts, texts: Texts, *, number: str, verdict: Verdict, now: datetime) -> bool:
    """Queue the note for an online verification of `number`; False when none is due or wanted."""
    if verdict not in NOTED_VERDICTS:
        return False

    def compose(language: str) -> dict[str, Any]:
        note = verified_note(texts, language, number=number, verdict=verdict.value, at=now)
        return outbound_to_dict(note)

    return await alerts.alert(number, now=now, since=now - ALERT_INTERVAL, compose=compose)
