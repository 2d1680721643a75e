"""`sevamitra bench dashboard`: how fast the officers' dashboard answers with a million applications
in PostgreSQL. Goal: the first page (the inbox) in under 300 ms at the 99th percentile.

1. A private schema on `database_url` (made and migrated here, dropped at the end unless `keep`;
   with `schema` named and already holding `count` applications, used as it is, unseeded), and
   `count` applications seeded into it by `sevamitra seed applications` (its rate printed).
2. Three officers, made through the platform's own accounts: a Tahsildar of a mandal of NTR, the
   district administrator of NTR, and the state administrator.
3. The platform's web app under uvicorn in its own process on a loopback port, the worker off;
   each officer signs in over real HTTP (password, then the TOTP code) with httpx.
4. For each officer, one request at a time on a keep-alive connection: `GET /dashboard` (the
   inbox's first page: open cases, soonest due first), `/dashboard/analytics` and
   `/charter.json`: the first request, a few warm-up requests, then `requests` timed ones, each
   from sending the request to the last byte of a 200. The app keeps analytics and the charter a
   minute, so their first request is printed apart and their computation is also timed directly,
   without the app's cache.
5. EXPLAIN ANALYZE of the inbox's statements, exactly as `SqlCases.inbox` sends them.

Every figure printed is measured in this run, on this machine, with the client, the server and
PostgreSQL sharing its CPUs.

Run the server alone with `python -m sevamitra.cli.bench_dashboard serve --port N` (settings from
the environment, as `sevamitra serve`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform as host
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.analytics import CHARTER_WINDOW, Scope, SqlAnalytics
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.seeding import (
    Explained,
    SqlSeeder,
    create_schema,
    database_facts,
    drop_schema,
    explain_inbox,
    schema_url,
)
from sevamitra.bootstrap import Platform, build, migrate
from sevamitra.bootstrap.officials_auth import build_officer_access, officer_access
from sevamitra.cli.bench import BenchFailed, _running
from sevamitra.cli.seed import SeedReport, seed_applications
from sevamitra.core.officers import Officer
from sevamitra.core.ports import InboxFilter
from sevamitra.core.workflow import OPEN
from sevamitra.settings import Settings
from sevamitra.web.app import create_app
from sevamitra.web.auth import auth_routes
from sevamitra.web.charter import charter_routes
from sevamitra.web.dashboard import dashboard_routes
from sevamitra.web.templating import Templates

GOAL_MS = 300.0  # the inbox's first page, at the 99th percentile
WARMUP = 5  # untimed requests per officer and page, after the first
PAGE_SIZE = 50  # the inbox's page, as web.dashboard shows it
FIRST_PAGE = InboxFilter(statuses=tuple(sorted(OPEN)), limit=PAGE_SIZE)  # what `GET /dashboard` asks for
DIRECT_RUNS = 3  # uncached computations of analytics and the charter, timed through the adapter
HOST = "127.0.0.1"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    key: str
    label: str
    role: str
    place: str


ROLES = (
    Role(key="tahsildar", label="Tahsildar, NTR / Vijayawada Rural", role="tahsildar", place="ntr/vijayawada-rural"),
    Role(key="district_admin", label="District administrator, NTR", role="district_admin", place="ntr"),
    Role(key="state_admin", label="State administrator", role="state_admin", place="state"),
)
PAGES = (
    ("inbox", "/dashboard"),
    ("analytics", "/dashboard/analytics"),
    ("charter", "/charter.json"),
)


@dataclass
class SignedIn:
    role: Role
    officer: Officer
    http: httpx.Client


@dataclass
class Timings:
    first_ms: float
    samples_ms: list[float] = field(default_factory=list)
    size: int = 0  # bytes of the last answer

    def percentile(self, fraction: float) -> float:
        """The nearest-rank percentile."""
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


# --- the server --------------------------------------------------------------------------


def serve(settings: Settings, host_name: str, port: int) -> None:
    """The platform's web app with the dashboard and the charter, worker off, under uvicorn.

    `web.app.create_app` when it mounts `/dashboard`; otherwise the sign-in, dashboard and charter
    routes on the platform, composed as the dashboard's end-to-end tests compose them.
    """
    import uvicorn

    platform = build(settings)
    app = create_app(platform, run_worker=False)
    paths = {getattr(route, "path", None) for route in app.routes}
    if not {"/dashboard", "/charter.json"} <= paths:
        app = _composed(platform)
    uvicorn.run(app, host=host_name, port=port, log_level="warning", access_log=False)


def _composed(platform: Platform) -> Starlette:
    """The sign-in, dashboard and charter routes on the platform, and `/health` saying so."""
    access = build_officer_access(platform.cases.engine, platform.cases.sealer, platform.clock)
    templates = Templates(platform.context.texts)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "app": "composed"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.aclose()

    return Starlette(
        routes=[
            Route("/health", health),
            *auth_routes(access, templates),
            *dashboard_routes(platform, access, templates=templates),
            *charter_routes(platform, templates=templates),
        ],
        lifespan=lifespan,
    )


def _server_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SEVAMITRA_ENV": "dev",
            "SEVAMITRA_DATABASE_URL": settings.database_url,
            "SEVAMITRA_DATA_KEY": settings.data_key.get_secret_value(),
            "SEVAMITRA_KEYS_DIR": str(settings.keys_dir),
            "SEVAMITRA_LOG_DIR": str(settings.log_dir),
            "SEVAMITRA_CACHE_DIR": str(settings.cache_dir),
            "SEVAMITRA_EMULATOR_ENABLED": "false",
            "SEVAMITRA_GRAPH_API_URL": "http://127.0.0.1:9",  # never called: the worker is off
        }
    )
    return env


# --- officers ------------------------------------------------------------------------------


async def _make_officers(settings: Settings, password: str) -> list[tuple[Role, Officer, str]]:
    """The three officers, under fresh usernames (a kept schema keeps earlier runs' officers)."""
    suffix = secrets.token_hex(3)
    made = []
    async with officer_access(settings) as access:
        for role in ROLES:
            officer, secret = await access.create_officer(
                username=f"bench-{role.key.replace('_', '-')}-{suffix}",
                display_name=role.label,
                role=role.role,
                place=role.place,
                department_id=None,
                password=password,
            )
            made.append((role, officer, secret))
    return made


def _sign_in(base: str, role: Role, officer: Officer, secret: str, password: str) -> SignedIn:
    """Password, then the TOTP code, over HTTP, as a browser would."""
    client = httpx.Client(base_url=base, timeout=60.0)
    login = client.post("/dashboard/login", data={"username": officer.username, "password": password})
    if login.status_code != 303 or login.headers.get("location") != "/dashboard/totp":
        raise BenchFailed(f"{officer.username}: sign-in answered {login.status_code}")
    page = client.get("/dashboard/totp")
    found = CSRF_FIELD.search(page.text)
    if found is None:
        raise BenchFailed(f"{officer.username}: the code page has no CSRF token ({page.status_code})")
    code = totp_code(secret, datetime.now(UTC))
    entered = client.post("/dashboard/totp", data={"csrf": found.group(1), "code": code})
    if entered.status_code != 303 or entered.headers.get("location") != "/dashboard":
        raise BenchFailed(f"{officer.username}: the TOTP code answered {entered.status_code}")
    return SignedIn(role=role, officer=officer, http=client)


# --- measuring -----------------------------------------------------------------------------


def _get_ms(client: httpx.Client, path: str) -> tuple[float, int]:
    began = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise BenchFailed(f"GET {path} answered {response.status_code}")
    return elapsed, len(response.content)


def _measure(who: SignedIn, path: str, requests: int) -> Timings:
    first, size = _get_ms(who.http, path)
    for _ in range(WARMUP):
        _get_ms(who.http, path)
    timings = Timings(first_ms=first)
    for _ in range(requests):
        elapsed, size = _get_ms(who.http, path)
        timings.samples_ms.append(elapsed)
    timings.size = size
    return timings


async def _explain(
    settings: Settings, officers: Sequence[tuple[Role, Officer]]
) -> dict[str, tuple[int, list[Explained]]]:
    engine = create_engine(settings.database_url)
    sealer = AesGcmSealer.from_secret(settings.data_key.get_secret_value())
    try:
        return {role.key: await explain_inbox(engine, sealer, officer, FIRST_PAGE) for role, officer in officers}
    finally:
        await engine.dispose()


async def _direct(settings: Settings) -> dict[str, list[float]]:
    """Analytics per scope and the charter's query, computed through the adapter without any cache (ms)."""
    engine = create_engine(settings.database_url)
    analytics = SqlAnalytics(engine)
    found: dict[str, list[float]] = {"analytics_state": [], "analytics_ntr": [], "charter": []}
    try:
        for _ in range(DIRECT_RUNS):
            now = datetime.now(UTC)
            for key, scope in (("analytics_state", Scope()), ("analytics_ntr", Scope(district="ntr"))):
                began = time.perf_counter()
                await analytics.overview(scope, now)
                found[key].append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await analytics.charter(now - CHARTER_WINDOW)
            found["charter"].append((time.perf_counter() - began) * 1000)
    finally:
        await engine.dispose()
    return found


async def _count(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        return await SqlSeeder(engine, AesGcmSealer.from_secret(settings.data_key.get_secret_value())).count()
    finally:
        await engine.dispose()


async def _facts(settings: Settings) -> tuple[str, int, int, int, int]:
    engine = create_engine(settings.database_url)
    try:
        facts = await database_facts(engine)
    finally:
        await engine.dispose()
    return facts.version, facts.applications, facts.table_bytes, facts.index_bytes, facts.events_bytes


# --- the benchmark -------------------------------------------------------------------------


def dashboard(
    count: int = 1_000_000,
    *,
    database_url: str,
    requests: int = 200,
    schema: str | None = None,
    keep: bool = False,
    echo: Callable[[str], None] = print,
) -> dict[str, float]:
    """Seed, serve, sign in, time; print the figures and return them by name (milliseconds unless named)."""
    if database_url.partition(":")[0].startswith("sqlite"):
        raise SystemExit("sevamitra bench dashboard: needs PostgreSQL (--database-url postgresql://...)")
    if count < 1 or requests < 1:
        raise SystemExit("sevamitra bench dashboard: count and requests must be at least 1")
    name = schema or f"bench_dashboard_{secrets.token_hex(4)}"
    made = asyncio.run(create_schema(database_url, name))
    figures: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="sevamitra-bench-dashboard-") as tmp:
            workdir = Path(tmp)
            settings = Settings(
                env="dev",
                database_url=schema_url(database_url, name),
                cache_dir=workdir / "cache",
                keys_dir=workdir / "keys",
                log_dir=workdir / "tlog",
                emulator_enabled=False,
            )
            _run(settings, workdir, count, requests, name, made, figures, echo)
    finally:
        if keep:
            echo(f"kept the schema {name} (reuse it with --schema {name} --keep)")
        else:
            asyncio.run(drop_schema(database_url, name))
    return figures


def _run(
    settings: Settings,
    workdir: Path,
    count: int,
    requests: int,
    name: str,
    made: bool,
    figures: dict[str, float],
    echo: Callable[[str], None],
) -> None:
    migrate(settings)
    existing = asyncio.run(_count(settings))
    seeded: SeedReport | None = None
    echo(f"sevamitra bench dashboard: {count:,} applications in PostgreSQL, schema {name}")
    if existing >= count:
        echo(f"reusing the schema {name}: it holds {existing:,} applications already (none seeded now)")
    else:
        if not made:
            echo(f"the schema {name} holds {existing:,} applications: seeding {count - existing:,} more")
        seeded = seed_applications(settings, count - existing, force=existing > 0, echo=echo)
        figures["seed_applications_per_second"] = seeded.per_second
        figures["seed_seconds"] = seeded.seconds
    password = f"Bench-{secrets.token_urlsafe(12)}-7"
    officers = asyncio.run(_make_officers(settings, password))
    results: dict[str, dict[str, Timings]] = {}
    argv = [sys.executable, "-m", "sevamitra.cli.bench_dashboard", "serve"]
    with _running("dashboard", argv, _server_env(settings), HOST, workdir, "/health") as target:
        base = f"http://{HOST}:{target.port}"
        app = "the platform app (web.app.create_app)"
        if httpx.get(f"{base}/health").json().get("app") == "composed":
            app = "sign-in, dashboard and charter routes on the platform, composed as the dashboard's e2e tests do"
        signed = [_sign_in(base, role, officer, secret, password) for role, officer, secret in officers]
        try:
            for page, path in PAGES:
                results[page] = {who.role.key: _measure(who, path, requests) for who in signed}
        finally:
            for who in signed:
                who.http.close()
    explained = asyncio.run(_explain(settings, [(role, officer) for role, officer, _ in officers]))
    direct = asyncio.run(_direct(settings))
    version, rows, table_bytes, index_bytes, events_bytes = asyncio.run(_facts(settings))
    _report(
        echo,
        figures,
        results,
        explained,
        direct,
        seeded,
        app,
        requests,
        version,
        rows,
        table_bytes,
        index_bytes,
        events_bytes,
    )


def _report(
    echo: Callable[[str], None],
    figures: dict[str, float],
    results: dict[str, dict[str, Timings]],
    explained: dict[str, tuple[int, list[Explained]]],
    direct: dict[str, list[float]],
    seeded: SeedReport | None,
    app: str,
    requests: int,
    version: str,
    rows: int,
    table_bytes: int,
    index_bytes: int,
    events_bytes: int,
) -> None:
    mb = 1024 * 1024
    labels = {role.key: role.label for role in ROLES}
    lines = [
        "",
        f"database: PostgreSQL {version}; applications {rows:,} rows, table {table_bytes / mb:,.0f} MB, "
        f"its indexes {index_bytes / mb:,.0f} MB; application_events {events_bytes / mb:,.0f} MB",
    ]
    if seeded is not None:
        lines.append(
            f"seeded now: {seeded.applications:,} applications in {seeded.seconds:.1f} s "
            f"({seeded.per_second:,.0f} applications/s), then {seeded.tidy} in {seeded.tidy_seconds:.1f} s"
        )
    lines += [
        f"server: uvicorn in its own process, one worker, the platform's worker off; {app}",
        f"client: httpx, one request at a time per officer on a keep-alive connection; per page and officer "
        f"the first request, {WARMUP} warm-up, then {requests} timed (send to the last byte of a 200)",
    ]
    header = f"  {'officer':<36}{'first':>9}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}{'bytes':>10}"
    for page, path in PAGES:
        lines += ["", f"GET {path}" + _page_note(page), header]
        for key, timings in results[page].items():
            p50, p90, p99 = timings.percentile(0.50), timings.percentile(0.90), timings.percentile(0.99)
            worst = max(timings.samples_ms)
            verdict = ""
            if page == "inbox":
                verdict = f"   {'MET' if p99 < GOAL_MS else 'NOT MET'} (p99 < {GOAL_MS:.0f} ms)"
                total = explained[key][0]
                verdict += f"; {total:,} open cases"
            lines.append(
                f"  {labels[key]:<36}{timings.first_ms:>9.1f}{p50:>9.1f}{p90:>9.1f}{p99:>9.1f}{worst:>9.1f}"
                f"{timings.size:>10,}{verdict}"
            )
            for name, value in (("first", timings.first_ms), ("p50", p50), ("p90", p90), ("p99", p99), ("max", worst)):
                figures[f"{page}.{key}.{name}_ms"] = value
        lines.append("  (milliseconds)")
    lines += ["", "EXPLAIN (ANALYZE, BUFFERS) of the inbox's first page, the statements as SqlCases.inbox sends them:"]
    for key, (_, statements) in explained.items():
        for found in statements:
            lines.append(
                f"  {labels[key]:<36}{found.statement:<6} planning {found.planning_ms:7.2f} ms  execution "
                f"{found.execution_ms:8.2f} ms  {found.rows:>6,} rows  {found.plan}"
            )
            figures[f"explain.{key}.{found.statement}.planning_ms"] = found.planning_ms
            figures[f"explain.{key}.{found.statement}.execution_ms"] = found.execution_ms
    lines += [
        "",
        f"computed directly, without the app's one-minute cache (SqlAnalytics, {DIRECT_RUNS} runs each, median):",
    ]
    for key, label in (
        ("analytics_state", "analytics page figures, whole state"),
        ("analytics_ntr", "analytics page figures, district NTR"),
        ("charter", "charter figures (90 days, per service and district)"),
    ):
        median = statistics.median(direct[key])
        figures[f"direct.{key}_ms"] = median
        lines.append(f"  {label:<54}{median:9.1f} ms  (runs: {', '.join(f'{t:.0f}' for t in direct[key])})")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines += [
        "",
        f"machine: {os.cpu_count()} CPUs ({usable} usable), {host.python_implementation()} {host.python_version()}, "
        f"{host.platform()}; client, server and PostgreSQL on the same machine",
    ]
    echo("\n".join(lines))


def _page_note(page: str) -> str:
    if page == "inbox":
        return f"  (the first page: open cases, soonest due first, {PAGE_SIZE} a page)   goal: p99 < {GOAL_MS:.0f} ms"
    if page == "analytics":
        return (
            "  (the app keeps each scope's figures a minute; a scope's first request computes them: the\n"
            "   Tahsildar's and the district administrator's scope are both NTR, so the latter's first is kept)"
        )
    return "  (public, the same for everyone; the app keeps it a minute: only the very first request computes it)"


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m sevamitra.cli.bench_dashboard serve --port N`: the server the benchmark times."""
    parser = argparse.ArgumentParser(prog="python -m sevamitra.cli.bench_dashboard")
    parser.add_argument("what", choices=["serve"])
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    serve(Settings(), args.host, args.port)


if __name__ == "__main__":
    main()
