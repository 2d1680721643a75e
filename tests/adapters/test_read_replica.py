"""The dashboard's lists, analytics and charter read `READ_DATABASE_URL` where it is set; decisions,
the application an officer opens and the audit log stay on the primary.

The "replica" here is a second database holding other applications (a second schema on PostgreSQL,
a second file on SQLite), so every page shows which database it read.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.adapters.sql.stores import insert_application
from sevamitra.adapters.sql.tables import applications
from sevamitra.bootstrap import Platform, build
from sevamitra.core.applications import Status, reference_prefix
from sevamitra.core.messages import Recipient
from sevamitra.settings import Settings
from sevamitra.testing.applications import submitted
from sevamitra.web.auth import auth_routes
from sevamitra.web.charter import charter_routes
from sevamitra.web.dashboard import dashboard_routes

SERVICE = "labour.contract-labour-licence"  # one assistant labour officer reviews it
PASSWORD = "Godavari-delta-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
REFERENCES = re.compile(r'data-reference="([^"]+)"')


@pytest.fixture
def replica_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second migrated database beside `database_url`: another schema, or another SQLite file."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'replica.db'}"
        upgrade(url)
        yield url
        return
    base, _, _ = database_url.partition("?search_path=")
    schema = f"r_{uuid.uuid4().hex[:12]}"

    async def run(statement: str) -> None:
        engine = create_engine(base)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}?search_path={schema}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


def settings_for(database_url: str, tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        env="dev",
        database_url=database_url,
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        **more,
    )


async def submit(platform: Platform, engine: AsyncEngine, number: int, *, decided: bool = False) -> str:
    """A contract labour licence application in Vijayawada Rural, stored in `engine`'s database."""
    service = platform.context.catalogue.service(SERVICE)
    assert service is not None
    now = platform.clock.now() - timedelta(days=2)
    answers: dict[str, Any] = {
        "contractor_name": "Sri Test Constructions",
        "pan": "ABCDE1234F",
        "address": {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": ""},
        "workers": 20,
        "mobile": "9876543210",
    }
    reference = f"{reference_prefix(service)}-{now.year:04d}-{number:06d}"
    application = submitted(service, answers, now, Recipient(wa_id=f"9190000{number:05d}"))
    async with engine.begin() as connection:
        await insert_application(connection, platform.cases.sealer, f"wa:{reference}", application, reference)
        if decided:
            await connection.execute(
                update(applications)
                .where(applications.c.reference == reference)
                .values(status=Status.APPROVED.value, desk=None, clock_at=None, decided_at=now + timedelta(days=1))
            )
    return reference


async def status_in(engine: AsyncEngine, reference: str) -> str | None:
    async with engine.connect() as connection:
        found = await connection.scalar(select(applications.c.status).where(applications.c.reference == reference))
    return None if found is None else str(found)


async def signed_in(platform: Platform, now: datetime) -> tuple[httpx.AsyncClient, str]:
    """An assistant labour officer of Vijayawada Rural past both factors, and their CSRF token."""
    _, secret = await platform.access.create_officer(
        username="alo.vjw",
        display_name="Officer alo.vjw",
        role="assistant_labour_officer",
        place="ntr/vijayawada-rural",
        department_id=None,
        password=PASSWORD,
    )
    app = Starlette(
        routes=[
            *auth_routes(platform.access),
            *dashboard_routes(platform, platform.access),
            *charter_routes(platform),
        ]
    )
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=20)
    login = await http.post("/dashboard/login", data={"username": "alo.vjw", "password": PASSWORD})
    assert login.headers["location"] == "/dashboard/totp"
    form = CSRF_FIELD.search((await http.get("/dashboard/totp")).text)
    assert form is not None
    entered = await http.post("/dashboard/totp", data={"csrf": form.group(1), "code": totp_code(secret, now)})
    assert entered.headers["location"] == "/dashboard"
    inbox = CSRF_FIELD.search((await http.get("/dashboard")).text)
    assert inbox is not None
    return http, inbox.group(1)


@pytest.fixture
async def replicated(database_url: str, replica_url: str, tmp_path: Path) -> AsyncIterator[Platform]:
    platform = build(settings_for(database_url, tmp_path, read_database_url=replica_url))
    await platform.start()
    try:
        yield platform
    finally:
        await platform.aclose()


async def test_the_dashboard_reads_the_replica_and_decides_on_the_primary(replicated: Platform) -> None:
    platform = replicated
    primary, replica = platform.cases.engine, platform.reads
    assert replica is platform.read_engine and replica is not primary
    on_primary = await submit(platform, primary, 1)
    on_replica = {await submit(platform, replica, n) for n in (101, 102)}
    await submit(platform, replica, 103, decided=True)  # the one decision the analytics and charter count
    http, csrf = await signed_in(platform, platform.clock.now())
    try:
        inbox = await http.get("/dashboard", params={"status": "all"})
        assert inbox.status_code == 200
        assert set(REFERENCES.findall(inbox.text)) == on_replica  # not the primary's (a decided one has no desk)

        exported = await http.get("/dashboard/analytics.csv")
        assert exported.status_code == 200
        assert f"decided,service,{SERVICE},".encode() in exported.content  # the replica's decision
        assert "backlog,age_days," in exported.text

        charter = (await http.get("/charter.json")).json()
        licence = next(s for s in charter["services"] if s["id"] == SERVICE)
        assert licence["decided"] == 1  # the replica's one decision; the primary has none

        # opening an application and deciding it read and write the primary, and the audit log is there
        opened = await http.get(f"/dashboard/applications/{on_primary}")
        assert opened.status_code == 200
        rejected = await http.post(
            f"/dashboard/applications/{on_primary}/reject",
            data={"csrf": csrf, "reason": "not_eligible", "message": "More than the licensed workers"},
        )
        assert rejected.status_code == 303
        assert await status_in(primary, on_primary) == Status.REJECTED.value
        assert await status_in(replica, on_primary) is None  # nothing written to the replica
        actions = [row.action for row in await platform.access.audit.for_reference(on_primary)]
        assert "view" in actions and "reject" in actions
        assert await status_in(replica, sorted(on_replica)[0]) == Status.SUBMITTED.value
    finally:
        await http.aclose()


async def test_without_a_replica_the_dashboard_reads_the_primary(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'only.db'}"
    await asyncio.to_thread(upgrade, url)  # it runs its own event loop
    platform = build(settings_for(url, tmp_path))
    try:
        assert platform.read_engine is None and platform.reads is platform.cases.engine
        await platform.start()
        reference = await submit(platform, platform.cases.engine, 7)
        http, _ = await signed_in(platform, platform.clock.now())
        try:
            inbox = await http.get("/dashboard")
            assert set(REFERENCES.findall(inbox.text)) == {reference}
        finally:
            await http.aclose()
    finally:
        await platform.aclose()


async def test_the_replica_engine_is_disposed_with_the_platform(tmp_path: Path) -> None:
    primary, replica = (f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("p.db", "r.db"))
    platform = build(settings_for(primary, tmp_path, read_database_url=replica))
    read_engine = platform.read_engine
    assert read_engine is not None
    closed: list[object] = []
    event.listen(read_engine.sync_engine.pool, "close", lambda connection, _: closed.append(connection))
    async with read_engine.connect() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1
    assert closed == []  # back in the pool
    await platform.aclose()
    assert len(closed) == 1  # disposed with the platform: its pooled connection closed
