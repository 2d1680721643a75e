"""Aggregates over applications for the officers' analytics and the public citizen charter.

Every figure is one grouped SQL query: the database counts, sums and takes medians, and Python
only receives one row per group (never one per application), so that a page stays fast with a
million applications. Scopes are conditions on indexed columns (a district is the leading column
of (district, service_id, submitted_at); a department is its services' id prefix), so weekly
counts are read from that index alone. Decisions need `decided_at` and `due_at`, which no index
holds: those queries scan, in parallel workers on PostgreSQL, and the queries of one page run at
once on separate connections. With a million applications (about 1 GB of rows) on PostgreSQL
15, a state-wide page took about 1.3 s to compute, a district's about 0.5 s and the charter about
0.9 s; callers keep the results a minute (the dashboard per scope, the charter for everyone).

An application counts as *decided* when an officer (or the SLA clock) approved or rejected it,
at `decided_at`, or, for an instant service, when the registry answered, at submission. It was
decided *within the SLA* when that moment is no later than its `due_at`.

Medians: PostgreSQL's `percentile_cont(0.5)`; SQLite has no such aggregate, so there each group's
rows are numbered in order by a window function and the middle one (or the mean of the middle
two) is taken, still inside the database.

Scopes follow officers' jurisdiction: the whole state, one department, or one district.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, extract, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.tables import applications, ratings
from sevamitra.core.officers import Officer
from sevamitra.core.workflow import STATE

IST = timezone(timedelta(hours=5, minutes=30), "IST")  # weeks start on Monday in Andhra Pradesh
WEEK_SECONDS = 7 * 24 * 3600
DAY_SECONDS = 24 * 3600
OPEN_STATUSES = ("submitted", "under_review")  # on an officer's desk, the clock running
INSTANT_DECIDED = ("decided", "not_found", "issued")  # an instant service's answer (desk is NULL)
AGE_BUCKETS = ("0-2", "3-7", "8-30", ">30")  # days since submission, of the open backlog
AGE_LIMITS = (3, 8, 31)  # the first whole day of each bucket after the first
SCORES = (1, 2, 3, 4, 5)  # the citizen's rating: 1 very poor … 5 excellent
CHARTER_WINDOW = timedelta(days=90)
MAX_WEEKS = 104

Dimension = Literal["service", "department", "district"]
Groups = dict[tuple[Any, ...], tuple[int, int, float | None]]
DIMENSIONS: tuple[Dimension, ...] = ("service", "department", "district")


# --- what the queries return ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What an officer's figures cover: the whole state (both None), a department or a district.

    A department is matched by its services' ids (`<department>.<name>`, as the catalogue lint
    demands), which the (district, service_id, submitted_at) index holds."""

    department_id: str | None = None
    district: str | None = None  # a district's place id, e.g. "ntr"

    @property
    def is_state(self) -> bool:
        return self.department_id is None and self.district is None


