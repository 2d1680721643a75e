"""Officers' decisions and the SLA clock: the only write paths of a reviewed application.

Each runs in one transaction over the locked application: the new status and case, the history
event, the message to the citizen (with its template fallback) and, on a final approval, the
certificate issued through the issuance action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sevamitra.actions.issue import CERTIFYING_OUTPUTS, answer_lines, issue, office_of, statement_for
from sevamitra.core.applications import Status, check_transition
from sevamitra.core.casenotes import case_note, rating_ask, reminder_note
from sevamitra.core.catalogue import Service
from sevamitra.core.clipping import clip
from sevamitra.core.conversation import Context
from sevamitra.core.display import shown_answers
from sevamitra.core.messages import Button, ButtonsOut, ImageOut, TextOut, outbound_to_dict
from sevamitra.core.officers import Officer, may_act
from sevamitra.core.ports import Cases, CaseTransaction, CertificateMaker
from sevamitra.core.roles import level_of
from sevamitra.core.workflow import (
    OPEN,
    Action,
    ActionError,
    Case,
    Place,
    act,
    holder_role,
    next_clock,
    on_clock,
    rerouted,
)

REJECT_REASONS = (
    "incomplete_documents",
    "not_eligible",
    "wrong_information",
    "duplicate",
    "outside_jurisdiction",
    "other",
)


DEEP_ENOUGH = {"secretariat": ("village",), "mandal": ("mandal", "village")}  # the places a level's desk may be at
PLACE_PROBLEM = "choose a known place, deep enough for the officer who holds the case"
GRIEVANCE = "grievance_ticket"  # the output of a grievance: resolved with an after photo, then confirmed


class NotFound(LookupError):
    """No application has that reference."""


class Forbidden(PermissionError):
    """The officer may not act on this application (not their desk, role or jurisdiction)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Review:
    """What the officer submitted with an action."""

    action: Action
    reason: str = ""  # reject: one of REJECT_REASONS
    message: str = ""  # free text: to the citizen (return, reject) or the note
    fields: tuple[str, ...] = ()  # return: the fields to correct
    photo: tuple[str, bytes] | None = None  # note: (content type, bytes) of a field-verification photo
    place: str = ""  # reroute: the id of the village, ward, mandal or town whose office should hold it


@dataclass(frozen=True, slots=True, kw_only=True)
class Reviewed:
    status: Status
    desk: str | None
    certificate: str | None = None  # the number of the certificate issued


async def review(
    cases: Cases,
    context: Context,
    maker: CertificateMaker | None,
    officer: Officer,
    reference: str,
    submitted: Review,
    now: datetime,
    *,
    photo_link: Callable[[int], str] | None = None,
) -> Reviewed:
    """Apply an officer's action to an application at their desk. `photo_link` makes the public link
    of a stored photo (a grievance's after photo goes to the citizen)."""
    async with cases.transaction(reference, now) as tx:
        if tx is None:
            raise NotFound(reference)
        record = tx.record
        if record.case is None or not may_act(officer, record.case.desk):
            raise Forbidden(reference)
        service = _service(context, record.service_id)
        _check(submitted, service)
        if submitted.action == "reroute":
            return await _reroute(tx, context, service, officer, submitted, now)
        acted = act(submitted.action, record.case, record.status, service, record.answers, now)
        if acted.status != record.status:
            check_transition(record.status, acted.status)
        detail: dict[str, Any] = {"desk": record.case.desk}
        if submitted.action == "reject":
            detail |= {"reason": submitted.reason, "message": submitted.message}
        if submitted.action == "return":
            detail |= {"fields": list(submitted.fields), "message": submitted.message}
        if submitted.action == "note":
            detail |= {"message": submitted.message, "photo": submitted.photo is not None}
            if submitted.photo is not None:
                await tx.attach(officer.id, *submitted.photo)
        if submitted.action in ("approve", "forward") and not acted.issue:
            detail["to"] = acted.case.desk
        if acted.issue and service.output.kind == GRIEVANCE and submitted.photo is None:
            raise ActionError("a grievance is resolved with a photo taken after the work")
        kind = (
            "resolved"
            if acted.issue and service.output.kind == GRIEVANCE
            else _event_kind(submitted.action, acted.issue)
        )
        await tx.event(officer.username, kind, detail)
        open_case = acted.case if acted.status in OPEN else None
        clock_at = next_clock(acted.case, service) if open_case else None
        number = None
        if acted.issue and service.output.kind == GRIEVANCE:
            return await _resolve(tx, context, service, officer, submitted, acted.case, photo_link, now)
        if acted.issue:
            number = await _issue(tx, context, maker, service, now)
            status = Status.ISSUED if number else Status.APPROVED
            await tx.update(status=status, case=acted.case, clock_at=None)
            await _tell(tx, context, service, "approved", now)
            await _ask_rating(tx, context)
            return Reviewed(status=status, desk=None, certificate=number)
        await tx.update(status=acted.status, case=acted.case, clock_at=clock_at)
        await _tell_after(tx, context, service, submitted, acted.case.desk, now)
        if acted.status is Status.REJECTED:
            await _ask_rating(tx, context)
        return Reviewed(status=acted.status, desk=acted.case.desk if open_case else None)


