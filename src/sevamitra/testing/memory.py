"""An in-memory citizen turn: the terminal chat and engine-level tests use it instead of a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sevamitra.core.applications import ApplicationView, Status, format_reference
from sevamitra.core.decisions import BookingRequest
from sevamitra.core.erasure import ApplicationTimes, ErasureScheduled, erasure_due, held_back
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import InboxRecord, IssuedCertificate, NewApplication, ResolvedGrievance, ReturnedApplication
from sevamitra.core.workflow import Case


@dataclass
class MemoryTurn:
    address: str = "919000000000"
    pending: list[InboxRecord] = field(default_factory=list)
    certificates: list[IssuedCertificate] = field(default_factory=list)
    state: dict[str, Any] | None = None
    stored: list[tuple[str, NewApplication]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[tuple[str, int], int] = field(default_factory=dict)
    watched: dict[str, bool] = field(default_factory=dict)  # certificate number -> holder's notes on
    returned: dict[str, ReturnedApplication] = field(default_factory=dict)  # waiting for a correction
    resubmitted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ratings: dict[str, int] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    resolved: dict[str, ResolvedGrievance] = field(default_factory=dict)  # waiting for the citizen's answer
    settled: list[tuple[str, Status, Case | None]] = field(default_factory=list)
    nearby: tuple[str, int] | None = None  # what nearby_open finds
    joins: dict[str, str] = field(default_factory=dict)
    alerts: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)  # orders paid in the chat
    places: dict[str, int] = field(default_factory=dict)  # bookable resource -> places taken
    learned: list[tuple[str, str, str]] = field(default_factory=list)  # (text, service id, language)
    arrivals: list[tuple[str, str | None, str, bool]] = field(default_factory=list)  # (service, source, language, new)
    erasure_requested_at: datetime | None = None  # when the citizen asked for their data to be erased
    deferred: dict[int, datetime] = field(default_factory=dict)  # inbox id -> not before (the citizen's pace)

    def done(self, record: InboxRecord, *, error: str | None = None) -> None:
        self.pending = [r for r in self.pending if r.id != record.id]

    def defer(self, record: InboxRecord, until: datetime) -> None:
        self.deferred[record.id] = until

    def save_state(self, state: dict[str, Any], recipient: Recipient, now: datetime) -> None:
        self.state = state

    def enqueue(self, recipient: Recipient, payload: dict[str, Any], now: datetime, *, cause: int | None) -> None:
        self.outbox.append(payload)

    async def submit(self, application: NewApplication) -> str:
        year = application.submitted_at.year
        key = (application.reference_prefix, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        reference = format_reference(application.reference_prefix, year, self.counters[key])
        self.stored.append((reference, application))
        return reference

    async def book(
        self, application: NewApplication, request: BookingRequest, *, confirm: bool
    ) -> tuple[str, tuple[int, ...]] | None:
        """Places counted per resource in memory (one process, one citizen at a time)."""
        taken = self.places.get(request.resource, 0)
        if taken + request.places > request.capacity:
            return None
        self.places[request.resource] = taken + request.places
        return await self.submit(application), tuple(range(taken + 1, taken + request.places + 1))

    async def learn(self, text: str, service_id: str, language: str, now: datetime) -> None:
        self.learned.append((text, service_id, language))

    async def arrived(self, service_id: str, source: str | None, language: str, first: bool, now: datetime) -> None:
        self.arrivals.append((service_id, source, language, first))

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        self.certificates.append(certificate)

    async def add_payment(
        self,
        *,
        reference: str,
        provider: str,
        provider_ref: str,
        amount_paise: int,
        now: datetime,
        purpose: str = "",
        message: Mapping[str, Any] | None = None,
    ) -> None:
        self.payments.append(
            {
                "reference": reference,
                "provider": provider,
                "provider_ref": provider_ref,
                "amount_paise": amount_paise,
                "purpose": purpose,
                "message": message,
            }
        )

    async def correction(self, reference: str) -> ReturnedApplication | None:
        return self.returned.get(reference)

    async def resubmit(self, reference: str, answers: Mapping[str, Any], now: datetime) -> bool:
        if self.returned.pop(reference, None) is None:
            return False
        self.resubmitted.append((reference, dict(answers)))
        return True

    async def rate(self, reference: str, score: int, now: datetime) -> bool:
        if not any(ref == reference for ref, _ in self.stored):
            return False
        self.ratings[reference] = score
        return True

    async def resolved_grievance(self, reference: str) -> ResolvedGrievance | None:
        return self.resolved.get(reference)

    async def settle_grievance(
        self, reference: str, *, status: Status, case: Case | None, clock_at: datetime | None, kind: str, now: datetime
    ) -> None:
        self.resolved.pop(reference, None)
        self.settled.append((reference, status, case))

    async def nearby_open(
        self, service_id: str, latitude: float, longitude: float, meters: int
    ) -> tuple[str, int] | None:
        return self.nearby

    async def join(self, application: NewApplication, joined: str) -> str:
        reference = await self.submit(application)
        self.joins[reference] = joined
        return reference

    async def change_alerts(
        self, recipient: Recipient, topics: Sequence[str], area: str | None, language: str, now: datetime
    ) -> int:
        self.alerts.append((tuple(topics), area))
        return len(topics)

    async def comment(self, reference: str, text: str, now: datetime) -> bool:
        if reference not in self.ratings:
            return False
        self.comments[reference] = text
        return True

    async def watch(self, number: str, on: bool) -> bool:
        if not any(c.statement.number == number and c.address == self.address for c in self.certificates):
            return False
        self.watched[number] = on
        return True

    async def request_erasure(self, now: datetime, retention: timedelta) -> ErasureScheduled:
        again = self.erasure_requested_at is not None
        self.erasure_requested_at = self.erasure_requested_at or now
        times = [ApplicationTimes(status=a.status, last_change=a.submitted_at) for _, a in self.stored]
        return ErasureScheduled(
            requested_at=self.erasure_requested_at,
            due_at=erasure_due(self.erasure_requested_at, times, retention),
            open_applications=held_back(times),
            again=again,
        )

    async def applications(self, reference: str | None, limit: int = 5) -> list[ApplicationView]:
        views = [
            ApplicationView(
                reference=ref,
                service_id=app.submission.service_id,
                status=app.status,
                submitted_at=app.submitted_at,
                due_at=app.due_at,
            )
            for ref, app in reversed(self.stored)
            if reference is None or ref == reference
        ]
        return views[:limit]
