"""Analytics and the citizen charter's figures, computed in SQL on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.analytics import (
    AGE_BUCKETS,
    CharterRow,
    DecisionRow,
    Scope,
    SqlAnalytics,
    scope_of,
    week_start,
)
from sevamitra.adapters.sql.tables import applications, ratings
from sevamitra.core.officers import Officer

NOW = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # Wednesday 2 December 2026, 12:00 in Andhra Pradesh
DAY = timedelta(days=1)
SEALED_NOTHING = AesGcmSealer.from_secret("x").seal(b"{}")
INCOME = "revenue.income-certificate"
TRADE = "municipal.trade-licence"
LAND = "revenue.land-record-copy"
_numbers = count(1)


async def add(
    connection: AsyncConnection,
    *,
    service: str,
    district: str | None,
    submitted: datetime,
    sla: timedelta,
    status: str,
    decided_after: timedelta | None = None,
    desk: str | None = "tahsildar@ntr/vijayawada-rural",
    step_due: datetime | None = None,
) -> str:
    reference = f"AP-TST-2026-{next(_numbers):06d}"
    await connection.execute(
        insert(applications).values(
            reference=reference,
            service_id=service,
            service_version=1,
            definition_hash="0" * 64,
            address=f"citizen-{reference}",
            language="te",
            answers=SEALED_NOTHING,
            status=status,
            submitted_at=submitted,
            due_at=submitted + sla,
            updated_at=submitted,
            department_id=service.split(".")[0],
            district=district,
            desk=desk,
            step_due_at=step_due,
            decided_at=submitted + decided_after if decided_after is not None else None,
        )
    )
    return reference


async def decided(
    connection: AsyncConnection, service: str, district: str | None, days: float, sla_days: int, *, ago: int = 1
) -> str:
    """An application decided `ago` days before NOW after `days` days, with an SLA of `sla_days`."""
    taken = timedelta(days=days)
    return await add(
        connection,
        service=service,
        district=district,
        submitted=NOW - ago * DAY - taken,
        sla=timedelta(days=sla_days),
        status="approved",
        decided_after=taken,
    )


async def open_case(connection: AsyncConnection, district: str, age_days: float, *, overdue: bool) -> str:
    submitted = NOW - timedelta(days=age_days)
    return await add(
        connection,
        service=INCOME,
        district=district,
        submitted=submitted,
        sla=timedelta(days=7),
        status="under_review",
        step_due=NOW - DAY if overdue else NOW + DAY,
    )


@pytest.fixture
async def seeded(engine: AsyncEngine) -> SqlAnalytics:
    """Income certificates in NTR and Guntur, trade licences in NTR, one instant answer, an open
    backlog, old decisions outside the window, and ratings."""
    async with engine.begin() as connection:
        ntr_income = [await decided(connection, INCOME, "ntr", d, 7) for d in (1, 2, 3, 4, 10)]
        for d in (2, 6):
            await decided(connection, INCOME, "guntur", d, 5)
        for d in (1, 1, 2, 8):
            await decided(connection, TRADE, "ntr", d, 3)
        await decided(connection, INCOME, "ntr", 1, 7, ago=100)  # outside the 90 days
        await add(  # an instant service: decided at once, in time, with no desk
            connection,
            service=LAND,
            district="ntr",
            submitted=NOW - 10 * DAY,
            sla=timedelta(0),
            status="decided",
            desk=None,
        )
        await add(  # an instant service's record not found: an answer all the same
            connection,
            service=LAND,
            district=None,
            submitted=NOW - 11 * DAY,
            sla=timedelta(0),
            status="not_found",
            desk=None,
        )
        for age, overdue in ((1, False), (2.5, False), (5, True), (7.9, True), (20, True), (45, True)):
            await open_case(connection, "ntr", age, overdue=overdue)
        await open_case(connection, "guntur", 40, overdue=True)
        await add(  # with the citizen for a correction: not in the backlog
            connection,
            service=INCOME,
            district="ntr",
            submitted=NOW - 4 * DAY,
            sla=timedelta(days=7),
            status="returned",
        )
        guntur_income = await decided(connection, INCOME, "guntur", 1, 5, ago=3)
        for reference, score in ((ntr_income[0], 3), (ntr_income[1], 3), (ntr_income[2], 1), (guntur_income, 2)):
            await connection.execute(insert(ratings).values(reference=reference, score=score, at=NOW - DAY))
        await connection.execute(insert(ratings).values(reference=ntr_income[3], score=1, at=NOW - 200 * DAY))
    return SqlAnalytics(engine)


SINCE = NOW - timedelta(days=90)


async def test_compliance_counts_decisions_in_the_window_and_takes_the_median(seeded: SqlAnalytics) -> None:
    # income: ntr 1,2,3,4,10 (SLA 7); guntur 2,6,1 (SLA 5); trade: ntr 1,1,2,8 (SLA 3); two instant answers
    total = await seeded.compliance(Scope(), SINCE)
    assert total.decided == 14
    assert total.within_sla == 4 + 2 + 3 + 2
    assert total.median_days == pytest.approx(2)  # 0,0,1,1,1,1,2,2,2,3,4,6,8,10


async def test_decisions_per_service_and_district(seeded: SqlAnalytics) -> None:
    by_service = {r.key: r for r in await seeded.decisions(Scope(), SINCE, "service")}
    assert by_service[INCOME] == DecisionRow(key=INCOME, decided=8, within_sla=6, median_days=pytest.approx(2.5))
    assert by_service[TRADE] == DecisionRow(key=TRADE, decided=4, within_sla=3, median_days=pytest.approx(1.5))
    assert by_service[LAND].median_days == 0 and by_service[LAND].within_sla_share == 1.0
    by_district = {r.key: r for r in await seeded.decisions(Scope(), SINCE, "district")}
    assert by_district["guntur"].decided == 3
    assert by_district["guntur"].median_days == pytest.approx(2)
    assert by_district[None].decided == 1  # the instant answer whose form named no district


async def test_backlog_sorts_open_cases_by_age_and_counts_the_overdue(seeded: SqlAnalytics) -> None:
    state = await seeded.backlog(Scope(), NOW)
    assert state.buckets == (("0-2", 2), ("3-7", 2), ("8-30", 1), (">30", 2))
    assert [label for label, _ in state.buckets] == list(AGE_BUCKETS)
    assert state.total == 7
    assert state.overdue == 5
    ntr = await seeded.backlog(Scope(district="ntr"), NOW)
    assert ntr.buckets[-1] == (">30", 1)
    assert ntr.total == 6


async def test_satisfaction_averages_ratings_in_the_window(seeded: SqlAnalytics) -> None:
    state = await seeded.satisfaction(Scope(), SINCE)
    assert state.count == 4
    assert state.average == pytest.approx(9 / 4)
    assert state.by_score == ((1, 1), (2, 1), (3, 2), (4, 0), (5, 0))
    guntur = await seeded.satisfaction(Scope(district="guntur"), SINCE)
    assert (guntur.count, guntur.average) == (1, 2.0)
    nobody = await seeded.satisfaction(Scope(department_id="municipal"), SINCE)
    assert (nobody.count, nobody.average) == (0, None)


async def test_scopes_filter_every_figure(seeded: SqlAnalytics) -> None:
    municipal = await seeded.compliance(Scope(department_id="municipal"), SINCE)
    assert (municipal.decided, municipal.within_sla) == (4, 3)
    guntur = await seeded.compliance(Scope(district="guntur"), SINCE)
    assert (guntur.decided, guntur.within_sla, guntur.median_days) == (3, 2, pytest.approx(2))
    both = await seeded.compliance(Scope(department_id="revenue", district="guntur"), SINCE)
    assert both.decided == 3
    assert (await seeded.compliance(Scope(department_id=""), SINCE)).decided == 0  # names nothing: sees nothing
    assert (await seeded.backlog(Scope(department_id="municipal"), NOW)).total == 0


async def test_weekly_counts_start_on_monday_in_india(engine: AsyncEngine) -> None:
    monday = week_start(NOW)
    assert monday == datetime(2026, 11, 29, 18, 30, tzinfo=UTC)  # Monday 00:00 IST
    async with engine.begin() as connection:
        for submitted, district in (
            (monday + timedelta(minutes=30), "ntr"),  # this week
            (monday + 2 * DAY, "ntr"),
            (monday - timedelta(minutes=30), "ntr"),  # Sunday night: last week
            (monday - 3 * DAY, "guntur"),
            (monday - 20 * DAY, "guntur"),  # three weeks ago
            (monday - 200 * DAY, "guntur"),  # outside twelve weeks
        ):
            await add(
                connection, service=INCOME, district=district, submitted=submitted, sla=7 * DAY, status="submitted"
            )
    analytics = SqlAnalytics(engine)
    weeks = await analytics.weekly(Scope(), "district", 12, NOW)
    this_week, last_week, three_ago = date(2026, 11, 30), date(2026, 11, 23), date(2026, 11, 9)
    assert [(w.key, w.week, w.count) for w in weeks] == [
        ("guntur", three_ago, 1),
        ("guntur", last_week, 1),
        ("ntr", last_week, 1),
        ("ntr", this_week, 2),
    ]
    by_service = await analytics.weekly(Scope(district="ntr"), "service", 4, NOW)
    assert [(w.key, w.week, w.count) for w in by_service] == [(INCOME, last_week, 1), (INCOME, this_week, 2)]
    by_department = await analytics.weekly(Scope(), "department", 1, NOW)
    assert [(w.key, w.count) for w in by_department] == [("revenue", 2)]


async def test_charter_rows_per_service_and_district_and_state_wide(seeded: SqlAnalytics) -> None:
    rows = {(r.service_id, r.district): r for r in await seeded.charter(SINCE)}
    assert rows[(INCOME, "ntr")] == CharterRow(
        service_id=INCOME, district="ntr", decided=5, within_sla=4, median_days=pytest.approx(3)
    )
    assert rows[(INCOME, "guntur")].within_sla_share == pytest.approx(2 / 3)
    assert rows[(INCOME, None)].decided == 8  # the whole state
    assert rows[(INCOME, None)].median_days == pytest.approx(2.5)
    assert rows[(TRADE, None)].median_days == pytest.approx(1.5)
    assert rows[(LAND, None)].decided == 2
    assert rows[(LAND, "ntr")].decided == 1  # the answer without a district counts state-wide only
    assert {k for k in rows if k[0] == LAND} == {(LAND, "ntr"), (LAND, None)}


async def test_an_empty_database_gives_empty_figures(engine: AsyncEngine) -> None:
    analytics = SqlAnalytics(engine)
    overview = await analytics.overview(Scope(), NOW)
    assert overview.total == DecisionRow(key=None, decided=0, within_sla=0, median_days=None)
    assert overview.total.within_sla_share is None
    assert overview.backlog.total == 0 and overview.satisfaction.average is None
    assert overview.weekly == {"service": [], "department": [], "district": []}
    assert await analytics.charter(SINCE) == []


async def test_overview_gathers_every_figure(seeded: SqlAnalytics) -> None:
    overview = await seeded.overview(Scope(district="ntr"), NOW, weeks=20)
    assert overview.total.decided == 10  # income 5, trade 4, the instant answer 1
    assert {r.key for r in overview.by_service} == {INCOME, TRADE, LAND}
    assert [r.key for r in overview.by_district] == ["ntr"]
    assert overview.backlog.total == 6
    assert overview.satisfaction.count == 3
    assert sum(w.count for w in overview.weekly["service"]) == 18  # all of NTR's, submitted within twenty weeks


def officer(role: str, place: str, department_id: str | None = None) -> Officer:
    return Officer(id=1, username="x", display_name="X", role=role, place=place, department_id=department_id)


def test_an_officers_scope_follows_their_jurisdiction() -> None:
    assert scope_of(officer("state_admin", "state")) == Scope()
    assert scope_of(officer("department_admin", "state", "revenue")) == Scope(department_id="revenue")
    assert scope_of(officer("department_admin", "state")) == Scope(department_id="")
    assert scope_of(officer("district_admin", "ntr")) == Scope(district="ntr")
    assert scope_of(officer("tahsildar", "ntr/vijayawada-rural")) == Scope(district="ntr")
    assert scope_of(officer("cmrf_section_officer", "state")) == Scope()
