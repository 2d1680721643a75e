"""Reviewed applications as cases: who holds each step, when it is due, and what the clock does.

A reviewed service names its approvers in order (`delivery.approvers`). Each step goes to the
*desk* of that role at the applicant's place: the village or ward for secretariat staff, the
mandal or urban local body for mandal officers, the district, or the state. A case whose place
is not known at that level goes to its district's queue (`queue@<district>`), never nowhere.

The service's SLA is shared out evenly over the steps. A step's officer is reminded when a
quarter of the step's time is left; at the step's due time the case moves on by itself to the
next approver, and after the last one to the supervisor of that level, or, where the catalogue
grants deemed approval, it is approved on expiry. While a case is back with the citizen for a
correction its clock stops; it starts again with the time that was left.

Pure: the actions layer stores `Case` on the application row and performs what `on_clock` and
`act` return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sevamitra.core.applications import Status
from sevamitra.core.catalogue import Service
from sevamitra.core.roles import SUPERVISOR, Level, level_of

QUEUE = "queue"  # the role of a district's queue of cases no desk could take
STATE = "state"
MIN_STEP = timedelta(hours=1)
REMIND_AT = 0.25  # the share of a step's time left when its officer is reminded

OPEN = frozenset({Status.SUBMITTED, Status.UNDER_REVIEW})  # the clock runs; an officer holds it


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """The applicant's place as the form gave it: ids from the district down (any may be empty)."""

    district: str = ""
    mandal: str = ""
    village: str = ""

    def at(self, level: Level) -> str:
        """The place id an officer of `level` works at, or "" when the form did not say."""
        if level == "state":
            return STATE
        found = {"district": self.district, "mandal": self.mandal, "secretariat": self.village}[level]
        return "" if "/~" in found else found  # a typed name the registry does not know routes nowhere

    def to_dict(self) -> dict[str, str]:
        return {"district": self.district, "mandal": self.mandal, "village": self.village}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Place:
        return Place(
            district=str(data.get("district", "")),
            mandal=str(data.get("mandal", "")),
            village=str(data.get("village", "")),
        )


def applicant_place(answers: Mapping[str, Any]) -> Place:
    """The first place the form asked for (district → mandal → village pickers)."""
    for value in answers.values():
        if isinstance(value, Mapping) and "district" in value:
            return Place.from_dict(value)
    return Place()


def shared_location(answers: Mapping[str, Any]) -> tuple[float, float] | None:
    """The (latitude, longitude) the citizen shared in the form, if any."""
    for value in answers.values():
        if isinstance(value, Mapping) and "latitude" in value and "longitude" in value:
            return float(value["latitude"]), float(value["longitude"])
    return None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True, kw_only=True)
class Desk:
    role: str
    place: str  # a place id, "state", or the district of a queue

    @property
    def key(self) -> str:
        """`tahsildar@ntr/vijayawada-rural`, `queue@ntr`: what the inbox is indexed by."""
        return f"{self.role}@{self.place}"

    @staticmethod
    def parse(key: str) -> Desk:
        role, _, place = key.partition("@")
        return Desk(role=role, place=place)


def desk_for(role: str, place: Place) -> Desk:
    """The desk of `role` at the applicant's place, or the district's queue when there is none."""
    where = place.at(level_of(role))
    if where:
        return Desk(role=role, place=where)
    return Desk(role=QUEUE, place=place.district or STATE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """Where a reviewed application stands: its step, its desk, its clock."""

    step: int  # index into the approver chain; len(chain) once with the supervisor
    desk: str  # Desk.key
    step_due_at: datetime
    reminded: bool = False
    escalated: bool = False  # the clock has moved it at least once
    paused_minutes: int | None = None  # the step's time left while the citizen corrects
    place: Place | None = None  # where it is routed, when not the form's place (a shared location, a re-routing)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "step": self.step,
            "desk": self.desk,
            "step_due_at": self.step_due_at.isoformat(),
            "reminded": self.reminded,
            "escalated": self.escalated,
            "paused_minutes": self.paused_minutes,
        }
        if self.place is not None:
            data["place"] = self.place.to_dict()
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Case:
        return Case(
            step=int(data["step"]),
            desk=str(data["desk"]),
            step_due_at=datetime.fromisoformat(str(data["step_due_at"])),
            reminded=bool(data.get("reminded", False)),
            escalated=bool(data.get("escalated", False)),
            paused_minutes=data.get("paused_minutes"),
            place=Place.from_dict(data["place"]) if isinstance(data.get("place"), Mapping) else None,
        )

    def routed_to(self, answers: Mapping[str, Any]) -> Place:
        """The place whose offices hold the case."""
        return self.place or applicant_place(answers)


