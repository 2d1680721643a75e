"""Walks a service's form through the engine with valid sample answers, recording the transcript.

Used by the golden transcript tests (every service, Telugu and English, frozen clock and ids) and
by the catalogue benchmark. Outcomes of effects are made up deterministically: a reference number
from the service code, and for instant services the registry's rules with no record found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sevamitra.core.applications import due_at, format_reference, reference_prefix
from sevamitra.core.catalogue import Service
from sevamitra.core.conversation import (
    AlertsChanged,
    AnswerGrievance,
    Arrive,
    Arrived,
    ChangeAlerts,
    Comment,
    Commented,
    Context,
    ConversationState,
    CorrectionLoaded,
    Effect,
    GrievanceAnswered,
    Heard,
    Joined,
    JoinGrievance,
    Learn,
    Learned,
    LoadCorrection,
    Outcome,
    Rate,
    Rated,
    Rerank,
    Reranked,
    Resubmit,
    Resubmitted,
    Step,
    Submitted,
    Track,
    Tracked,
    Transcribe,
    Watch,
    Watched,
    step,
)
from sevamitra.core.decisions import decide
from sevamitra.core.erasure import ErasureScheduled, RequestErasure
from sevamitra.core.forms import photo_limit
from sevamitra.core.messages import ChoiceIn, Inbound, LocationIn, MediaIn, MediaKind, Sender, TextIn
from sevamitra.core.privacy import (
    AccessesListed,
    ConsentKept,
    ConsentWithdrawn,
    DataExported,
    ListAccesses,
    PrivacyEffect,
    PrivacyOutcome,
    RecordConsent,
    WithdrawConsent,
)
from sevamitra.core.transcript import render
from sevamitra.core.validation import LocationAnswer, MediaAnswer, PlaceAnswer, example_answer

FROZEN = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
CITIZEN = Sender(wa_id="919000000001", user_id="IN.000919000000001", name="Golden")


@dataclass
class Walk:
    context: Context
    language: str
    now: datetime = FROZEN
    state: ConversationState = field(init=False)
    lines: list[str] = field(default_factory=list)
    n: int = 0

    def __post_init__(self) -> None:
        self.state = ConversationState(
            language=self.language, screen="departments", last_active=self.now, consented=self.context.notice
        )

    def send(self, event: Inbound | Outcome, said: str) -> Step:
        self.lines.append(f"> {said}")
        result = step(self.state, event, self.context, self.now)
        self.state = result.state
        self.lines += [render(r) for r in result.replies]
        for effect in result.effects:
            outcome = self.outcome(effect)
            self.send(outcome, f"({type(outcome).__name__})")
        return result

    def outcome(self, effect: Effect) -> Outcome:
        if isinstance(effect, Track):
            return Tracked(asked=effect.reference, applications=())
        if isinstance(effect, Watch):
            return Watched(number=effect.number, on=effect.on, found=False)  # walks issue no certificates
        if isinstance(effect, LoadCorrection):
            return CorrectionLoaded(reference=effect.reference)  # nothing was returned to this walker
        if isinstance(effect, ChangeAlerts):
            return AlertsChanged(topic=effect.topic, area=effect.area)
        if isinstance(effect, JoinGrievance):
            return Joined(reference="AP-X-2026-000001", joined=effect.joined)
        if isinstance(effect, AnswerGrievance):
            return GrievanceAnswered(reference=effect.reference, fixed=effect.fixed, accepted=False)
        if isinstance(effect, Comment):
            return Commented(reference=effect.reference, accepted=True)
        if isinstance(effect, Rate):
            return Rated(reference=effect.reference, accepted=True)
        if isinstance(effect, Resubmit):
            return Resubmitted(reference=effect.reference, accepted=True)
        if isinstance(effect, Learn):
            return Learned()
        if isinstance(effect, Rerank):
            return Reranked(text=effect.text, understood=effect.understood)
        if isinstance(effect, Transcribe):
            return Heard(problem="unavailable")  # this walker has no speech
        if isinstance(effect, Arrive):
            return Arrived()
        if isinstance(effect, RequestErasure):
            due = self.now + timedelta(days=self.context.erasure_retention_days)
            return ErasureScheduled(requested_at=self.now, due_at=due, open_applications=0, again=False)
        if isinstance(effect, PrivacyEffect):
            return _rights_outcome(effect)
        service = self.context.catalogue.service(effect.submission.service_id)
        assert service is not None
        instant = service.delivery.kind == "instant" and service.delivery.registry
        decision = (
            decide(service.delivery.registry or "", service.id, effect.submission.answers, None, today=self.now.date())
            if instant
            else None
        )
        return Submitted(
            reference=format_reference(reference_prefix(service), self.now.year, 1),
            service_id=service.id,
            due_at=self.now if decision else due_at(service, self.now),
            decision=decision,
        )

    def _id(self) -> str:
        self.n += 1
        return f"wamid.golden.{self.n}"

    def text(self, body: str) -> Step:
        return self.send(TextIn(message_id=self._id(), sender=CITIZEN, sent_at=self.now, body=body), body)

    def tap(self, choice_id: str) -> Step:
        event = ChoiceIn(message_id=self._id(), sender=CITIZEN, sent_at=self.now, choice_id=choice_id, title="")
        return self.send(event, f"[{choice_id}]")

    def answer(self, service: Service) -> None:
        """Answer the question on screen with the field's sample answer."""
        draft = self.state.draft
        assert draft is not None
        spec = service.fields[draft["index"]]
        sample = example_answer(spec, today=self.now.date())
        if isinstance(sample, PlaceAnswer) or spec.type in ("address_ap", "district"):
            self.pick_place(spec.type)
        elif isinstance(sample, MediaAnswer):
            kind: MediaKind = "image" if sample.mime_type.startswith("image/") else "document"
            media = MediaIn(
                message_id=self._id(),
                sender=CITIZEN,
                sent_at=self.now,
                kind=kind,
                media_id=sample.media_id,
                mime_type=sample.mime_type,
                filename=sample.filename,
            )
            self.send(media, f"<{kind} {sample.mime_type}>")
        elif isinstance(sample, LocationAnswer):
            place = LocationIn(
                message_id=self._id(),
                sender=CITIZEN,
                sent_at=self.now,
                latitude=sample.latitude,
                longitude=sample.longitude,
            )
            self.send(place, f"<location {sample.latitude},{sample.longitude}>")
        else:
            self.text(_matching(spec.rules.get("pattern"), spec.hints.get("en", ""), sample))

    def pick_place(self, field_type: str) -> None:
        """Tap the first district that has places below it, then the first entries down the tree."""
        places = self.context.places
        assert places is not None
        district = next(d for d in places.districts() if places.children(d.id))
        self.tap(f"place:{district.id}")
        if field_type == "district":
            return
        mandal = next(m for m in places.children(district.id) if places.children(m.id))
        self.tap(f"place:{mandal.id}")
        self.tap(f"place:{places.children(mandal.id)[0].id}")

    def apply(self, service: Service) -> str:
        """The whole walk: open the service, answer every question, submit; the transcript as text."""
        self.tap(f"svc:{service.id}")
        if service.output.kind == "information" and not service.fields:
            self.tap(f"apply:{service.id}")
            return "\n".join(self.lines)
        self.tap("form:start")
        guard = 0
        while self.state.screen == "form":
            guard += 1
            if guard > 4 * (len(service.fields) + 3):
                raise AssertionError(f"{service.id}: the form does not advance\n" + "\n".join(self.lines[-12:]))
            before = self.state.draft["index"] if self.state.draft else None
            self.answer(service)
            if self.state.screen == "form" and self.state.draft and self.state.draft["index"] == before:
                spec = service.fields[before]
                if photo_limit(spec) > 1 and self.state.draft["answers"].get(spec.id):
                    self.tap("form:photos_done")  # one photo of several is enough for a walk
                    continue
                raise AssertionError(f"{service.id}: a sample answer was refused\n" + "\n".join(self.lines[-8:]))
        if self.state.screen != "confirm":
            raise AssertionError(f"{service.id}: no summary after the form\n" + "\n".join(self.lines[-8:]))
        self.tap("form:submit")
        return "\n".join(self.lines)


_SAMPLES = ("123/4A", "1234567890", "123456", "12345678", "AP39AB1234", "ABC1234567", "2026", "A1234567", "12")


def _matching(pattern: object, hint: str, sample: str) -> str:
    """A sample that fits a text field's pattern: the hint's own example, else a common shape."""
    if not isinstance(pattern, str):
        return sample
    candidates = [w.strip(".,;:()") for w in hint.split()] + list(_SAMPLES) + [sample]
    return next((c for c in candidates if c and re.fullmatch(pattern, c)), sample)


def _rights_outcome(effect: PrivacyEffect) -> PrivacyOutcome:
    """Walks start consented and ask for no data; were one to, this is what an empty platform answers."""
    if isinstance(effect, RecordConsent):
        return ConsentKept()
    if isinstance(effect, WithdrawConsent):
        return ConsentWithdrawn(kept=())
    if isinstance(effect, ListAccesses):
        return AccessesListed(accesses=(), more=0)
    return DataExported(problem="failed")  # nothing here to upload a copy to