async def _resolve(
    tx: CaseTransaction,
    context: Context,
    service: Service,
    officer: Officer,
    submitted: Review,
    case: Case,
    photo_link: Callable[[int], str] | None,
    now: datetime,
) -> Reviewed:
    """A grievance fixed: the after photo to the citizen, who confirms it or reopens it."""
    assert submitted.photo is not None
    photo = await tx.attach(officer.id, *submitted.photo)
    record = tx.record
    check_transition(record.status, Status.RESOLVED)
    await tx.update(status=Status.RESOLVED, case=case, clock_at=None)
    language = record.language
    if photo_link is not None:
        image = ImageOut(link=photo_link(photo), caption=record.reference)
        await tx.notify(record.recipient, record.address, outbound_to_dict(image))
    texts = context.texts
    question = ButtonsOut(
        body=texts.get(language, "case.resolved", reference=record.reference, service=service.name(language)),
        buttons=(
            Button(id=f"gfix:{record.reference}:yes", title=clip(texts.get(language, "button_fixed"), 20)),
            Button(id=f"gfix:{record.reference}:no", title=clip(texts.get(language, "button_not_fixed"), 20)),
        ),
    )
    await tx.notify(record.recipient, record.address, outbound_to_dict(question))
    for reference, recipient, address, language in await tx.close_joined():  # "me too" reporters hear too
        if photo_link is not None:
            await tx.notify(recipient, address, outbound_to_dict(ImageOut(link=photo_link(photo), caption=reference)))
        said = texts.get(language, "case.joined_resolved", reference=reference, joined=record.reference)
        await tx.notify(recipient, address, outbound_to_dict(TextOut(body=said)))
    return Reviewed(status=Status.RESOLVED, desk=None)


async def _reroute(
    tx: CaseTransaction, context: Context, service: Service, officer: Officer, submitted: Review, now: datetime
) -> Reviewed:
    """The case to the same step's office of the place it belongs to; recorded, and the citizen told."""
    record = tx.record
    assert record.case is not None
    if record.status not in OPEN:
        raise ActionError(f"an application that is {record.status} cannot be acted on")
    place = _routing_place(context, submitted.place, holder_role(record.case, service))
    case = rerouted(record.case, service, place, now)
    if case.desk == record.case.desk:
        raise ActionError("the application is already with that office")
    await tx.event(
        officer.username, "rerouted", {"from": record.case.desk, "to": case.desk, "message": submitted.message}
    )
    await tx.update(status=record.status, case=case, clock_at=next_clock(case, service))
    where = context.places.get(submitted.place) if context.places else None
    name = where.name(record.language) if where else submitted.place
    await _tell(tx, context, service, "rerouted", now, desk=case.desk, place=name)
    return Reviewed(status=record.status, desk=case.desk)


def _routing_place(context: Context, place_id: str, role: str) -> Place:
    """The workflow place of a registry place id, deep enough for `role`'s level."""
    places = context.places
    found = places.get(place_id) if places else None
    if places is None or found is None:
        raise ActionError(PLACE_PROBLEM)
    if found.level not in DEEP_ENOUGH.get(level_of(role), ("district", "mandal", "village")):
        raise ActionError(PLACE_PROBLEM)
    if found.level == "village":
        return Place.from_dict(places.chain(found.id)._asdict())
    ids = [p.id for p in places.path(found.id)]
    return Place(district=ids[0], mandal=ids[1] if len(ids) > 1 else "")


def _service(context: Context, service_id: str) -> Service:
    service = context.catalogue.service(service_id)
    if service is None:
        raise ActionError(f"the service {service_id} is no longer in the catalogue")
    return service


def _check(submitted: Review, service: Service) -> None:
    if submitted.action == "reject" and submitted.reason not in REJECT_REASONS:
        raise ActionError("choose a reason for the rejection")
    if submitted.action == "return":
        known = {f.id for f in service.fields}
        if not submitted.fields or any(f not in known for f in submitted.fields):
            raise ActionError("choose the fields the citizen must correct")
    if submitted.action == "note" and not (submitted.message.strip() or submitted.photo):
        raise ActionError("a note needs a text or a photo")
    if submitted.action == "reroute" and not submitted.place:
        raise ActionError(PLACE_PROBLEM)


def _event_kind(action: Action, final: bool) -> str:
    if action == "approve":
        return "approved" if final else "approved_step"
    return {"reject": "rejected", "return": "returned", "forward": "forwarded", "note": "note", "reroute": "rerouted"}[
        action
    ]


