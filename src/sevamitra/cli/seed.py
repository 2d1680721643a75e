"""`sevamitra seed applications --count N [--force]`: realistic synthetic applications, fast.

Each application is one a citizen could have made and officers could have worked, walked through
the platform's own rules (`core.workflow`: `open_case`, `act`, `on_clock`), so its desk, step,
due time, clock and history are what the platform itself would have stored:

- services: the reviewed services whose form asks for the applicant's place (so that the case
  routes), weighted towards the common ones (income, caste (integrated), residence certificates);
- places: the 26 districts, more of them in NTR, Guntur and Visakhapatnam, whose mandals, urban
  local bodies, villages and wards are known (real ids, so desks route to them); elsewhere the
  citizen typed the names, so the case goes to the district's queue as the platform sends it;
- times: submitted over the last 180 days; an officer takes part of a step's time, or now and
  then lets it pass, and the clock reminds, moves the case on, or deems it approved;
- outcomes: about 25 % still open (at their officer, or overdue with the supervisor), 5 %
  returned to the citizen, 60 % approved (issued where the service issues a document), 10 %
  rejected; about 30 % of the decided ones rated by the citizen;
- answers: a small form's worth (names from a list of common Telugu names, masked identity
  numbers, never a real Aadhaar number), sealed with the platform's data key.

Reference numbers are real ones (`AP-<code>-<year>-<6 digits>`), taken from the platform's
counters batch by batch, so that its own numbering continues after them.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sevamitra.actions.issue import CERTIFYING_OUTPUTS
from sevamitra.actions.review import REJECT_REASONS
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.seeding import SeedApplication, SeedEvent, SqlSeeder
from sevamitra.bootstrap import build_context
from sevamitra.core.applications import Status, reference_prefix
from sevamitra.core.catalogue import Service
from sevamitra.core.fees import fee_amount
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.validation import format_date
from sevamitra.core.workflow import OPEN, QUEUE, REMIND_AT, Case, Desk, act, next_clock, on_clock, open_case, step_time
from sevamitra.settings import Settings

DAYS = 180  # how far back submissions go
BATCH_POSTGRES = 20_000  # applications per transaction (one COPY per table)
BATCH_SQLITE = 5_000  # applications per transaction (executemany)
PROGRESS_EVERY = 100_000

# The common services, by weight; every other reviewed service with a place on its form shares OTHERS.
COMMON_SERVICES: dict[str, float] = {
    "revenue.income-certificate": 18.0,
    "revenue.integrated-certificate": 14.0,  # caste, nativity and date of birth in one
    "revenue.residence-certificate": 9.0,
    "revenue.family-membership-certificate": 4.0,
    "revenue.ews-certificate": 3.0,
    "civil-supplies.new-rice-card": 3.0,
    "social-welfare.old-age-pension": 2.5,
    "social-welfare.widow-pension": 1.5,
    "revenue.agriculture-income-certificate": 1.5,
    "revenue.obc-certificate": 1.0,
    "social-welfare.disability-pension": 1.0,
    "revenue.possession-certificate": 0.5,
}
OTHERS = 41.0  # per cent, shared evenly by the rest
DETAILED_DISTRICTS: dict[str, float] = {"ntr": 9.0, "guntur": 8.0, "visakhapatnam": 8.0}
OTHER_DISTRICT = 3.0  # each of the 23 others: about 75 % in all

OUTCOMES = ("open", "returned", "approved", "rejected")
OUTCOME_WEIGHTS = (25, 5, 60, 10)
LANGUAGES = ("te", "en", "hi", "ur")
LANGUAGE_WEIGHTS = (70, 25, 3, 2)
LATE = 0.12  # the chance that an officer lets a step's time pass
RATED = 0.30  # the share of decided applications the citizen rates
RETRIES = 6  # tries to draw a submission time that gives the outcome wanted

# Synthetic citizens: common Telugu given names and family names, in Latin and Telugu script.
GIVEN_NAMES = (
    ("Lakshmi", "లక్ష్మి"),
    ("Venkatesh", "వెంకటేష్"),
    ("Srinivas", "శ్రీనివాస్"),
    ("Ramesh", "రమేష్"),
    ("Padmavathi", "పద్మావతి"),
    ("Sai Kumar", "సాయి కుమార్"),
    ("Durga", "దుర్గ"),
    ("Ravi Teja", "రవితేజ"),
    ("Anjali", "అంజలి"),
    ("Bhavani", "భవాని"),
    ("Naga Raju", "నాగరాజు"),
    ("Sravani", "శ్రావణి"),
    ("Kalyani", "కళ్యాణి"),
    ("Mahesh", "మహేష్"),
    ("Satyanarayana", "సత్యనారాయణ"),
    ("Sujatha", "సుజాత"),
    ("Prasad", "ప్రసాద్"),
    ("Swathi", "స్వాతి"),
    ("Venkateswarlu", "వెంకటేశ్వర్లు"),
    ("Rama Devi", "రమాదేవి"),
)
FAMILY_NAMES = (
    ("Reddy", "రెడ్డి"),
    ("Naidu", "నాయుడు"),
    ("Rao", "రావు"),
    ("Chowdary", "చౌదరి"),
    ("Varma", "వర్మ"),
    ("Goud", "గౌడ్"),
    ("Setty", "శెట్టి"),
    ("Raju", "రాజు"),
    ("Sastry", "శాస్త్రి"),
    ("Yadav", "యాదవ్"),
)
# Localities a citizen types where the registry lists no villages or wards (common names across AP).
LOCALITIES = ("Gandhi Nagar", "Kothapeta", "Rama Nagar", "Srinivasa Nagar", "Ambedkar Colony", "Indira Colony")
# Not in the synthetic answers: files, free text, and identity numbers (which could be someone's).
SKIPPED_TYPES = frozenset(
    {
        "document",
        "photo",
        "location",
        "text",
        "number",
        "email",
        "pin_code",
        "ration_card_number",
        "property_assessment_number",
        "electricity_service_number",
        "pan",
        "vehicle_number",
        "epic_number",
    }
)
MAX_FIELDS = 8


class SeedRefused(RuntimeError):
    """The database already holds at least as many applications as asked for (`--force` to add more)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedReport:
    """What one seeding run stored, and how long it took (every figure measured in the run)."""

    applications: int
    events: int
    ratings: int
    before: int  # applications in the database before the run
    seconds: float  # generating and writing, the tidy-up excluded
    tidy: str  # the statement run after loading
    tidy_seconds: float
    by_status: dict[str, int] = field(default_factory=dict)
    database: str = ""

    @property
    def per_second(self) -> float:
        return self.applications / self.seconds if self.seconds else 0.0


