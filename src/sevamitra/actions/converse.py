"""The turn worker: each citizen's pending messages, in order, through the conversation engine.

One transaction holds a citizen's turn: the new conversation state, the inbox rows marked done, any
application submitted and the replies in the outbox, so a crash leaves all of it or none. Several
citizens' turns share a transaction, which saves a commit (an fsync) and round trips for each.
The engine's effects (submit, track) are performed here and their outcomes fed back to it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sevamitra.actions.issue import CERTIFYING_OUTPUTS, fact_lines, issue, office_of, statement_for
from sevamitra.actions.listen import Listen
from sevamitra.actions.pay import AskPayment, order_for
from sevamitra.actions.privacy import Rights
from sevamitra.actions.privacy import perform as perform_rights
from sevamitra.core.applications import Status, Submission, due_at, reference_prefix
from sevamitra.core.broadcasts import TOPICS
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
    NearbyFound,
    Outcome,
    Rate,
    Rated,
    Rerank,
    Reranked,
    Resubmit,
    Resubmitted,
    Submitted,
    Track,
    Tracked,
    Transcribe,
    Watch,
    Watched,
    step,
)
from sevamitra.core.decisions import (
    Decision,
    Registry,
    booking_request,
    decide,
    lookup_keys,
    taken_meanwhile,
    with_places,
)
from sevamitra.core.erasure import RequestErasure
from sevamitra.core.fees import fee_amount
from sevamitra.core.logcontext import MESSAGE_ID, bound
from sevamitra.core.messages import (
    DocumentOut,
    Event,
    Inbound,
    MarkRead,
    Outbound,
    Recipient,
    TextOut,
    outbound_to_dict,
)
from sevamitra.core.pacing import SLOW_DOWN, Admission, Bucket, Pace, admit
from sevamitra.core.ports import (
    NO_METER,
    CertificateMaker,
    CitizenTurn,
    Clock,
    Conversations,
    InboxRecord,
    Meter,
    NewApplication,
)
from sevamitra.core.privacy import PrivacyEffect
from sevamitra.core.understanding import Understanding
from sevamitra.core.workflow import Place, applicant_place, next_clock, open_case, reopened, shared_location

log = logging.getLogger(__name__)

Parse = Callable[[str, dict[str, Any]], Event | None]
INDIA = timedelta(hours=5, minutes=30)
PickAmong = Callable[[str, Understanding], Awaitable[Understanding]]  # the model's pick, or what it was given
PAID_OUTPUTS = frozenset({"receipt", "booking_pass"})  # issued once the fee due on the decision is paid
PACE_KEY = "pace"  # the citizen's bucket, kept beside the engine's state in the conversation row


@dataclass(frozen=True, slots=True, kw_only=True)
class Turns:
    """Everything a turn needs besides the citizen's own data."""

    conversations: Conversations
    parse: Parse
    context: Context
    clock: Clock
    registry: Registry
    maker: CertificateMaker | None = None  # None: decisions are answered without a certificate
    ask_payment: AskPayment | None = None  # asks for a fee due now: a pay link, or an order paid in the chat
    rerank: PickAmong | None = None  # a language model's pick among unclear candidates (with `Context.reranks`)
    listen: Listen | None = None  # voice notes transcribed (with `Context.listens`)
    meter: Meter = NO_METER  # times each message from arrival to its turn's commit
    batch: int = 16  # citizens' turns committed together: one transaction (and one fsync) for all of them
    pace: Pace | None = None  # each citizen's messages a minute (None: as fast as they come)
    rights: Rights | None = None  # consent, "my data", "who saw my data" (with `Context.notice`)


async def converse(turns: Turns, *, limit: int) -> int:
    """Process waiting citizens, `Turns.batch` to a transaction; returns how many messages were handled.
    A batch that fails is tried again citizen by citizen, so that one citizen's failure holds up no other."""
    handled = 0
    waiting = await turns.conversations.addresses_waiting(limit, turns.clock.now())
    for start in range(0, len(waiting), turns.batch):
        batch = waiting[start : start + turns.batch]
        try:
            handled += await _converse_batch(turns, batch)
        except Exception:
            if len(batch) == 1:
                raise
            log.warning("a batch of %s turns failed; trying each citizen alone", len(batch), exc_info=True)
            for address in batch:
                handled += await _converse_batch(turns, [address])
    return handled