def step_time(service: Service) -> timedelta:
    steps = max(1, len(service.delivery.approvers))
    return max(MIN_STEP, timedelta(minutes=service.sla.total_minutes // steps))


def authority_step(service: Service, answers: Mapping[str, Any]) -> int:
    """The approver step a case starts at: 0, or further up the chain when a chosen option (a kind of
    grievance beyond the first desk's powers) names a higher approver as its competent authority."""
    chain = service.delivery.approvers
    step = 0
    for spec in service.fields:
        if not spec.options:
            continue
        chosen = answers.get(spec.id)
        picked = (
            {chosen} if isinstance(chosen, str) else {str(c) for c in chosen} if isinstance(chosen, list) else set()
        )
        for option in spec.options:
            if option.id in picked and option.authority in chain:
                step = max(step, chain.index(option.authority))
    return step


def open_case(service: Service, answers: Mapping[str, Any], now: datetime, *, place: Place | None = None) -> Case:
    """A new reviewed application at its first approver's desk, or straight at its competent
    authority's. `place` routes it somewhere other than the form's place (a shared location)."""
    chain = service.delivery.approvers
    step = authority_step(service, answers)
    role = chain[step] if chain else SUPERVISOR["mandal"]
    where = place or applicant_place(answers)
    return Case(
        step=step,
        desk=desk_for(role, where).key,
        step_due_at=now + step_time(service),
        place=place,
    )


def _moved(case: Case, service: Service, answers: Mapping[str, Any], now: datetime, *, by_clock: bool) -> Case:
    """The case at its next desk: the next approver, or after the last one the supervisor."""
    chain = service.delivery.approvers
    step = case.step + 1
    if step < len(chain):
        role = chain[step]
    else:
        step = len(chain)
        last = chain[-1] if chain else Desk.parse(case.desk).role
        role = SUPERVISOR[level_of(last)]
    desk = desk_for(role, case.routed_to(answers))
    return Case(
        step=step,
        desk=desk.key,
        step_due_at=now + step_time(service),
        escalated=case.escalated or by_clock,
        place=case.place,
    )


def next_clock(case: Case, service: Service) -> datetime | None:
    """When `on_clock` next has something to do for an open case (None while it is paused)."""
    if case.paused_minutes is not None:
        return None
    if case.reminded:
        return case.step_due_at
    return case.step_due_at - step_time(service) * REMIND_AT


# --- what the clock does ---------------------------------------------------------------


ClockEvent = Literal["remind", "escalate", "deemed_approval"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OnClock:
    event: ClockEvent
    case: Case
    status: Status


def on_clock(case: Case, status: Status, service: Service, answers: Mapping[str, Any], now: datetime) -> OnClock | None:
    """What is due now for a case, if anything. A moved case's next desk gets its full step time
    from the moment it arrives, even when the clock ran late."""
    if status not in OPEN:
        return None
    if now >= case.step_due_at:
        last = case.step >= len(service.delivery.approvers) - 1
        if last and service.sla.deemed_approval:
            return OnClock(event="deemed_approval", case=case, status=Status.APPROVED)
        if case.step >= len(service.delivery.approvers):  # with the supervisor already: stays, overdue
            return None
        moved = _moved(case, service, answers, now, by_clock=True)  # the next desk's time starts now
        return OnClock(event="escalate", case=moved, status=Status.UNDER_REVIEW)
    left = case.step_due_at - now
    if not case.reminded and left <= step_time(service) * REMIND_AT:
        return OnClock(event="remind", case=replace(case, reminded=True), status=status)
    return None


# --- what officers do ------------------------------------------------------------------


Action = Literal["approve", "reject", "return", "forward", "note", "reroute"]
ACTIONS: tuple[Action, ...] = ("approve", "reject", "return", "forward", "note", "reroute")


@dataclass(frozen=True, slots=True, kw_only=True)
class Acted:
    case: Case
    status: Status
    issue: bool = False  # approved at the last step: issue the certificate (or receipt, pass)


class ActionError(ValueError):
    """An action the case's state does not allow."""


def act(
    action: Action, case: Case, status: Status, service: Service, answers: Mapping[str, Any], now: datetime
) -> Acted:
    """The case after an officer's action. Approving before the last step passes it on."""
    if action == "note":
        return Acted(case=case, status=status)
    if status not in OPEN:
        raise ActionError(f"an application that is {status} cannot be acted on")
    if action == "reroute":
        raise ActionError("re-routing needs the place: see rerouted()")
    if action == "reject":
        return Acted(case=case, status=Status.REJECTED)
    if action == "return":
        left = max(0, int((case.step_due_at - now).total_seconds() // 60))
        return Acted(case=replace(case, paused_minutes=left), status=Status.RETURNED)
    last = case.step >= len(service.delivery.approvers) - 1
    if action == "approve" and last:
        return Acted(case=case, status=Status.APPROVED, issue=True)
    return Acted(case=_moved(case, service, answers, now, by_clock=False), status=Status.UNDER_REVIEW)


def reopened(case: Case, service: Service, answers: Mapping[str, Any], now: datetime) -> Case:
    """The citizen says the grievance is not fixed: it goes one level up, with a fresh step's time."""
    return replace(_moved(case, service, answers, now, by_clock=False), escalated=True)


def holder_role(case: Case, service: Service) -> str:
    """The role whose officer holds the case's step (a district's queue stands in for one)."""
    role = Desk.parse(case.desk).role
    if role != QUEUE:
        return role
    chain = service.delivery.approvers
    if case.step < len(chain):
        return chain[case.step]
    return SUPERVISOR[level_of(chain[-1])] if chain else SUPERVISOR["mandal"]


def rerouted(case: Case, service: Service, place: Place, now: datetime) -> Case:
    """An officer sends the case to the same step's office of another place (it was filed under the
    wrong village or ward): that desk gets a fresh step's time."""
    return replace(
        case,
        desk=desk_for(holder_role(case, service), place).key,
        step_due_at=now + step_time(service),
        reminded=False,
        place=place,
    )


def resubmitted(case: Case, now: datetime) -> Case:
    """The citizen sent the correction: the step's clock runs again with the time it had left."""
    left = timedelta(minutes=case.paused_minutes or 0)
    return replace(case, step_due_at=now + max(left, MIN_STEP), paused_minutes=None, reminded=False)


# --- the clock as the citizen reads it -------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Clock:
    """ "Day 4 of 7; moves to the Tahsildar on day 8"."""

    day: int
    of_days: int
    next_role: str | None  # who it moves to if the step's officer lets its time pass
    next_day: int


def citizen_clock(case: Case, service: Service, submitted_at: datetime, now: datetime) -> Clock:
    day = max(1, (now - submitted_at).days + 1)
    of_days = max(1, -(-service.sla.total_minutes // (24 * 60)))
    chain = service.delivery.approvers
    if case.step + 1 < len(chain):
        next_role: str | None = chain[case.step + 1]
    elif case.step < len(chain) and not service.sla.deemed_approval:
        next_role = SUPERVISOR[level_of(chain[-1])]
    else:
        next_role = None
    next_day = max(day, (case.step_due_at - submitted_at).days + 1)
    return Clock(day=day, of_days=of_days, next_role=next_role, next_day=next_day)
