"""Erasure of a citizen's personal data: what is erased, what is kept, and when it is due.

A citizen asks in chat ("delete my data"); the request is recorded at once and carried out by the
worker once the retention period has passed since the citizen's last application changed (or since
the request, if later). An application still with an officer holds the erasure back: its retention
starts when it is decided. What stays is what statistics need and what identifies no one: the
service, district, status and dates of each application, the counts of messages, the transparency
log (hashes only) and the officers' audit trail (reference numbers, never a citizen's number).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sevamitra.core.applications import Status
from sevamitra.core.clipping import clip
from sevamitra.core.idnumbers import aadhaar_problem, mask_aadhaar
from sevamitra.core.messages import Button, ButtonsOut
from sevamitra.core.texts import Texts
from sevamitra.core.workflow import OPEN

# What the citizen is told is erased, and what is kept (text keys `erasure.erased.<item>`, `erasure.kept.<item>`).
ERASED = ("conversation", "answers", "photos", "messages", "payments", "comments", "alerts")
KEPT = ("statistics", "certificates", "log", "audit")

WAITING, DONE = "waiting", "done"  # an erasure request's states
RECHECK = timedelta(days=1)  # how soon an erasure held back by an open application is looked at again
ERASED_ADDRESS_PREFIX = "erased:"  # what stands for the citizen in the rows that stay


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestErasure:
    """The citizen confirmed: record their erasure request (once) and say when it is due."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasureScheduled:
    requested_at: datetime  # the first request, when the citizen asked again
    due_at: datetime
    open_applications: int  # still with an officer: kept until decided, then for the retention period
    again: bool  # it had been asked for before


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationTimes:
    """What the due date depends on: whether an application is still open, and when it last changed."""

    status: Status
    last_change: datetime

    @property
    def open(self) -> bool:
        return self.status in OPEN


def erasure_due(requested_at: datetime, applications: Iterable[ApplicationTimes], retention: timedelta) -> datetime:
    """The retention period after the later of the request and the last change of any application.
    Open applications count as changed at the request (they push it later once decided)."""
    latest = max([requested_at, *(a.last_change for a in applications if not a.open)])
    return latest + retention


def held_back(applications: Iterable[ApplicationTimes]) -> int:
    """How many applications are still with an officer (the erasure waits for them)."""
    return sum(1 for a in applications if a.open)


def erased_address(request_id: int) -> str:
    """What stands for the citizen in the rows that stay: the same for all of theirs, nobody's number."""
    return f"{ERASED_ADDRESS_PREFIX}{request_id}"


def erased_decision(decision: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An instant decision without the registry's facts about the person: its outcome and amount only."""
    if decision is None:
        return None
    return {"outcome": decision.get("outcome"), "amount_inr": decision.get("amount_inr"), "erased": True}


FREE_TEXT_DETAILS = frozenset({"message", "comment", "note", "text"})  # an officer's or citizen's own words


def erased_detail(detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An application event's detail without free text (which may name people); codes and desks stay."""
    if detail is None:
        return None
    return {key: value for key, value in detail.items() if key not in FREE_TEXT_DETAILS}


def erased_message(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox message reduced to its kind (counts of messages sent stay computable)."""
    return {"kind": payload.get("kind"), "erased": True}


def erased_fragment(kind: str, fragment: Mapping[str, Any]) -> dict[str, Any]:
    """An inbox row's wire data reduced to its kind and, for a message, its type."""
    kept: dict[str, Any] = {"erased": True, "kind": kind}
    message = fragment.get("message")
    if isinstance(message, Mapping) and isinstance(message.get("type"), str):
        kept["type"] = message["type"]
    return kept


# ---------------------------------------------------------------- what the citizen is told

CONFIRM, DECLINE = "erase:yes", "erase:no"  # the question's buttons


def erasure_question(texts: Texts, language: str, retention_days: int) -> ButtonsOut:
    """What would be erased and what kept, and after how long; the citizen confirms with a button."""
    body = texts.get(
        language,
        "erasure.ask",
        days=retention_days,
        erased="\n".join(texts.get(language, f"erasure.erased.{item}") for item in ERASED),
        kept="\n".join(texts.get(language, f"erasure.kept.{item}") for item in KEPT),
    )
    buttons = (
        Button(id=CONFIRM, title=clip(texts.get(language, "erasure.button_yes"), 20)),
        Button(id=DECLINE, title=clip(texts.get(language, "erasure.button_no"), 20)),
    )
    return ButtonsOut(body=clip(body, 1024), buttons=buttons)


def erasure_answer(
    texts: Texts, language: str, scheduled: ErasureScheduled, retention_days: int, date: Callable[[datetime], str]
) -> str:
    """The request as recorded: when it was made and when the erasure is due (`date` formats a moment)."""
    key = "erasure.again" if scheduled.again else "erasure.scheduled"
    lines = [texts.get(language, key, requested=date(scheduled.requested_at), due=date(scheduled.due_at))]
    if scheduled.open_applications:
        lines.append(texts.get(language, "erasure.open", count=scheduled.open_applications, days=retention_days))
    return "\n\n".join(lines)


# ---------------------------------------------------------------- identity numbers in free text

# Twelve digits in any script, typed whole or in groups of four (spaces, hyphens or dots between).
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{4}[ \-.]?\d{4}[ \-.]?\d{4}(?!\d)")
# Keys whose values are identifiers of people or messages on the channel, never text someone wrote.
_IDENTIFIER_KEYS = frozenset(
    {"from", "from_user_id", "id", "wa_id", "user_id", "recipient_id", "recipient_user_id", "to"}
    | {"display_phone_number", "phone_number_id", "timestamp"}
)


def mask_identity_numbers(text: str) -> str:
    """Every Aadhaar number in a text (a valid one: twelve digits passing Verhoeff's check) masked as
    `XXXX XXXX 1234`. Other numbers stay as they are."""

    def masked(found: re.Match[str]) -> str:
        digits = "".join(str(int(ch)) for ch in found.group() if ch.isdecimal())
        return mask_aadhaar(digits) if aadhaar_problem(digits) is None else found.group()

    return _TWELVE_DIGITS.sub(masked, text)


def masked_fragment(value: Any, key: str | None = None) -> Any:
    """A webhook fragment with the Aadhaar numbers in what the citizen wrote masked (text, captions,
    a Flow's answers); the channel's identifiers (phone numbers, ids) are left as they are."""
    if isinstance(value, str):
        return value if key in _IDENTIFIER_KEYS else mask_identity_numbers(value)
    if isinstance(value, Mapping):
        return {k: masked_fragment(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_fragment(v, key) for v in value]
    return value