async def _converse_batch(turns: Turns, addresses: list[str]) -> int:
    handled = 0
    now = turns.clock.now()
    arrivals: list[datetime] = []
    async with turns.conversations.turns(addresses, now) as batch:
        for turn in batch:  # those another worker holds are left out
            state = ConversationState.from_dict(turn.state) if turn.state else ConversationState()
            bucket = Bucket.from_dict((turn.state or {}).get(PACE_KEY), turns.pace) if turns.pace else None
            pending = list(turn.pending)
            for index, record in enumerate(pending):
                event = turns.parse(record.kind, record.fragment)
                if not isinstance(event, Inbound):
                    log.warning("inbox item %s is not a message; set aside", record.id)
                    turn.done(record, error="not a message")
                    continue
                recipient = Recipient.of(event.sender, via=event.number)  # answered from the number written to
                if turns.pace is not None and bucket is not None:
                    admission = admit(bucket, turns.pace, now)
                    bucket = admission.bucket
                    if admission.wait:
                        _hold_back(turns, turn, pending[index:], state, admission, recipient, now)
                        break
                with bound(MESSAGE_ID, event.message_id):  # on the log lines of this message's turn
                    state, replies = await respond(
                        turns.context,
                        turns.registry,
                        turn,
                        state,
                        event,
                        recipient,
                        now,
                        maker=turns.maker,
                        ask_payment=turns.ask_payment,
                        rerank=turns.rerank,
                        listen=turns.listen,
                        rights=turns.rights,
                    )
                read = MarkRead(message_id=event.message_id, typing=bool(replies))  # "typing…" until replies land
                turn.enqueue(recipient, outbound_to_dict(read), now, cause=record.id)
                for reply in replies:
                    turn.enqueue(recipient, outbound_to_dict(reply), now, cause=record.id)
                turn.save_state(_with_pace(state.to_dict(), bucket), recipient, now)
                turn.done(record)
                handled += 1
                if record.received_at is not None:
                    arrivals.append(record.received_at)
    committed = turns.clock.now()
    for received_at in arrivals:
        turns.meter.observe("turn_latency", max((committed - received_at).total_seconds(), 0.0))
    return handled


def _hold_back(
    turns: Turns,
    turn: CitizenTurn,
    waiting: list[InboxRecord],
    state: ConversationState,
    admission: Admission,
    recipient: Recipient,
    now: datetime,
) -> None:
    """The citizen writes faster than their pace: these messages stay, in order, until a token is due; the
    first time in a spell of haste they are asked to wait a moment (in both languages before one is chosen)."""
    if admission.warn:
        texts, languages = turns.context.texts, (state.language,) if state.language else ("te", "en")
        body = "\n\n".join(texts.get(language, SLOW_DOWN) for language in languages)
        turn.enqueue(recipient, outbound_to_dict(TextOut(body=body)), now, cause=waiting[0].id)
    for record in waiting:
        turn.defer(record, now + admission.wait)
    turn.save_state(_with_pace(state.to_dict(), admission.bucket), recipient, now)


def _with_pace(state: dict[str, Any], bucket: Bucket | None) -> dict[str, Any]:
    return state if bucket is None else {**state, PACE_KEY: bucket.to_dict()}


async def respond(
    context: Context,
    registry: Registry,
    turn: CitizenTurn,
    state: ConversationState,
    event: Inbound,
    recipient: Recipient,
    now: datetime,
    *,
    maker: CertificateMaker | None = None,
    ask_payment: AskPayment | None = None,
    rerank: PickAmong | None = None,
    listen: Listen | None = None,
    rights: Rights | None = None,
) -> tuple[ConversationState, list[Outbound]]:
    """One message through the engine, performing its effects and feeding their outcomes back."""
    result = step(state, event, context, now)
    state, replies, effects = result.state, list(result.replies), list(result.effects)
    while effects:
        effect = effects.pop(0)
        outcome = await _perform(
            context, registry, turn, effect, recipient, now, maker, state, ask_payment, rerank, listen, rights
        )
        follow = step(state, outcome, context, now)
        state = follow.state
        replies += follow.replies
        effects += follow.effects
    return state, replies


