"""Crash soak: the platform under load from many citizens while its processes are killed, its database
restarted and the Graph API fails; afterwards, nothing may be lost, broken or sent twice beyond what
was in flight at a kill.

All parts are real and separate processes: `sevamitra serve --no-worker` (behind a TCP balancer, as
behind a load balancer), `sevamitra worker`, and the emulator as Meta's side (`sevamitra emulator`'s
app with its webhook deliveries bounded, `testing.emulator_process`). Citizens (`testing.crowd`)
send through the emulator, which signs each webhook and redelivers every delivery not answered 200;
the platform's replies go to the emulator's Graph API, where `/_control/faults` injects failures
(429, 5xx, dropped connections, no answer, and with `token_refused` once a refused access token).
Meanwhile, at seeded random moments, a web process or a worker (or, with `kill_workers_together`,
every worker) gets SIGKILL and is started again after a short downtime; with `restart_database`, the
local PostgreSQL is restarted once, and the time until the platform works again is measured. Then
the run waits for the queues to empty and `testing.crash_checks` judges it.

A killed sender's claimed outbox rows stay `sending` until their lease (60 s) runs out, then go
again. The rows `sending` right after each kill (and once the database is back) are noted: only they
may reach a citizen twice. With `kill_workers_together` (the short run in `make test`), every worker
is dead when they are noted, so their leases are ended at once instead of waited out.

`python -m sevamitra.testing.soak` runs the long version (`make soak`); `tests/e2e/test_crash.py` a
short one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.adapters.sql.seeding import create_schema, drop_schema, schema_url
from sevamitra.adapters.sql.tables import inbox, outbox
from sevamitra.testing.balancer import Balancer
from sevamitra.testing.crash_checks import Verdict, verify
from sevamitra.testing.crowd import NOTICE, WALK, Crowd
from sevamitra.testing.fleet import CLI, EMULATOR, Fleet, Slot

Echo = Callable[[str], None]
HOST = "127.0.0.1"
# Graph API faults (`/_control/faults`) by name, with how often each is drawn: Meta busy (429), failing
# (5xx), the connection dropped before the answer (reset), no answer at all (timeout: held until the
# platform gives up waiting). None of them sends the message; all are retried.
FAULTS: dict[str, tuple[dict[str, object], int]] = {
    "429": ({"status": 429}, 3),
    "500": ({"status": 500}, 3),
    "503": ({"status": 503}, 3),
    "reset": ({"kind": "reset"}, 2),
    "timeout": ({"kind": "timeout", "seconds": 120}, 1),
}
TOKEN_REFUSED: dict[str, object] = {
    "status": 401,
    "code": 190,
}  # the access token refused: the number pauses until a probe passes
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    database_url: str  # PostgreSQL or SQLite; with `fresh`, a new schema (or file) is made from it
    fresh: bool = True
    citizens: int = 2000
    spread: float = 900.0  # seconds over which the citizens start
    gap: float = 3.0  # seconds between a citizen's messages
    webs: int = 2
    workers: int = 2
    kills: int = 20
    downtime: tuple[float, float] = (0.5, 3.0)  # seconds a killed process stays down
    kill_workers_together: bool = False
    faults_every: float = 3.0  # seconds between bursts of Graph API faults; 0: none
    fault_burst: int = 4  # the most faults in a burst
    token_refused: bool = False  # once, mid-load: Meta refuses the access token (190)
    graph_api_timeout: float = 10.0  # SEVAMITRA_GRAPH_API_TIMEOUT_SECONDS: how long a timeout fault holds a send
    pause_probe: float = 20.0  # SEVAMITRA_SEND_PAUSE_PROBE_SECONDS: how soon a paused number is tried again
    restart_database: bool = False  # PostgreSQL only: restart the server once, mid-load
    restart_command: tuple[str, ...] = ()  # default: pg_ctlcluster for the server's cluster
    settle_timeout: float = 600.0
    seed: int | None = None
    workdir: Path | None = None  # logs; default a temporary directory, removed afterwards


@dataclass(frozen=True, slots=True)
class Kill:
    at: float  # seconds since the load began
    targets: tuple[str, ...]
    in_flight: int  # outbox rows `sending` right after it
    downtime: float


@dataclass(frozen=True, slots=True)
class Restart:
    at: float  # seconds since the load began
    command: str
    outage: float  # the command began → PostgreSQL accepted a connection again
    turn_after: float | None  # → the first turn committed by a worker after that
    reply_after: float | None  # → the first reply the Graph API took after that
    in_flight: int


@dataclass
class Report:
    plan: Plan
    seed: int
    database: str
    started: datetime
    load_seconds: float = 0.0
    settle_seconds: float = 0.0
    settled: bool = False
    kills: list[Kill] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    faults_left: int = 0  # injected but never taken by a send
    restart: Restart | None = None
    unexpected_exits: dict[str, int] = field(default_factory=dict)
    balancer_refused: int = 0
    verdict: Verdict | None = None
    in_flight_rows: list[frozenset[int]] = field(default_factory=list, repr=False)  # ids, at each kill and restart
    database_back_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.settled and self.verdict is not None and self.verdict.ok

    @property
    def killed(self) -> Counter[str]:
        return Counter(target.split("-")[0] for kill in self.kills for target in kill.targets)


class SoakFailed(Exception):
    """The run could not be set up or driven (not a finding about the platform)."""


# ------------------------------------------------------------------ the run


async def run_soak(plan: Plan, *, say: bool = True) -> Report:
    """Drive, disturb and check the platform as `plan` says; prints what happens when `say`."""
    if plan.restart_database and plan.database_url.startswith("sqlite"):
        raise SoakFailed("--restart-database restarts a PostgreSQL server: not for SQLite")
    seed = plan.seed if plan.seed is not None else secrets.randbelow(2**31)
    echo = _say if say else _silent
    workdir = plan.workdir or Path(tempfile.mkdtemp(prefix="sevamitra-soak-"))
    passed = failed = False  # a run that fails keeps its logs and its schema, to be looked into
    try:
        async with _database(plan, workdir, keep=lambda: failed) as url:
            report = Report(plan=plan, seed=seed, database=_kind(url), started=datetime.now(UTC))
            echo(f"soak: seed {seed}; {_describe(plan)}; logs in {workdir}")
            await _run(plan, url, workdir, report, echo)
            passed, failed = report.ok, not report.ok
            if failed:
                echo(f"kept for a look: the logs in {workdir}, the database {url}")
            return report
    finally:
        if passed and plan.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


async def _run(plan: Plan, url: str, workdir: Path, report: Report, echo: Echo) -> None:
    data_key = "soak-" + secrets.token_hex(16)
    emulator_port, web_ports = _free_port(), [_free_port() for _ in range(plan.webs)]
    balancer = Balancer(HOST, web_ports)
    webhook = f"http://{HOST}:{await balancer.start()}/webhooks/whatsapp"
    emulator_url = f"http://{HOST}:{emulator_port}"
    env = _env(url, emulator_url, webhook, data_key, workdir) | {
        "SEVAMITRA_GRAPH_API_TIMEOUT_SECONDS": str(plan.graph_api_timeout),
        "SEVAMITRA_SEND_PAUSE_PROBE_SECONDS": str(plan.pause_probe),
    }
    fleet = Fleet(env, workdir / "logs")
    emulator = [*EMULATOR, "--host", HOST, "--port", str(emulator_port), "--webhook-url", webhook]
    fleet.add("emulator", "emulator", emulator, emulator_port)
    for n, port in enumerate(web_ports):
        fleet.add(f"serve-{n}", "serve", [*CLI, "serve", "--no-worker", "--host", HOST, "--port", str(port)], port)
    for n in range(plan.workers):
        fleet.add(f"worker-{n}", "worker", [*CLI, "worker"])
    engine = create_engine(url)
    supervisor: asyncio.Task[None] | None = None
    try:
        for slot in fleet.slots:
            fleet.start(slot)
        await asyncio.gather(*(_answering(fleet, slot) for slot in fleet.slots if slot.port))
        supervisor = asyncio.create_task(fleet.supervise())
        crowd = Crowd(emulator_url, plan.citizens, spread=plan.spread, gap=plan.gap)
        began = time.monotonic()
        load = asyncio.create_task(crowd.run())
        chaos = [
            asyncio.create_task(_kill_now_and_then(plan, fleet, engine, crowd.seconds, began, report, echo)),
            asyncio.create_task(_faults_now_and_then(plan, emulator_url, load, crowd.seconds, report)),
        ]
        if plan.restart_database:
            chaos.append(
                asyncio.create_task(_restart_later(plan, url, engine, crowd.seconds * 0.45, began, report, echo))
            )
        load.add_done_callback(lambda _: setattr(report, "load_seconds", time.monotonic() - began))
        try:
            await asyncio.wait([load, *chaos], return_when=asyncio.FIRST_EXCEPTION)
            for task in (load, *chaos):
                if task.done() and (error := task.exception()) is not None:
                    raise error
            echo(f"load done: {crowd.sent:,} messages in {report.load_seconds:.1f} s; waiting for the queues to empty")
        finally:
            for task in (load, *chaos):
                task.cancel()
            await asyncio.gather(load, *chaos, return_exceptions=True)
        report.faults_left = await _pending_faults(emulator_url)
        settling = time.monotonic()
        report.settled = await _settled(engine, crowd.sent, plan.settle_timeout, echo)
        report.settle_seconds = time.monotonic() - settling
        in_flight = Counter(row for rows in report.in_flight_rows for row in rows)
        sealer = AesGcmSealer.from_secret(data_key)
        report.verdict = await verify(engine, emulator_url, crowd.citizens, in_flight, sealer)
        if report.restart is not None and report.database_back_at is not None:
            report.restart = await _recovery(engine, report.restart, report.database_back_at)
    finally:
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        await asyncio.to_thread(fleet.stop)
        await balancer.close()
        await engine.dispose()
        report.unexpected_exits = {slot.name: slot.exits for slot in fleet.slots if slot.exits}
        report.balancer_refused = balancer.refused


async def _kill_now_and_then(
    plan: Plan,
    fleet: Fleet,
    engine: AsyncEngine,
    seconds: float,
    began: float,
    report: Report,
    echo: Echo,
) -> None:
    """`plan.kills` kills at random moments of the load, one after another, each restarted."""
    rng = _random(report.seed, "kills")
    moments = sorted(rng.uniform(0.05 * seconds, 0.95 * seconds) for _ in range(plan.kills))
    downtimes = [rng.uniform(*plan.downtime) for _ in range(plan.kills)]
    webs, workers = fleet.of_kind("serve"), fleet.of_kind("worker")
    choices: list[list[Slot]] = [[web] for web in webs]
    choices += [workers] if plan.kill_workers_together else [[worker] for worker in workers]
    order = [choices[n % len(choices)] for n in range(plan.kills)]  # each target in turn, in a random order
    rng.shuffle(order)
    for moment, targets, downtime in zip(moments, order, downtimes, strict=True):
        await asyncio.sleep(max(0.0, began + moment - time.monotonic()))
        at = time.monotonic() - began
        for slot in targets:
            await fleet.kill(slot)
        rows: frozenset[int] = frozenset()
        if any(slot.kind == "worker" for slot in targets):
            rows = await _sending(engine)
            report.in_flight_rows.append(rows)
            if plan.kill_workers_together:  # every sender is dead: what they held may go now
                await _end_leases(engine)
        report.kills.append(Kill(at=at, targets=tuple(s.name for s in targets), in_flight=len(rows), downtime=downtime))
        names = ", ".join(s.name for s in targets)
        echo(f"  {at:6.1f} s  SIGKILL {names} ({len(rows)} replies in flight); back in {downtime:.1f} s")
        await asyncio.sleep(downtime)
        for slot in targets:
            fleet.start(slot)
        await asyncio.gather(*(_answering(fleet, slot) for slot in targets if slot.port))


async def _faults_now_and_then(
    plan: Plan, emulator_url: str, load: asyncio.Task[None], seconds: float, report: Report
) -> None:
    """Bursts of Graph API faults while the load lasts, the next sends failing with them; with
    `token_refused`, the access token refused once, past halfway."""
    if plan.faults_every <= 0:
        return
    rng = _random(report.seed, "faults")
    names, weights = list(FAULTS), [weight for _, weight in FAULTS.values()]
    token_at = time.monotonic() + seconds * 0.6 if plan.token_refused else math.inf
    async with httpx.AsyncClient(timeout=60) as http:
        while not load.done():
            await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.faults_every)
            drawn = rng.choices(names, weights, k=rng.randint(1, plan.fault_burst))
            faults = [FAULTS[name][0] for name in drawn]
            if time.monotonic() >= token_at:
                token_at = math.inf
                drawn, faults = [*drawn, "190"], [*faults, TOKEN_REFUSED]
            response = await http.post(f"{emulator_url}/_control/faults", json={"faults": faults})
            if response.status_code != 200:
                raise SoakFailed(f"the emulator refused faults: {response.text[:200]}")
            report.faults.update(drawn)


def _random(seed: int, purpose: str) -> random.Random:
    """A generator of its own for each kind of disturbance: the kills replay alike whatever the faults do."""
    return random.Random(f"{seed}:{purpose}")  # noqa: S311 (a seeded, repeatable schedule: no secret)


async def _pending_faults(emulator_url: str) -> int:
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(f"{emulator_url}/_control/faults", json={"statuses": []})
    pending: int = response.json().get("pending", 0)
    return pending


async def _restart_later(
    plan: Plan, url: str, engine: AsyncEngine, after: float, began: float, report: Report, echo: Echo
) -> None:
    """Restart PostgreSQL once, `after` seconds into the load; note when it accepts connections again."""
    await asyncio.sleep(max(0.0, began + after - time.monotonic()))
    command = plan.restart_command or await _restart_command(engine)
    at = time.monotonic() - began
    echo(f"  {at:6.1f} s  restarting PostgreSQL: {shlex.join(command)}")
    start = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    probe = create_engine(url, poolclass=NullPool)
    went_down = False
    try:
        while True:
            accepts = await _accepts(probe)
            went_down = went_down or not accepts
            if accepts and (went_down or process.returncode is not None):
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.05)
    finally:
        await probe.dispose()
    outage = time.monotonic() - start
    up_at = datetime.now(UTC)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise SoakFailed(f"{shlex.join(command)} failed ({process.returncode}): {output.decode(errors='replace')}")
    rows = await _sending(engine)
    report.in_flight_rows.append(rows)
    report.restart = Restart(
        at=at, command=shlex.join(command), outage=outage, turn_after=None, reply_after=None, in_flight=len(rows)
    )
    report.database_back_at = up_at
    echo(
        f"  {at + outage:6.1f} s  PostgreSQL accepts connections again ({outage:.2f} s; {len(rows)} replies in flight)"
    )


async def _recovery(engine: AsyncEngine, restart: Restart, up_at: datetime) -> Restart:
    """The first turn and the first reply the platform finished once PostgreSQL was back."""
    async with engine.connect() as connection:
        turn = await connection.scalar(
            select(func.min(inbox.c.processed_at)).where(inbox.c.kind == "message", inbox.c.processed_at >= up_at)
        )
        reply = await connection.scalar(select(func.min(outbox.c.sent_at)).where(outbox.c.sent_at >= up_at))

    def after(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - up_at).total_seconds()

    return Restart(
        at=restart.at,
        command=restart.command,
        outage=restart.outage,
        turn_after=after(turn),
        reply_after=after(reply),
        in_flight=restart.in_flight,
    )


async def _restart_command(engine: AsyncEngine) -> tuple[str, ...]:
    """`pg_ctlcluster -m fast VERSION NAME restart` for the server's Debian cluster, else the service."""
    async with engine.connect() as connection:
        cluster = await connection.scalar(text("SHOW cluster_name"))
    version, _, name = str(cluster or "").partition("/")
    if version and name:
        return ("pg_ctlcluster", "-m", "fast", version, name, "restart")
    return ("service", "postgresql", "restart")


