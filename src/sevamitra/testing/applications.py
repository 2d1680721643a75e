"""A submitted application for a service, as a citizen's turn would store it: for tests and demos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sevamitra.core.applications import Status, Submission, due_at, reference_prefix
from sevamitra.core.catalogue import Service
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import NewApplication
from sevamitra.core.workflow import applicant_place, next_clock, open_case


def submitted(service: Service, answers: dict[str, Any], now: datetime, recipient: Recipient) -> NewApplication:
    """The application with its case opened at the applicant's place and its SLA clock set."""
    case = open_case(service, answers, now)
    return NewApplication(
        submission=Submission(
            service_id=service.id,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="te",
            answers=answers,
        ),
        recipient=recipient,
        reference_prefix=reference_prefix(service),
        status=Status.SUBMITTED,
        submitted_at=now,
        due_at=due_at(service, now),
        department_id=service.department_id,
        district=applicant_place(answers).district or None,
        case=case,
        clock_at=next_clock(case, service),
    )