# --- the plan: services, places and people ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    id: str
    type: str
    options: tuple[str, ...]
    rules: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Service:
    service: Service
    prefix: str
    fields: tuple[_Field, ...]
    fee: int | None
    issues: bool  # approval issues a document: the application ends "issued"
    steps: int


@dataclass(frozen=True, slots=True)
class _Place:
    district: str
    mandal: str
    village: str


@dataclass
class Plan:
    """Everything the generator draws from: weighted services and places, and the clock's `now`."""

    services: list[_Service]
    service_weights: list[float]
    districts: list[str]
    district_weights: list[float]
    places: dict[str, tuple[list[_Place], list[float]]]  # per district: places and cumulative weights
    now: datetime
    citizens: int


def make_plan(services: Sequence[Service], places: Jurisdictions, now: datetime, count: int) -> Plan:
    """The services and places to draw from (reviewed services whose form asks for the place)."""
    routed = [
        s
        for s in services
        if s.delivery.kind == "reviewed" and s.delivery.approvers and any(f.type == "address_ap" for f in s.fields)
    ]
    if not routed:
        raise ValueError("the catalogue has no reviewed service with a place on its form")
    others = [s for s in routed if s.id not in COMMON_SERVICES]
    share = OTHERS / len(others) if others else 0.0
    plans = [_service_plan(s) for s in routed]
    weights = [COMMON_SERVICES.get(s.id, share) for s in routed]
    districts = [d.id for d in places.districts()]
    district_weights = [DETAILED_DISTRICTS.get(d, OTHER_DISTRICT) for d in districts]
    return Plan(
        services=plans,
        service_weights=list(itertools.accumulate(weights)),
        districts=districts,
        district_weights=list(itertools.accumulate(district_weights)),
        places={d: _district_places(places, d) for d in districts},
        now=now,
        citizens=max(1, count * 3 // 4),  # some citizens apply more than once
    )


def _service_plan(service: Service) -> _Service:
    fields = tuple(
        _Field(f.id, f.type, tuple(o.id for o in f.options), dict(f.rules))
        for f in service.fields
        if f.type not in SKIPPED_TYPES
    )[:MAX_FIELDS]
    try:
        fee = fee_amount(service.fee, {})
    except (KeyError, TypeError, ValueError):
        fee = None
    return _Service(
        service=service,
        prefix=reference_prefix(service),
        fields=fields,
        fee=fee,
        issues=service.output.kind in CERTIFYING_OUTPUTS,
        steps=len(service.delivery.approvers),
    )


def _district_places(places: Jurisdictions, district: str) -> tuple[list[_Place], list[float]]:
    """Where applicants of a district live: its villages and wards, or typed names where none are known."""
    found: list[_Place] = []
    weights: list[float] = []
    below = places.children(district)
    if not below:  # known by name only: the citizen typed the mandal and the village
        hq = places.get(district)
        town = hq.headquarters.get("en", district) if hq is not None else district
        mandal = f"{district}/~{town}"
        for locality in LOCALITIES:
            found.append(_Place(district, mandal, f"{mandal}/~{locality}"))
            weights.append(1.0)
        return found, list(itertools.accumulate(weights))
    for unit in below:
        inside = places.children(unit.id)
        urban = unit.kind != "mandal"
        size = (len(inside) or 10) if urban else 4 + len(inside)  # wards stand for population
        if inside:
            for village in inside:
                found.append(_Place(district, unit.id, village.id))
                weights.append(size / len(inside))
        else:
            for locality in LOCALITIES:
                found.append(_Place(district, unit.id, f"{unit.id}/~{locality}"))
                weights.append(size / len(LOCALITIES))
    return found, list(itertools.accumulate(weights))


def _pick(rng: random.Random, cumulative: Sequence[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def _name(rng: random.Random, telugu: bool, family: int | None = None) -> tuple[str, int]:
    given = GIVEN_NAMES[rng.randrange(len(GIVEN_NAMES))]
    surname = family if family is not None else rng.randrange(len(FAMILY_NAMES))
    script = 1 if telugu else 0
    return f"{given[script]} {FAMILY_NAMES[surname][script]}", surname


def _answers(rng: random.Random, plan: _Service, place: _Place, language: str, now: datetime) -> dict[str, Any]:
    """A small form's worth of answers: names, masked numbers, the place, an amount, choices."""
    telugu = language == "te" and rng.random() < 0.5
    answers: dict[str, Any] = {}
    family: int | None = None
    for spec in plan.fields:
        kind = spec.type
        if kind == "person_name":
            answers[spec.id], family = _name(rng, telugu, family)
        elif kind == "aadhaar":
            answers[spec.id] = f"XXXXXXXX{rng.randrange(10_000):04d}"  # masked-looking: never a real number
        elif kind == "mobile":
            answers[spec.id] = f"9XXXXXX{rng.randrange(1000):03d}"
        elif kind == "address_ap":
            answers[spec.id] = {"district": place.district, "mandal": place.mandal, "village": place.village}
        elif kind == "district":
            answers[spec.id] = place.district
        elif kind == "amount_inr":
            low, high = spec.rules.get("min", 12_000), spec.rules.get("max", 600_000)
            answers[spec.id] = max(low, min(high, 1000 * rng.randint(12, 600)))
        elif kind == "choice_one" and spec.options:
            answers[spec.id] = spec.options[rng.randrange(len(spec.options))]
        elif kind == "choice_many" and spec.options:
            answers[spec.id] = [spec.options[rng.randrange(len(spec.options))]]
        elif kind == "yes_no":
            answers[spec.id] = "yes" if rng.random() < 0.7 else "no"
        elif kind == "date_of_birth":
            answers[spec.id] = format_date(date(now.year - rng.randint(18, 80), rng.randint(1, 12), rng.randint(1, 28)))
        elif kind == "date":
            answers[spec.id] = format_date((now - timedelta(days=rng.randint(0, 60))).date())
    return answers


# --- one application's life, by the platform's rules ---------------------------------------


@dataclass(slots=True)
class _Life:
    case: Case
    status: Status
    events: list[SeedEvent]
    updated_at: datetime
    decided_at: datetime | None = None


def _actor(desk: str) -> str:
    """A plausible officer's username for the desk (the events name who acted)."""
    parsed = Desk.parse(desk)
    if parsed.role == QUEUE:
        return f"district-admin.{parsed.place}"[:64]
    return f"{parsed.role.replace('_', '-')}.{parsed.place.rsplit('/', 1)[-1]}"[:64]


def _live(
    rng: random.Random, plan: _Service, answers: dict[str, Any], submitted: datetime, now: datetime, outcome: str
) -> _Life:
    """Walk an application from submission until `now` or its decision: the officer of each step
    acts after part of the step's time (or lets it pass), and the clock does what it would have."""
    service = plan.service
    case = open_case(service, answers, submitted)
    status = Status.SUBMITTED
    events = [SeedEvent(at=submitted, actor="citizen", kind="submitted", detail={"desk": case.desk})]
    arrival = submitted
    span = step_time(service)
    last = plan.steps - 1
    final = rng.randrange(plan.steps) if outcome in ("rejected", "returned") else last
    never = now + timedelta(days=100 * 365)
    while True:
        late = rng.random() < LATE
        acts_at = arrival + span * (rng.uniform(1.05, 2.5) if late else rng.uniform(0.05, 0.95))
        deciding = case.step >= final
        if outcome == "open" and case.step >= last:
            acts_at = never  # the decision is still to come
        remind_at = case.step_due_at - span * REMIND_AT
        if acts_at > remind_at and not case.reminded and remind_at <= now:
            events.append(
                SeedEvent(
                    at=remind_at,
                    actor="clock",
                    kind="reminded",
                    detail={"desk": case.desk, "due": case.step_due_at.isoformat()},
                )
            )
            case = replace(case, reminded=True)
        if acts_at >= case.step_due_at and case.step_due_at <= now:
            due = on_clock(case, status, service, answers, case.step_due_at)
            if due is not None and due.event == "escalate":
                events.append(
                    SeedEvent(
                        at=case.step_due_at,
                        actor="clock",
                        kind="escalated",
                        detail={"from": case.desk, "to": due.case.desk},
                    )
                )
                arrival = case.step_due_at
                case, status = due.case, due.status
                continue
            if due is not None and due.event == "deemed_approval":
                at = case.step_due_at
                events.append(SeedEvent(at=at, actor="clock", kind="deemed_approval", detail={"desk": case.desk}))
                done = Status.ISSUED if plan.issues else Status.APPROVED
                return _Life(case=case, status=done, events=events, updated_at=at, decided_at=at)
            # with the supervisor the case stays, overdue, until someone acts
        if acts_at > now:
            return _Life(case=case, status=status, events=events, updated_at=events[-1].at)
        actor = _actor(case.desk)
        if deciding and outcome == "rejected":
            reason = REJECT_REASONS[rng.randrange(len(REJECT_REASONS))]
            events.append(
                SeedEvent(
                    at=acts_at,
                    actor=actor,
                    kind="rejected",
                    detail={"desk": case.desk, "reason": reason, "message": ""},
                )
            )
            acted = act("reject", case, status, service, answers, acts_at)
            return _Life(case=acted.case, status=acted.status, events=events, updated_at=acts_at, decided_at=acts_at)
        if deciding and outcome == "returned":
            fields = [plan.fields[0].id] if plan.fields else []
            events.append(
                SeedEvent(
                    at=acts_at,
                    actor=actor,
                    kind="returned",
                    detail={"desk": case.desk, "fields": fields, "message": ""},
                )
            )
            acted = act("return", case, status, service, answers, acts_at)
            return _Life(case=acted.case, status=acted.status, events=events, updated_at=acts_at)
        acted = act("approve", case, status, service, answers, acts_at)
        if acted.issue:
            events.append(SeedEvent(at=acts_at, actor=actor, kind="approved", detail={"desk": case.desk}))
            done = Status.ISSUED if plan.issues else Status.APPROVED
            return _Life(case=case, status=done, events=events, updated_at=acts_at, decided_at=acts_at)
        events.append(
            SeedEvent(at=acts_at, actor=actor, kind="approved_step", detail={"desk": case.desk, "to": acted.case.desk})
        )
        arrival = acts_at
        case, status = acted.case, acted.status


def _settled(life: _Life, outcome: str) -> bool:
    if outcome == "open":
        return life.status in OPEN
    if outcome == "returned":
        return life.status is Status.RETURNED
    return life.decided_at is not None


def _submission(rng: random.Random, plan: _Service, now: datetime, outcome: str, attempt: int) -> datetime:
    """When the application came in: open and returned ones lean recent, decided ones anywhere in
    the window. A draw that did not give the outcome is tried again nearer to now (open) or
    further back (the others)."""
    window = timedelta(days=DAYS)
    sla = timedelta(minutes=plan.service.sla.total_minutes)
    if outcome == "open":
        reach = min(window, sla * 1.5 + timedelta(days=1)) / (attempt + 1)
        return now - reach * math.pow(rng.random(), 1.5)
    if outcome == "returned":
        reach = min(window, sla + timedelta(days=20 + 30 * attempt))
        return now - reach * rng.random()
    least = min(window, sla * attempt / 2)
    return now - least - (window - least) * rng.random()


def generate(plan: Plan, rng: random.Random, count: int) -> list[SeedApplication]:
    """`count` applications drawn from the plan."""
    now = plan.now
    found: list[SeedApplication] = []
    outcomes = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS, k=count)
    languages = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS, k=count)
    for outcome, language in zip(outcomes, languages, strict=True):
        service = plan.services[_pick(rng, plan.service_weights)]
        district = plan.districts[_pick(rng, plan.district_weights)]
        places, weights = plan.places[district]
        place = places[_pick(rng, weights)]
        answers = _answers(rng, service, place, language, now)
        for attempt in range(RETRIES):
            submitted = _submission(rng, service, now, outcome, attempt)
            life = _live(rng, service, answers, submitted, now, outcome)
            if _settled(life, outcome):
                break
        citizen = f"915{rng.randrange(plan.citizens):09d}"  # +91 5...: no Indian mobile number starts with 5
        rating = None
        if life.decided_at is not None and rng.random() < RATED:
            good = life.status is not Status.REJECTED
            score = rng.choices((1, 2, 3, 4, 5), weights=(4, 6, 15, 35, 40) if good else (30, 25, 25, 12, 8))[0]
            rating = (score, min(now, life.decided_at + timedelta(minutes=rng.randint(1, 3 * 24 * 60))))
        clock_at = None
        if life.status in OPEN:
            following = next_clock(life.case, service.service)
            clock_at = following if following is not None and following > now else None
        found.append(
            SeedApplication(
                prefix=service.prefix,
                service_id=service.service.id,
                service_version=service.service.version,
                definition_hash=service.service.definition_hash,
                address=citizen,
                wa_id=citizen,
                language=language,
                answers=answers,
                status=life.status,
                fee_inr=service.fee,
                submitted_at=submitted,
                due_at=submitted + timedelta(minutes=service.service.sla.total_minutes),
                updated_at=life.updated_at,
                department_id=service.service.department_id,
                district=place.district,
                case=life.case,
                clock_at=clock_at,
                decided_at=life.decided_at,
                events=tuple(life.events),
                rating=rating,
            )
        )
    return found


# --- the command ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Done:
    """What one batch stored."""

    applications: int
    events: int
    ratings: int
    statuses: dict[str, int]


class _Writer:
    """Draws batches from the plan and stores each in its own transaction: in this process, or
    in each worker process of the pool (every batch has its own random stream, so the data is
    the same however many processes share the work)."""

    def __init__(self, settings: Settings, now: datetime, count: int) -> None:
        context = build_context(settings)
        if context.places is None:
            raise ValueError("seeding needs the jurisdictions (catalogue/jurisdictions)")
        self.plan = make_plan(context.catalogue.services, context.places, now, count)
        self.url = settings.database_url
        self.sealer = AesGcmSealer.from_secret(settings.data_key.get_secret_value())

    async def batch(self, seed: int, index: int, size: int) -> _Done:
        applications = generate(self.plan, random.Random(f"{seed}:{index}"), size)  # noqa: S311 (synthetic data)
        engine = create_engine(self.url)
        try:
            written = await SqlSeeder(engine, self.sealer).write(applications)
        finally:
            await engine.dispose()
        return _Done(
            applications=written.applications,
            events=written.events,
            ratings=written.ratings,
            statuses=dict(Counter(a.status.value for a in applications)),
        )


_worker: _Writer | None = None  # a pool worker process's own writer (made by `_start_worker`)


def _start_worker(settings: Settings, now: datetime, count: int) -> None:
    global _worker
    _worker = _Writer(settings, now, count)


def _run_batch(seed: int, index: int, size: int) -> _Done:
    assert _worker is not None, "the pool's initializer makes the writer"
    return asyncio.run(_worker.batch(seed, index, size))


def seed_applications(
    settings: Settings,
    count: int,
    *,
    seed: int = 1,
    force: bool = False,
    workers: int | None = None,
    batch: int | None = None,
    now: datetime | None = None,
    echo: Callable[[str], None] = print,
) -> SeedReport:
    """Add `count` synthetic applications to the configured database (migrated beforehand), in
    batches (of `batch` applications; default 20,000 on PostgreSQL, 5,000 on SQLite) drawn and
    written by `workers` processes (default: one per CPU). `now` is when the 180 days end.

    Refuses (SeedRefused) when it already holds `count` applications or more, unless `force`.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    workers = max(1, workers or os.cpu_count() or 1)
    moment = now or datetime.now(UTC)
    return asyncio.run(
        _seed(settings, count, seed=seed, force=force, workers=workers, batch=batch, now=moment, echo=echo)
    )


async def _seed(
    settings: Settings,
    count: int,
    *,
    seed: int,
    force: bool,
    workers: int,
    batch: int | None,
    now: datetime,
    echo: Callable[[str], None],
) -> SeedReport:
    engine = create_engine(settings.database_url)
    seeder = SqlSeeder(engine, AesGcmSealer.from_secret(settings.data_key.get_secret_value()))
    database = settings.database_url.partition(":")[0]
    try:
        before = await seeder.count()
        if before >= count and not force:
            raise SeedRefused(
                f"the database already holds {before:,} applications (asked for {count:,}): "
                "nothing added; pass --force to add more"
            )
        size = batch or (BATCH_SQLITE if seeder.sqlite else BATCH_POSTGRES)
        sizes = [min(size, count - start) for start in range(0, count, size)]
        workers = min(workers, len(sizes))
        echo(
            f"seeding {count:,} applications into {database}: {len(sizes):,} batch{'es' if len(sizes) > 1 else ''} "
            f"of up to {size:,}, {workers} process{'es' if workers > 1 else ''}"
        )
        total = _Done(applications=0, events=0, ratings=0, statuses={})
        shown = 0
        began = time.perf_counter()
        async for done in _batches(settings, now, count, seed, sizes, workers):
            total = _Done(
                applications=total.applications + done.applications,
                events=total.events + done.events,
                ratings=total.ratings + done.ratings,
                statuses=dict(Counter(total.statuses) + Counter(done.statuses)),
            )
            if total.applications - shown >= PROGRESS_EVERY or total.applications == count:
                shown = total.applications
                elapsed = time.perf_counter() - began
                echo(f"  {shown:>11,} applications  {elapsed:7.1f} s  {shown / elapsed:9,.0f} applications/s")
        seconds = time.perf_counter() - began
        tidy_began = time.perf_counter()
        tidy = await seeder.tidy()
        tidy_seconds = time.perf_counter() - tidy_began
    finally:
        await engine.dispose()
    report = SeedReport(
        applications=total.applications,
        events=total.events,
        ratings=total.ratings,
        before=before,
        seconds=seconds,
        tidy=tidy,
        tidy_seconds=tidy_seconds,
        by_status=dict(sorted(total.statuses.items(), key=lambda item: -item[1])),
        database=database,
    )
    mix = ", ".join(f"{status} {n / report.applications:.1%}" for status, n in report.by_status.items())
    echo(
        f"seeded {report.applications:,} applications ({report.events:,} history events, {report.ratings:,} "
        f"ratings) in {seconds:.1f} s: {report.per_second:,.0f} applications/s; then {tidy} in {tidy_seconds:.1f} s"
    )
    echo(f"  statuses: {mix}")
    return report


async def _batches(
    settings: Settings, now: datetime, count: int, seed: int, sizes: Sequence[int], workers: int
) -> AsyncIterator[_Done]:
    """Each batch's result as it is stored, from this process or from a pool of worker processes."""
    if workers == 1:
        writer = _Writer(settings, now, count)
        for index, size in enumerate(sizes):
            yield await writer.batch(seed, index, size)
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(settings, now, count),
    )
    loop = asyncio.get_running_loop()
    try:
        pending = [loop.run_in_executor(pool, _run_batch, seed, index, size) for index, size in enumerate(sizes)]
        for finished in asyncio.as_completed(pending):
            yield await finished
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # nothing more starts; what runs ends
        raise
    pool.shutdown(wait=True)