def scope_of(officer: Officer) -> Scope:
    """An officer's analytics scope: state administrators and state-level officers see the state,
    a department's administrator their department, everyone else the district they work in."""
    if officer.role == "state_admin":
        return Scope()
    if officer.role == "department_admin":
        return Scope(department_id=officer.department_id or "")  # none named: "" matches nothing
    if officer.place == STATE:
        return Scope()
    return Scope(district=officer.place.split("/", 1)[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklyCount:
    """Applications submitted in one week (Monday 00:00 IST onwards) for one service, department or district."""

    key: str | None  # None: applications that do not say (no district on the form)
    week: date  # the Monday the week starts on
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRow:
    """Decisions in a window for one group (or all, `key` None): how many, how many in time, how long."""

    key: str | None
    decided: int
    within_sla: int
    median_days: float | None  # None when nothing was decided

    @property
    def within_sla_share(self) -> float | None:
        return self.within_sla / self.decided if self.decided else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Backlog:
    """Open applications (with an officer) by days since submission, and how many are past their step's time."""

    buckets: tuple[tuple[str, int], ...]  # (AGE_BUCKETS label, count), in AGE_BUCKETS order
    overdue: int

    @property
    def total(self) -> int:
        return sum(count for _, count in self.buckets)


@dataclass(frozen=True, slots=True, kw_only=True)
class Satisfaction:
    """Citizens' ratings (1 poor, 2 fair, 3 good) given in a window."""

    count: int
    average: float | None
    by_score: tuple[tuple[int, int], ...]  # (score, count) for each score, 1 to 5


@dataclass(frozen=True, slots=True, kw_only=True)
class CharterRow:
    """The citizen charter's measured figures for one service in one district (None: the whole state)."""

    service_id: str
    district: str | None
    decided: int
    within_sla: int
    median_days: float | None

    @property
    def within_sla_share(self) -> float | None:
        return self.within_sla / self.decided if self.decided else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    """Everything the analytics page shows for one scope."""

    scope: Scope
    now: datetime
    since: datetime  # the window of decisions and ratings
    weeks: int
    weekly: dict[Dimension, list[WeeklyCount]] = field(default_factory=dict)
    total: DecisionRow
    by_service: list[DecisionRow]
    by_district: list[DecisionRow]
    backlog: Backlog
    satisfaction: Satisfaction


# --- the queries ------------------------------------------------------------------------


def week_start(moment: datetime) -> datetime:
    """The Monday 00:00 IST of `moment`'s week, in UTC."""
    local = moment.astimezone(IST)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.astimezone(UTC)


class SqlAnalytics:
    """Grouped queries over `applications` and `ratings`, on PostgreSQL or SQLite."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)

    # applications per week ----------------------------------------------------------------

    async def weekly(self, scope: Scope, by: Dimension, weeks: int, now: datetime) -> list[WeeklyCount]:
        """Applications submitted per `by` and week over the last `weeks` weeks (this one included),
        ordered by key then week; weeks without applications are left out.

        Reads only the (district, service_id, submitted_at) index: a department is its services'
        id prefix (the catalogue names every service `<department>.<name>`), summed here per
        (service, week) group."""
        weeks = max(1, min(weeks, MAX_WEEKS))
        start = week_start(now) - timedelta(weeks=weeks - 1)
        c = applications.c
        key = c.district if by == "district" else c.service_id
        bucket = self._week_index(c.submitted_at, start).label("week")
        query = (
            select(key.label("key"), bucket, func.count().label("n"))
            .where(c.submitted_at >= start, c.submitted_at <= now, *_scoped(scope))
            .group_by(key, bucket)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        counts: dict[tuple[str | None, int], int] = {}
        for r in rows:
            name = r.key.split(".", 1)[0] if by == "department" and r.key else r.key
            counts[(name, int(r.week))] = counts.get((name, int(r.week)), 0) + int(r.n)
        first = start.astimezone(IST).date()
        return [
            WeeklyCount(key=name, week=first + timedelta(weeks=week), count=n)
            for (name, week), n in sorted(counts.items(), key=lambda item: (item[0][0] or "", item[0][1]))
            if 0 <= week < weeks
        ]

    def _week_index(self, column: Any, start: datetime) -> ColumnElement[Any]:
        offset = int(start.timestamp())
        if self.sqlite:
            seconds = cast(func.strftime("%s", column), Integer)
            return (seconds - offset) // WEEK_SECONDS  # integer division: whole weeks since the start
        return cast(func.floor((extract("epoch", column) - offset) / WEEK_SECONDS), Integer)

    # decisions: counts, within the SLA, medians ----------------------------------------------

    async def decisions(self, scope: Scope, since: datetime, by: Dimension | None = None) -> list[DecisionRow]:
        """Applications decided since `since`, per `by` (or one row for all, with key None):
        how many, how many by their due time, and the median days from submission to decision."""
        keys = (_dimension(by),) if by else ()
        (found,) = await self._decision_sets([keys], _scoped(scope), since)
        if by is None:
            return [_decision_row(None, found.get((), (0, 0, None)))]
        return _by_volume([_decision_row(k[0], v) for k, v in found.items()])

    async def compliance(self, scope: Scope, since: datetime) -> DecisionRow:
        """All decisions since `since` in the scope: the SLA compliance and the median time."""
        return (await self.decisions(scope, since))[0]

    async def breakdown(
        self, scope: Scope, since: datetime
    ) -> tuple[DecisionRow, list[DecisionRow], list[DecisionRow]]:
        """`decisions` for all, per service and per district, at once."""
        c = applications.c
        total, services, districts = await self._decision_sets(
            [(), (c.service_id,), (c.district,)], _scoped(scope), since
        )
        return (
            _decision_row(None, total.get((), (0, 0, None))),
            _by_volume([_decision_row(k[0], v) for k, v in services.items()]),
            _by_volume([_decision_row(k[0], v) for k, v in districts.items()]),
        )

    async def charter(self, since: datetime) -> list[CharterRow]:
        """Per service and district, and per service for the whole state (district None), the
        decisions since `since`. Services without decisions have no row; applications whose form
        named no district count only state-wide."""
        c = applications.c
        per_district, state_wide = await self._decision_sets([(c.service_id, c.district), (c.service_id,)], [], since)
        rows = [
            CharterRow(service_id=k[0], district=k[1], decided=v[0], within_sla=v[1], median_days=v[2])
            for k, v in per_district.items()
            if k[1] is not None
        ]
        rows += [
            CharterRow(service_id=k[0], district=None, decided=v[0], within_sla=v[1], median_days=v[2])
            for k, v in state_wide.items()
        ]
        return sorted(rows, key=lambda r: (r.service_id, r.district is not None, r.district or ""))

    async def _decision_sets(
        self, sets: Sequence[tuple[Any, ...]], where: Sequence[ColumnElement[bool]], since: datetime
    ) -> list[Groups]:
        """For each grouping (a tuple of columns; () for all), {group key: (decided, within the
        SLA, median days)} of the decisions since `since`. One query each, at once on PostgreSQL
        (separate GROUP BYs scan in parallel workers; GROUPING SETS would not)."""
        groups = self._sqlite_groups if self.sqlite else self._postgres_groups
        found: list[Groups] = await self._together(*(groups(keys, where, since) for keys in sets))
        return found

    def _decision_terms(self) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        """Days from submission to decision, and 1 when the decision came by the due time."""
        c = applications.c
        moment = _decided_moment()
        return self._days_between(c.submitted_at, moment), case((self._not_after(moment, c.due_at), 1), else_=0)

    async def _postgres_groups(
        self, keys: tuple[Any, ...], where: Sequence[ColumnElement[bool]], since: datetime
    ) -> Groups:
        days, in_time = self._decision_terms()
        query = (
            select(
                *[k.label(f"k{i}") for i, k in enumerate(keys)],
                func.count().label("n"),
                func.sum(in_time).label("w"),
                func.percentile_cont(0.5).within_group(days).label("m"),
            )
            .where(_decided_since(since), *where)
            .group_by(*keys)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {tuple(getattr(r, f"k{i}") for i in range(len(keys))): _figures(r) for r in rows if r.n}

    async def _sqlite_groups(
        self, keys: tuple[Any, ...], where: Sequence[ColumnElement[bool]], since: datetime
    ) -> Groups:
        """Each group's rows numbered by duration (a window function); the median is the middle
        row, or the mean of the middle two."""
        days, in_time = self._decision_terms()
        partition = list(keys) or None
        ordered = (
            select(
                *[k.label(f"k{i}") for i, k in enumerate(keys)],
                days.label("d"),
                in_time.label("w"),
                func.row_number().over(partition_by=partition, order_by=days).label("rn"),
                func.count().over(partition_by=partition).label("n"),
            )
            .where(_decided_since(since), *where)
            .subquery()
        )
        o = ordered.c
        middle = and_(o.rn * 2 >= o.n, o.rn * 2 <= o.n + 2)
        group = [o[f"k{i}"] for i in range(len(keys))]
        query = select(
            *group,
            func.max(o.n).label("n"),
            func.sum(o.w).label("w"),
            func.avg(case((middle, o.d))).label("m"),
        ).group_by(*group)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {tuple(getattr(r, f"k{i}") for i in range(len(keys))): _figures(r) for r in rows if r.n}

    def _days_between(self, start: Any, end: Any) -> ColumnElement[Any]:
        if self.sqlite:
            return func.julianday(end) - func.julianday(start)
        return extract("epoch", end - start) / float(DAY_SECONDS)

    def _not_after(self, moment: Any, limit: Any) -> ColumnElement[bool]:
        if self.sqlite:  # compare instants, not the stored text
            return func.julianday(moment) <= func.julianday(limit)
        result: ColumnElement[bool] = moment <= limit
        return result

    # the open backlog -----------------------------------------------------------------------

    async def backlog(self, scope: Scope, now: datetime) -> Backlog:
        """Open applications by age: 0-2, 3-7, 8-30 and more than 30 days since submission."""
        c = applications.c
        limits = [now - timedelta(days=d) for d in AGE_LIMITS]
        bucket = case(
            (c.submitted_at > limits[0], 0),
            (c.submitted_at > limits[1], 1),
            (c.submitted_at > limits[2], 2),
            else_=3,
        ).label("bucket")
        late = case((c.step_due_at < now, 1), else_=0)
        query = (
            select(bucket, func.count().label("n"), func.sum(late).label("late"))
            .where(c.desk.isnot(None), c.status.in_(OPEN_STATUSES), *_scoped(scope))
            .group_by(bucket)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        counts = dict.fromkeys(range(len(AGE_BUCKETS)), 0)
        overdue = 0
        for r in rows:
            counts[int(r.bucket)] = int(r.n)
            overdue += int(r.late or 0)
        return Backlog(buckets=tuple((AGE_BUCKETS[i], counts[i]) for i in range(len(AGE_BUCKETS))), overdue=overdue)

    # citizens' ratings ----------------------------------------------------------------------

    async def satisfaction(self, scope: Scope, since: datetime) -> Satisfaction:
        """Ratings given since `since` on applications in the scope: how many, their mean, each score's count."""
        source: Any = ratings
        where: list[ColumnElement[bool]] = [ratings.c.at >= since]
        if not scope.is_state:
            source = ratings.join(applications, applications.c.reference == ratings.c.reference)
            where += _scoped(scope)
        query = (
            select(ratings.c.score, func.count().label("n")).select_from(source).where(*where).group_by(ratings.c.score)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        counts = dict.fromkeys(SCORES, 0)
        for r in rows:
            if int(r.score) in counts:
                counts[int(r.score)] = int(r.n)
        total = sum(counts.values())
        average = round(sum(s * n for s, n in counts.items()) / total, 4) if total else None
        return Satisfaction(count=total, average=average, by_score=tuple(counts.items()))

    # everything at once --------------------------------------------------------------------

    async def overview(
        self, scope: Scope, now: datetime, *, weeks: int = 12, window: timedelta = CHARTER_WINDOW
    ) -> Overview:
        """The analytics page's figures for `scope`: applications per week by service, department
        and district; decisions (overall, per service, per district) and ratings over `window`;
        the open backlog now."""
        since = now - window
        weekly, (total, by_service, by_district), backlog, satisfaction = await self._together(
            self._weekly_all(scope, weeks, now),
            self.breakdown(scope, since),
            self.backlog(scope, now),
            self.satisfaction(scope, since),
        )
        return Overview(
            scope=scope,
            now=now,
            since=since,
            weeks=weeks,
            weekly=weekly,
            total=total,
            by_service=by_service,
            by_district=by_district,
            backlog=backlog,
            satisfaction=satisfaction,
        )

    async def _weekly_all(self, scope: Scope, weeks: int, now: datetime) -> dict[Dimension, list[WeeklyCount]]:
        found = await self._together(*(self.weekly(scope, by, weeks, now) for by in DIMENSIONS))
        return dict(zip(DIMENSIONS, found, strict=True))

    async def _together(self, *queries: Awaitable[Any]) -> list[Any]:
        """Run queries on several pooled connections at once (PostgreSQL); one after another on
        SQLite, where each read transaction takes the database's write lock (BEGIN IMMEDIATE)."""
        if not self.sqlite:
            return list(await asyncio.gather(*queries))
        done: list[Any] = []
        try:
            for query in queries:
                done.append(await query)
        finally:
            for left in queries[len(done) + 1 :]:  # a failure leaves the rest unstarted: close them
                if inspect.iscoroutine(left):
                    left.close()
        return done


def _decision_row(key: str | None, figures: tuple[int, int, float | None]) -> DecisionRow:
    return DecisionRow(key=key, decided=figures[0], within_sla=figures[1], median_days=figures[2])


def _by_volume(rows: list[DecisionRow]) -> list[DecisionRow]:
    return sorted(rows, key=lambda r: (-r.decided, r.key or ""))


def _figures(row: Any) -> tuple[int, int, float | None]:
    return int(row.n), int(row.w or 0), None if row.m is None else round(float(row.m), 4)


def _dimension(by: Dimension) -> Any:
    c = applications.c
    return {"service": c.service_id, "department": c.department_id, "district": c.district}[by]


def _scoped(scope: Scope) -> list[ColumnElement[bool]]:
    """A scope as conditions on indexed columns: the district, and a department as its services' id prefix."""
    c = applications.c
    where: list[ColumnElement[bool]] = []
    if scope.department_id is not None:
        prefix = f"{_escaped(scope.department_id)}.%"
        where.append(c.service_id.like(prefix, escape="\\") if scope.department_id else false())
    if scope.district is not None:
        where.append(c.district == scope.district if scope.district else false())
    return where


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _decided_moment() -> ColumnElement[Any]:
    """When an application was decided: `decided_at`, or an instant service's submission; else NULL."""
    c = applications.c
    return case(
        (c.decided_at.isnot(None), c.decided_at),
        (and_(c.desk.is_(None), c.status.in_(INSTANT_DECIDED)), c.submitted_at),
        else_=None,
    )


def _decided_since(since: datetime) -> ColumnElement[bool]:
    c = applications.c
    return or_(
        c.decided_at >= since,
        and_(c.decided_at.is_(None), c.desk.is_(None), c.status.in_(INSTANT_DECIDED), c.submitted_at >= since),
    )