async def _perform(
    context: Context,
    registry: Registry,
    turn: CitizenTurn,
    effect: Effect,
    recipient: Recipient,
    now: datetime,
    maker: CertificateMaker | None,
    state: ConversationState,
    ask_payment: AskPayment | None = None,
    rerank: PickAmong | None = None,
    listen: Listen | None = None,
    rights: Rights | None = None,
) -> Outcome:
    if isinstance(effect, PrivacyEffect):
        if rights is None:
            raise RuntimeError("consent and data-rights effects need Turns.rights")
        return await perform_rights(rights, context, turn, effect, recipient, now)
    if isinstance(effect, Track):
        return Tracked(asked=effect.reference, applications=tuple(await turn.applications(effect.reference)))
    if isinstance(effect, Watch):
        return Watched(number=effect.number, on=effect.on, found=await turn.watch(effect.number, effect.on))
    if isinstance(effect, LoadCorrection):
        returned = await turn.correction(effect.reference)
        if returned is None:
            return CorrectionLoaded(reference=effect.reference)
        return CorrectionLoaded(
            reference=returned.reference,
            service_id=returned.service_id,
            fields=returned.fields,
            message=returned.message,
        )
    if isinstance(effect, AnswerGrievance):
        return await _answer_grievance(context, turn, effect, now)
    if isinstance(effect, Comment):
        return Commented(reference=effect.reference, accepted=await turn.comment(effect.reference, effect.text, now))
    if isinstance(effect, Rate):
        return Rated(reference=effect.reference, accepted=await turn.rate(effect.reference, effect.score, now))
    if isinstance(effect, Resubmit):
        accepted = await turn.resubmit(effect.reference, effect.answers, now)
        return Resubmitted(reference=effect.reference, accepted=accepted)
    if isinstance(effect, ChangeAlerts):
        topics = (effect.topic,) if effect.topic else (TOPICS if effect.area else ())
        language = state.language or "te"
        await turn.change_alerts(recipient, topics, effect.area, language, now)
        return AlertsChanged(topic=effect.topic, area=effect.area)
    if isinstance(effect, JoinGrievance):
        return await _join(context, turn, effect, recipient, now)
    if isinstance(effect, Learn):
        await turn.learn(effect.text, effect.service_id, effect.language, now)
        return Learned()
    if isinstance(effect, Rerank):
        understood = await rerank(effect.text, effect.understood) if rerank else effect.understood
        return Reranked(text=effect.text, understood=understood)
    if isinstance(effect, Arrive):
        await turn.arrived(effect.service_id, effect.source, effect.language, effect.first, now)
        return Arrived()
    if isinstance(effect, RequestErasure):
        return await turn.request_erasure(now, timedelta(days=context.erasure_retention_days))
    if isinstance(effect, Transcribe):  # the turn's transaction waits for it: seconds, not minutes
        return await listen(effect) if listen else Heard(problem="unavailable")
    submission = effect.submission
    service = context.catalogue.service(submission.service_id)
    assert service is not None  # the engine only submits services of its catalogue
    answers = dict(submission.answers)
    if effect.check_nearby and (point := shared_location(answers)):
        close = await turn.nearby_open(service.id, point[0], point[1], context.nearby_meters)
        if close is not None:
            return NearbyFound(reference=close[0], meters=close[1])
    status, decision, fee = Status.SUBMITTED, None, fee_amount(service.fee, answers)
    if service.delivery.kind == "instant" and service.delivery.registry:
        name = service.delivery.registry
        keys = {key: answers.get(key) for key in lookup_keys(name)}
        record = await registry.lookup(name, service.id, keys)
        decision = decide(name, service.id, answers, record, today=(now + INDIA).date(), fee=service.fee)
        status = Status.DECIDED if decision.outcome == "granted" else Status.NOT_FOUND
        fee = decision.amount_inr if decision.amount_inr is not None else fee_amount(service.fee, answers, record)
    located = _located(context, answers) if service.delivery.kind == "reviewed" else None
    case = open_case(service, answers, now, place=located) if service.delivery.kind == "reviewed" else None
    shared = shared_location(answers)
    application = NewApplication(
        submission=submission,
        recipient=recipient,
        reference_prefix=reference_prefix(service),
        status=status,
        submitted_at=now,
        due_at=now if decision else due_at(service, now),
        department_id=service.department_id,
        district=(located or applicant_place(answers)).district or None,
        case=case,
        clock_at=next_clock(case, service) if case else None,
        latitude=shared[0] if shared else None,
        longitude=shared[1] if shared else None,
        fee_inr=fee,
        decision=_decision_dict(decision),
    )
    request = booking_request(decision) if decision else None
    booked = await turn.book(application, request, confirm=not fee) if request else None
    if request and decision and booked:
        decision = with_places(decision, request, booked[1])
    elif request and decision:  # the last places went to someone else a moment ago
        decision, status = taken_meanwhile(decision), Status.NOT_FOUND
        application = replace(application, status=status, fee_inr=None, decision=_decision_dict(decision))
    reference = booked[0] if booked else await turn.submit(application)
    document: DocumentOut | None = None
    payment: Outbound | None = None
    granted = decision is not None and decision.outcome == "granted"
    reviewed_fee = case is not None and bool(fee)  # a reviewed service's fee is paid with the application
    if ((granted and service.output.kind in PAID_OUTPUTS) or reviewed_fee) and fee and ask_payment is not None:
        # money is due: the receipt comes only once a verified payment arrives (actions.pay.settle)
        order = order_for(
            context.texts,
            submission.language,
            reference=reference,
            service=service,
            amount_paise=fee * 100,
            citizen=turn.address,
        )
        payment = await ask_payment(turn, order, submission.language, now)
    elif granted and maker is not None and service.output.kind in CERTIFYING_OUTPUTS:
        assert decision is not None
        document = await _certify(context, maker, turn, service, submission, decision, reference, now, state)
    return Submitted(
        reference=reference,
        service_id=service.id,
        due_at=now if decision else due_at(service, now),
        decision=decision,
        amount_inr=fee if decision else None,
        document=document,
        payment=payment,
        desk=case.desk if case else None,
        direct=bool(case and case.step > 0),
        located=located.village if located else None,
    )