async def _accepts(probe: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(1.0), probe.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # refused, reset, shutting down, starting up: not accepting yet
        return False
    return True


async def _sending(engine: AsyncEngine) -> frozenset[int]:
    """Outbox rows a sender has claimed and not yet settled (asked again while the database restarts)."""
    for _ in range(120):
        try:
            async with engine.connect() as connection:
                found = await connection.execute(select(outbox.c.id).where(outbox.c.state == "sending"))
                return frozenset(row.id for row in found)
        except (SQLAlchemyError, OSError):
            await asyncio.sleep(0.5)
    raise SoakFailed("the database did not answer for a minute")


async def _end_leases(engine: AsyncEngine) -> None:
    """What 60 s would do to the leases of senders that are all dead."""
    async with engine.begin() as connection:
        await connection.execute(
            update(outbox).where(outbox.c.state == "sending").values(lease_until=datetime.now(UTC))
        )


async def _settled(engine: AsyncEngine, messages: int, within: float, echo: Echo) -> bool:
    """Wait until every message is stored and processed and every reply sent."""
    deadline = time.monotonic() + within
    last = ""
    while True:
        async with engine.connect() as connection:
            stored = await connection.scalar(select(func.count()).where(inbox.c.kind == "message"))
            waiting = await connection.scalar(
                select(func.count()).where(inbox.c.kind == "message", inbox.c.state == "pending")
            )
            unsent = await connection.scalar(select(func.count()).where(outbox.c.state.in_(("pending", "sending"))))
        if stored == messages and not waiting and not unsent:
            return True
        now = f"{stored:,}/{messages:,} stored, {waiting:,} to process, {unsent:,} replies to send"
        if time.monotonic() > deadline:
            echo(f"not settled after {within:.0f} s: {now}")
            return False
        if now != last and int(time.monotonic()) % 10 == 0:
            echo(f"  waiting: {now}")
            last = now
        await asyncio.sleep(0.5)


async def _answering(fleet: Fleet, slot: Slot, within: float = 90.0) -> None:
    path = "/_chat/info" if slot.kind == "emulator" else "/health"
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"http://{HOST}:{slot.port}{path}")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise SoakFailed(f"{slot.name} did not answer within {within:.0f} s:\n{fleet.tail(slot)}")
            await asyncio.sleep(0.2)


