"""`sevamitra seed applications`: synthetic applications as the platform would have stored them,
on SQLite and (with SEVAMITRA_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.stores import SqlApplications
from sevamitra.adapters.sql.tables import application_events, applications, ratings, reference_counters
from sevamitra.bootstrap import build_context, migrate
from sevamitra.cli.seed import SeedRefused, seed_applications
from sevamitra.core.applications import REFERENCE_PATTERN, Status, reference_prefix
from sevamitra.core.officers import within
from sevamitra.core.roles import ADMIN_ROLES, ROLES, level_of
from sevamitra.core.workflow import OPEN, QUEUE, STATE, Case, Desk, applicant_place, desk_for
from sevamitra.settings import Settings

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
COUNT = 500
OPEN_STATUSES = {s.value for s in OPEN}


def settings_for(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )


async def rows_of(database_url: str) -> tuple[list[Any], list[Any], int, dict[tuple[str, int], int]]:
    """Applications, events, the number of ratings and the counters, as stored."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = (await connection.execute(select(applications).order_by(applications.c.id))).all()
            events = (await connection.execute(select(application_events))).all()
            rated = int(await connection.scalar(select(func.count()).select_from(ratings)) or 0)
            counters = {(r.prefix, r.year): r.last for r in await connection.execute(select(reference_counters))}
    finally:
        await engine.dispose()
    return found, events, rated, counters


async def next_reference(database_url: str, sealer: AesGcmSealer, prefix: str, year: int) -> str:
    """The next reference number the platform itself gives (`SqlApplications.reserve`)."""
    engine = create_engine(database_url)
    try:
        return await SqlApplications(engine, sealer).reserve(prefix, year)
    finally:
        await engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A migrated database (SQLite in a temp dir; PostgreSQL in its own schema) and its settings."""
    return settings_for(database_url, tmp_path)


def test_the_mix_routing_numbers_and_history_are_what_the_platform_would_have_stored(
    settings: Settings,
) -> None:
    report = seed_applications(settings, COUNT, now=NOW, echo=lambda _: None)
    found, events, rated, counters = asyncio.run(rows_of(settings.database_url))
    assert report.applications == len(found) == COUNT

    statuses = Counter(r.status for r in found)
    share = {
        "open": sum(statuses[s] for s in OPEN_STATUSES) / COUNT,
        "returned": statuses["returned"] / COUNT,
        "approved": (statuses["approved"] + statuses["issued"]) / COUNT,
        "rejected": statuses["rejected"] / COUNT,
    }
    assert 0.18 <= share["open"] <= 0.32, share
    assert 0.02 <= share["returned"] <= 0.09, share
    assert 0.52 <= share["approved"] <= 0.68, share
    assert 0.05 <= share["rejected"] <= 0.15, share
    assert set(statuses) <= {s.value for s in Status}

    references = [r.reference for r in found]
    assert len(set(references)) == COUNT
    context = build_context(settings)
    for r in found:
        assert REFERENCE_PATTERN.match(r.reference), r.reference
        service = context.catalogue.service(r.service_id)
        assert service is not None and service.delivery.kind == "reviewed"
        assert r.reference.startswith(f"{reference_prefix(service)}-{r.submitted_at.year}-")
        assert NOW.replace(year=NOW.year - 1) < r.submitted_at <= r.updated_at <= NOW
        assert (r.decided_at is not None) == (r.status in ("approved", "issued", "rejected"))
        if r.decided_at is not None:
            assert r.submitted_at <= r.decided_at <= NOW and r.clock_at is None
    assert Counter(r.district for r in found).most_common(1)[0][0] in ("ntr", "guntur", "visakhapatnam")
    assert len({r.district for r in found}) >= 20

    sealer = AesGcmSealer.from_secret(settings.data_key.get_secret_value())
    overdue = 0
    for r in (r for r in found if r.status in OPEN_STATUSES):
        answers = json.loads(sealer.open(r.answers))
        assert not re.search(r"\d{12}", json.dumps(answers)), "no real-looking Aadhaar numbers"
        case = Case.from_dict(r.workflow)
        desk = Desk.parse(r.desk)
        assert case.desk == r.desk and case.step_due_at == r.step_due_at
        assert desk.role in ROLES | ADMIN_ROLES | {QUEUE}
        place = applicant_place(answers)
        assert place.district == r.district
        if desk.role == QUEUE:
            assert desk.place == r.district  # the district's queue: the form's place is not in the registry
        elif level_of(desk.role) == "state":
            assert desk.place == STATE
        else:
            assert within(desk.place, r.district), (r.desk, r.district)
            assert desk_for(desk.role, place).key == r.desk  # the desk the platform routes that role to
        service = context.catalogue.service(r.service_id)
        assert service is not None
        if r.step_due_at < NOW:  # only a supervisor holds an overdue case: the clock moves the others on
            overdue += 1
            assert case.step == len(service.delivery.approvers), r.desk
            assert r.clock_at is None
        else:
            assert r.clock_at is not None and NOW < r.clock_at <= r.step_due_at
    open_count = sum(statuses[s] for s in OPEN_STATUSES)
    assert 0 < overdue < open_count  # some past their step's time, some not

    submitted = Counter(e.reference for e in events if e.kind == "submitted")
    assert set(submitted) == set(references) and set(submitted.values()) == {1}
    decided = sum(1 for r in found if r.decided_at is not None)
    assert 0.2 * decided <= rated <= 0.4 * decided

    # The platform's own numbering carries on after the seeded numbers.
    seeded: dict[tuple[str, int], int] = {}
    for reference in references:
        prefix, year, number = reference[:-12], int(reference[-11:-7]), int(reference[-6:])
        seeded[(prefix, year)] = max(seeded.get((prefix, year), 0), number)
    assert counters == seeded
    (prefix, year), last = max(seeded.items(), key=lambda item: item[1])
    assert asyncio.run(next_reference(settings.database_url, sealer, prefix, year)) == f"{prefix}-{year}-{last + 1:06d}"


def test_a_seeded_database_is_not_seeded_again_without_force(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}", tmp_path)
    migrate(settings)
    seed_applications(settings, 50, now=NOW, echo=lambda _: None)
    with pytest.raises(SeedRefused, match="already holds 50"):
        seed_applications(settings, 50, now=NOW, echo=lambda _: None)
    more = seed_applications(settings, 50, now=NOW, force=True, seed=2, echo=lambda _: None)
    assert (more.before, more.applications) == (50, 50)


def test_worker_processes_store_the_same_applications_as_one_process(tmp_path: Path) -> None:
    stored = []
    for workers in (1, 2):
        folder = tmp_path / f"workers-{workers}"
        settings = settings_for(f"sqlite+aiosqlite:///{folder / 'seed.db'}", folder)
        migrate(settings)
        lines: list[str] = []
        seed_applications(settings, 300, now=NOW, workers=workers, batch=60, echo=lines.append)
        assert "5 batches of up to 60" in lines[0] and f"{workers} process" in lines[0]
        found, _, _, _ = asyncio.run(rows_of(settings.database_url))
        stored.append(sorted((r.service_id, r.status, r.desk, r.submitted_at, r.district) for r in found))
    assert stored[0] == stored[1]