def _located(context: Context, answers: dict[str, Any]) -> Place | None:
    """The village or ward a shared location lies in, when it is not the one the form names: the
    point decides where the case goes."""
    point, places = shared_location(answers), context.places
    found = places.locate(*point) if point and places else None
    if places is None or found is None or found.id == applicant_place(answers).village:
        return None
    return Place.from_dict(places.chain(found.id)._asdict())


def _decision_dict(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"outcome": decision.outcome, "facts": [list(f) for f in decision.facts], "amount_inr": decision.amount_inr}


async def _join(
    context: Context, turn: CitizenTurn, effect: JoinGrievance, recipient: Recipient, now: datetime
) -> Outcome:
    """The report stored as the citizen's own, attached to the open grievance it duplicates."""
    submission = effect.submission
    service = context.catalogue.service(submission.service_id)
    assert service is not None
    point = shared_location(submission.answers)
    reference = await turn.join(
        NewApplication(
            submission=submission,
            recipient=recipient,
            reference_prefix=reference_prefix(service),
            status=Status.JOINED,
            submitted_at=now,
            due_at=due_at(service, now),
            department_id=service.department_id,
            district=applicant_place(submission.answers).district or None,
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
        ),
        effect.joined,
    )
    return Joined(reference=reference, joined=effect.joined)


async def _answer_grievance(context: Context, turn: CitizenTurn, answer: AnswerGrievance, now: datetime) -> Outcome:
    """Closed when fixed; reopened one level up when not."""
    waiting = await turn.resolved_grievance(answer.reference)
    service = context.catalogue.service(waiting.service_id) if waiting else None
    if waiting is None or service is None:
        return GrievanceAnswered(reference=answer.reference, fixed=answer.fixed, accepted=False)
    if answer.fixed:
        await turn.settle_grievance(
            answer.reference, status=Status.CLOSED, case=waiting.case, clock_at=None, kind="confirmed", now=now
        )
        return GrievanceAnswered(reference=answer.reference, fixed=True, accepted=True)
    case = reopened(waiting.case, service, waiting.answers, now)
    await turn.settle_grievance(
        answer.reference,
        status=Status.UNDER_REVIEW,
        case=case,
        clock_at=next_clock(case, service),
        kind="reopened",
        now=now,
    )
    return GrievanceAnswered(reference=answer.reference, fixed=False, accepted=True, desk=case.desk)


async def _certify(
    context: Context,
    maker: CertificateMaker,
    turn: CitizenTurn,
    service: Service,
    submission: Submission,
    decision: Decision,
    reference: str,
    now: datetime,
    state: ConversationState,
) -> DocumentOut:
    """The certificate of an instant decision, issued in this turn's transaction."""
    texts, language = context.texts, submission.language
    facts = tuple((label, value) for label, value in decision.facts if value)
    statement = statement_for(
        service,
        number=reference,
        answers=submission.answers,
        shown={},
        facts=facts,
        office=office_of(context, service, submission.answers),
        issued_at=now,
    )
    lines = fact_lines(facts, texts)
    _, document = await issue(
        maker,
        turn,
        service,
        statement,
        reference=reference,
        address=turn.address,
        language=language,
        lines=lines,
        caption=texts.get(language, "certificate_caption", service=service.name(language)),
    )
    return document