# ------------------------------------------------------------------ the database and the environment


@contextlib.asynccontextmanager
async def _database(plan: Plan, workdir: Path, keep: Callable[[], bool]) -> AsyncIterator[str]:
    """The run's database: as given, or a fresh migrated schema (PostgreSQL) or file (SQLite), dropped
    afterwards unless `keep()`."""
    if not plan.fresh:
        yield plan.database_url
        return
    if plan.database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{workdir / 'soak.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    schema = f"soak_{secrets.token_hex(6)}"
    await create_schema(plan.database_url, schema)
    url = schema_url(plan.database_url, schema)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        if not keep():
            await drop_schema(plan.database_url, schema)


def _env(url: str, emulator_url: str, webhook: str, data_key: str, workdir: Path) -> dict[str, str]:
    secret, token = "soak-" + secrets.token_hex(8), "soak-" + secrets.token_hex(8)
    return {
        **os.environ,
        "SEVAMITRA_ENV": "dev",
        "SEVAMITRA_DATABASE_URL": url,
        "SEVAMITRA_GRAPH_API_URL": emulator_url,
        "SEVAMITRA_WHATSAPP_APP_SECRET": secret,
        "SEVAMITRA_WHATSAPP_ACCESS_TOKEN": token,
        "SEVAMITRA_WHATSAPP_VERIFY_TOKEN": "soak-verify",
        "SEVAMITRA_DATA_KEY": data_key,
        "SEVAMITRA_PUBLIC_URL": webhook.removesuffix("/webhooks/whatsapp"),
        "SEVAMITRA_SEND_RATE_PER_SECOND": "1000",
        "SEVAMITRA_SPEECH_BACKEND": "none",
        "SEVAMITRA_TTS_BACKEND": "none",
        "SEVAMITRA_ASSISTANT_EMBEDDINGS": "false",
        "SEVAMITRA_EMULATOR_ENABLED": "false",
        "SEVAMITRA_CONSENT_NOTICE_VERSION": NOTICE,
        "SEVAMITRA_CACHE_DIR": str(workdir / "cache"),
        "SEVAMITRA_KEYS_DIR": str(workdir / "keys"),
        "SEVAMITRA_LOG_DIR": str(workdir / "tlog"),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _kind(url: str) -> str:
    if url.startswith("sqlite"):
        return "SQLite"
    return "PostgreSQL"


# ------------------------------------------------------------------ the summary


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _silent(line: str) -> None:
    return None


def _describe(plan: Plan) -> str:
    return (
        f"{plan.citizens:,} citizens x {len(WALK)} messages over {plan.spread:.0f} s (one every {plan.gap:g} s each), "
        f"{plan.webs} web and {plan.workers} worker processes, {plan.kills} kills"
        + (" (workers together)" if plan.kill_workers_together else "")
        + (f", Graph API faults every ~{plan.faults_every:g} s" if plan.faults_every > 0 else "")
        + (", the access token refused once" if plan.token_refused and plan.faults_every > 0 else "")
        + (", a PostgreSQL restart" if plan.restart_database else "")
    )


def summary(report: Report) -> str:
    """The figures of a run, a line each."""
    verdict, killed = report.verdict, report.killed
    lines = [
        f"soak summary ({report.started:%Y-%m-%d %H:%M} UTC, seed {report.seed}, {report.database})",
        f"  plan: {_describe(report.plan)}",
    ]
    if verdict is not None:
        lines.append(
            f"  messages under load: {verdict.messages:,} in {report.load_seconds:.0f} s, "
            f"answered with {verdict.replies:,} replies"
        )
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(killed.items())) or "-"
    lines.append(
        f"  processes killed: {sum(killed.values())} ({kinds})"
        + (f"; exits nobody asked for: {report.unexpected_exits}" if report.unexpected_exits else "")
    )
    taken = sum(report.faults.values()) - report.faults_left
    kinds = ", ".join(f"{name} x{n}" for name, n in sorted(report.faults.items())) or "-"
    lines.append(f"  Graph API faults injected: {sum(report.faults.values())} ({kinds}); taken by sends: {taken}")
    if report.restart is not None:
        r = report.restart
        lines.append(
            f"  database restart at {r.at:.0f} s: PostgreSQL accepted connections {r.outage:.2f} s after "
            f"`{r.command}` began; then the first turn in {_seconds(r.turn_after)}, the first reply sent in "
            f"{_seconds(r.reply_after)}"
        )
    if verdict is not None:
        in_flight = sum(k.in_flight for k in report.kills) + (report.restart.in_flight if report.restart else 0)
        lines += [
            f"  messages lost: {verdict.lost} (not stored {verdict.not_stored}, not processed {verdict.not_processed}, "
            f"unanswered {verdict.unanswered}, replies unsent {verdict.not_sent}, replies not delivered "
            f"{verdict.not_delivered})",
            f"  duplicates sent: {verdict.duplicates} (replies in flight at the kills and the restart: {in_flight}; "
            f"beyond those: {verdict.unexplained_duplicates})",
            f"  applications: {verdict.applications_intact:,} of {verdict.applications_expected:,} intact; "
            f"read receipts wrong: {verdict.receipts_wrong}; transcripts unlike the rest: {verdict.odd_transcripts}",
            *(f"    {line}" for line in verdict.broken_applications),
            *(f"    duplicate: {line}" for line in verdict.duplicate_details),
        ]
    lines += [
        f"  queues empty {report.settle_seconds:.1f} s after the load and the kills ended"
        if report.settled
        else f"  queues NOT empty {report.settle_seconds:.0f} s after the load and the kills ended",
        f"  result: {'PASS' if report.ok else 'FAIL'}",
    ]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


# ------------------------------------------------------------------ the command


async def _until_stopped(plan: Plan) -> Report:
    """The run, cancelled (and so cleaned up: processes stopped, schema dropped) on SIGINT or SIGTERM,
    which a run in the background would otherwise ignore or die of."""
    task, loop = asyncio.current_task(), asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        if task is not None:
            loop.add_signal_handler(stop, task.cancel)
    return await run_soak(plan)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sevamitra.testing.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SEVAMITRA_TEST_POSTGRES_URL", DEFAULT_DATABASE),
        help="PostgreSQL base URL (a fresh schema is made), or 'sqlite' for a fresh file",
    )
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--spread", type=float, default=900.0, help="seconds over which the citizens start")
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between a citizen's messages")
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--faults-every", type=float, default=3.0, help="seconds between fault bursts; 0: none")
    parser.add_argument("--token-refused", action="store_true", help="Meta refuses the access token once (190)")
    parser.add_argument("--restart-database", action="store_true", help="restart the local PostgreSQL mid-load")
    parser.add_argument(
        "--restart-command", default="", help="instead of pg_ctlcluster (e.g. 'service postgresql restart')"
    )
    parser.add_argument("--settle-timeout", type=float, default=600.0, help="seconds to wait for the queues")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    args = parser.parse_args(argv)
    sqlite = args.database_url.startswith("sqlite")
    if sqlite and (args.webs != 1 or args.workers != 1 or args.restart_database):
        raise SystemExit("on SQLite: --webs 1 --workers 1, and no --restart-database (one local file)")
    plan = Plan(
        database_url=args.database_url,
        citizens=args.citizens,
        spread=args.spread,
        gap=args.gap,
        webs=args.webs,
        workers=args.workers,
        kills=args.kills,
        faults_every=args.faults_every,
        token_refused=args.token_refused,
        restart_database=args.restart_database,
        restart_command=tuple(shlex.split(args.restart_command)),
        settle_timeout=args.settle_timeout,
        seed=args.seed,
        workdir=args.workdir,
    )
    try:
        report = asyncio.run(_until_stopped(plan))
    except asyncio.CancelledError as stopped:
        sys.stderr.write("soak: stopped (its processes stopped, its schema dropped)\n")
        raise SystemExit(130) from stopped
    except SoakFailed as error:
        sys.stderr.write(f"soak: could not run: {error}\n")
        raise SystemExit(2) from error
    sys.stdout.write(summary(report) + "\n")
    if not report.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
