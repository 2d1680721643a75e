"""What the citizen is told when their application moves, in their language.

Every change an officer or the clock makes sends one message: a session message, with an
approved template (`catalogue/templates/application_update.yaml`) as its fallback for when the
citizen's 24-hour window has closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sevamitra.core.catalogue import Service
from sevamitra.core.clipping import clip
from sevamitra.core.conversation import BODY_LIMIT, BUTTON_TITLE_LIMIT, rating_list
from sevamitra.core.localtime import local_time
from sevamitra.core.messages import (
    Button,
    ButtonsOut,
    Outbound,
    TemplateOut,
    TextOut,
    outbound_to_dict,
)
from sevamitra.core.texts import Texts
from sevamitra.core.workflow import Case, citizen_clock

UPDATE_TEMPLATE = "application_update"
REMINDER_TEMPLATE = "officer_reminder"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """One message to send, and the template that stands in for it outside the 24-hour window."""

    message: Outbound
    fallback: TemplateOut

    def payload(self) -> dict[str, object]:
        return {**outbound_to_dict(self.message), "fallback": outbound_to_dict(self.fallback)}


def case_note(
    texts: Texts,
    language: str,
    event: str,
    *,
    reference: str,
    service: Service,
    case: Case | None = None,
    submitted_at: datetime | None = None,
    now: datetime | None = None,
    **params: str,
) -> Note:
    """The message for `event`: returned, rejected, approved, deemed_approved, moved, escalated,
    rerouted, note."""
    name = service.name(language)
    values: dict[str, object] = {"reference": reference, "service": name, **params}
    if event in ("moved", "escalated", "rerouted") and case and submitted_at and now:
        role = case.desk.partition("@")[0]
        values["role"] = texts.get(language, f"role.{role}")
        values["clock"] = _clock(texts, language, case, service, submitted_at, now)
    body = clip(texts.get(language, f"case.{event}", **values), BODY_LIMIT)
    message: Outbound
    if event == "returned":
        fix = Button(id=f"fix:{reference}", title=clip(texts.get(language, "button_correct"), BUTTON_TITLE_LIMIT))
        message = ButtonsOut(body=body, buttons=(fix,))
    else:
        message = TextOut(body=body)
    short = clip(texts.get(language, f"status.{_status_word(event)}"), 60)
    fallback = TemplateOut(name=UPDATE_TEMPLATE, language=language, body_parameters=(reference, name, short))
    return Note(message=message, fallback=fallback)


def reminder_note(texts: Texts, language: str, *, reference: str, service: Service, due: datetime) -> Note:
    when = local_time(due)
    name = service.name(language)
    body = texts.get(language, "officer.reminder", reference=reference, service=name, due=when)
    fallback = TemplateOut(name=REMINDER_TEMPLATE, language=language, body_parameters=(reference, name, when))
    return Note(message=TextOut(body=body), fallback=fallback)


def _clock(texts: Texts, language: str, case: Case, service: Service, submitted_at: datetime, now: datetime) -> str:
    clock = citizen_clock(case, service, submitted_at, now)
    if clock.next_role is None:
        return texts.get(language, "clock_day", day=clock.day, of=clock.of_days)
    role = texts.get(language, f"role.{clock.next_role}")
    return texts.get(language, "clock_day_moves", day=clock.day, of=clock.of_days, role=role, next_day=clock.next_day)


def _status_word(event: str) -> str:
    return {
        "returned": "returned",
        "rejected": "rejected",
        "approved": "approved",
        "deemed_approved": "approved",
        "moved": "under_review",
        "escalated": "under_review",
        "rerouted": "under_review",
        "note": "under_review",
    }.get(event, "under_review")


def rating_ask(texts: Texts, language: str, reference: str) -> Outbound:
    """After the decision: how was it, 5 (excellent) to 1 (very poor)."""
    return rating_list(texts, language, reference)