async def _tell_after(
    tx: CaseTransaction, context: Context, service: Service, submitted: Review, desk: str, now: datetime
) -> None:
    record = tx.record
    language = record.language
    if submitted.action == "return":
        labels = ", ".join(_label(service, f, language) for f in submitted.fields)
        await _tell(tx, context, service, "returned", now, message=submitted.message or "-", fields=labels)
    elif submitted.action == "reject":
        reason = context.texts.get(language, f"reject.{submitted.reason}")
        await _tell(tx, context, service, "rejected", now, reason=reason, note=submitted.message)
    elif submitted.action in ("approve", "forward") and desk != (record.case.desk if record.case else None):
        await _tell(tx, context, service, "moved", now, desk=desk)
    elif submitted.action == "note":
        await _tell(tx, context, service, "note", now)


async def _tell(
    tx: CaseTransaction,
    context: Context,
    service: Service,
    event: str,
    now: datetime,
    desk: str | None = None,
    **params: str,
) -> None:
    record = tx.record
    case = record.case
    if desk is not None and case is not None:
        case = replace(case, desk=desk)
    note = case_note(
        context.texts,
        record.language,
        event,
        reference=record.reference,
        service=service,
        case=case,
        submitted_at=record.submitted_at,
        now=now,
        **params,
    )
    await tx.notify(record.recipient, record.address, note.payload())


async def _ask_rating(tx: CaseTransaction, context: Context) -> None:
    record = tx.record
    await tx.notify(
        record.recipient, record.address, outbound_to_dict(rating_ask(context.texts, record.language, record.reference))
    )


def _label(service: Service, field_id: str, language: str) -> str:
    spec = service.form_field(field_id)
    if spec is None:
        return field_id
    return spec.labels.get(language) or spec.labels.get("en") or field_id.replace("_", " ")


async def _issue(
    tx: CaseTransaction, context: Context, maker: CertificateMaker | None, service: Service, now: datetime
) -> str | None:
    """Issue the service's certificate to the citizen in this transaction; None when it issues none."""
    if maker is None or service.output.kind not in CERTIFYING_OUTPUTS:
        return None
    record = tx.record
    shown = shown_answers(service, record.answers, context.places, "te")
    statement = statement_for(
        service,
        number=record.reference,
        answers=record.answers,
        shown=shown,
        facts=(),
        office=office_of(context, service, record.answers),
        issued_at=now,
    )
    lines = answer_lines(service, shown, context.texts)
    caption = context.texts.get(record.language, "certificate_caption", service=service.name(record.language))
    _, document = await issue(
        maker,
        tx,
        service,
        statement,
        reference=record.reference,
        address=record.address,
        language=record.language,
        lines=lines,
        caption=caption,
    )
    await tx.notify(record.recipient, record.address, outbound_to_dict(document))
    return statement.number


# --- the clock ---------------------------------------------------------------------------


async def run_clock(
    cases: Cases, context: Context, maker: CertificateMaker | None, now: datetime, *, limit: int = 200
) -> int:
    """Remind, move on and deem approved whatever is due; returns how many cases it touched."""
    touched = 0
    for reference in await cases.due_on_clock(now, limit):
        async with cases.transaction(reference, now) as tx:
            if tx is None or tx.record.case is None:
                continue
            touched += await _tick(tx, context, maker, now)
    return touched


async def _tick(tx: CaseTransaction, context: Context, maker: CertificateMaker | None, now: datetime) -> int:
    record = tx.record
    assert record.case is not None
    service = context.catalogue.service(record.service_id)
    if service is None:
        await tx.update(status=record.status, case=record.case, clock_at=None)
        return 0
    due = on_clock(record.case, record.status, service, record.answers, now)
    if due is None:  # nothing yet: look again when something will be due
        later = next_clock(record.case, service) if record.status in OPEN else None
        await tx.update(status=record.status, case=record.case, clock_at=later if later and later > now else None)
        return 0
    if due.event == "remind":
        await tx.event("clock", "reminded", {"desk": record.case.desk, "due": record.case.step_due_at.isoformat()})
        for officer in await tx.officers_at(record.case.desk):
            note = reminder_note(
                context.texts, "te", reference=record.reference, service=service, due=record.case.step_due_at
            )
            await tx.notify(officer, officer.wa_id or officer.user_id or "", note.payload())
        await tx.update(status=record.status, case=due.case, clock_at=next_clock(due.case, service))
        return 1
    if due.event == "escalate":
        await tx.event("clock", "escalated", {"from": record.case.desk, "to": due.case.desk})
        await tx.update(status=due.status, case=due.case, clock_at=next_clock(due.case, service))
        await _tell(tx, context, service, "escalated", now, desk=due.case.desk)
        return 1
    await tx.event("clock", "deemed_approval", {"desk": record.case.desk})
    number = await _issue(tx, context, maker, service, now)
    await tx.update(status=Status.ISSUED if number else Status.APPROVED, case=due.case, clock_at=None)
    await _tell(tx, context, service, "deemed_approved", now)
    return 1
