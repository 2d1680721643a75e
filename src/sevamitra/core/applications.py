"""Applications: a citizen's request for a service, its reference number, status and promised date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sevamitra.core.catalogue import Service

STATE_PREFIX = "AP"
REFERENCE_PATTERN = re.compile(r"^AP-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d{4}-\d{6}$")


class Status(StrEnum):
    SUBMITTED = "submitted"  # waiting for its first officer
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"  # back with the citizen for a correction; the clock stops
    RESOLVED = "resolved"  # a grievance the officer fixed (with an after photo): the citizen confirms
    CLOSED = "closed"  # the citizen confirmed the grievance fixed
    JOINED = "joined"  # a grievance report attached to an open one nearby ("me too"): it follows that one
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"  # the certificate, receipt or pass has gone out
    DECIDED = "decided"  # an instant service answered at once
    NOT_FOUND = "not_found"  # an instant service found no record
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset(
        {Status.UNDER_REVIEW, Status.APPROVED, Status.REJECTED, Status.RETURNED, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.UNDER_REVIEW: frozenset(
        {Status.UNDER_REVIEW, Status.APPROVED, Status.REJECTED, Status.RETURNED, Status.RESOLVED}
    ),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.UNDER_REVIEW}),
    Status.CLOSED: frozenset(),
    Status.JOINED: frozenset({Status.CLOSED}),
    Status.RETURNED: frozenset({Status.UNDER_REVIEW, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.ISSUED}),
    Status.REJECTED: frozenset(),
    Status.ISSUED: frozenset(),
    Status.DECIDED: frozenset({Status.ISSUED}),
    Status.NOT_FOUND: frozenset(),
    Status.CANCELLED: frozenset(),
}


class TransitionError(ValueError):
    """A status change the status machine does not allow."""


def check_transition(current: Status, new: Status) -> None:
    if new not in TRANSITIONS[current]:
        raise TransitionError(f"an application that is {current} cannot become {new}")


def reference_prefix(service: Service) -> str:
    """`AP-REV-INC`: the state, then the service code (which starts with its department's code)."""
    return f"{STATE_PREFIX}-{service.code}"


def format_reference(prefix: str, year: int, number: int) -> str:
    """`AP-REV-INC-2026-000123`: short enough to read out over the phone, unique per service and year."""
    return f"{prefix}-{year:04d}-{number:06d}"


def normalise_reference(text: str) -> str | None:
    """A reference as a citizen might type it (spaces, lower case) in canonical form, or None."""
    candidate = re.sub(r"[\s_]+", "-", text.strip().upper()).strip("-")
    return candidate if REFERENCE_PATTERN.match(candidate) else None


def due_at(service: Service, submitted_at: datetime) -> datetime:
    """The promised time: submission plus the service's SLA."""
    return submitted_at + timedelta(minutes=service.sla.total_minutes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """What the conversation hands over when a citizen confirms: stored with the exact definition used."""

    service_id: str
    service_version: int
    definition_hash: str
    language: str
    answers: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationView:
    """What a citizen may see of their own application."""

    reference: str
    service_id: str
    status: Status
    submitted_at: datetime
    due_at: datetime
    workflow: Mapping[str, Any] | None = None  # reviewed: core.workflow.Case.to_dict(), for the clock
