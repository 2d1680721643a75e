"""`sevamitra bench turns`: whole conversation turns per second, webhook in to reply out, against a pywa bot.

Simulated citizens walk one conversation (`CONVERSATION`: hi, English, the consent notice's "I
agree", Revenue, "income certificate", Apply, seven answers, Submit) with signed webhooks in Meta's
shape. A citizen sends its next message only once every reply to the previous one has reached the
Graph API, and the citizens waiting to send are taken in turn at a fixed offered load (messages per
second). The Graph API is a recording stub in this process (`GraphStub`: 200 and a message id, the
arrival time noted; the emulator would keep chats and cost more). A turn's latency runs from the
webhook POST to the arrival of its last reply at the stub; read receipts are not replies.

Targets, each in its own subprocesses, one after the other: the platform (`sevamitra serve` with its
worker, on a fresh SQLite file or a fresh PostgreSQL schema), on PostgreSQL also `serve --no-worker`
with one and with two `sevamitra worker` processes, and the baseline `benchmarks/baseline_pywa.py`
(pywa + FastAPI, state in a dict). Before its loads, each target is walked once by a lone citizen
to learn how many replies each message gets; that walk must end in a submitted application.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import json
import math
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sevamitra.adapters.sql.seeding import create_schema, drop_schema, schema_url
from sevamitra.cli.bench import (
    _CLI,
    WEBHOOK_PATH,
    BenchFailed,
    Durability,
    HttpConnection,
    HttpError,
    Target,
    _busy_cpu,
    _count_inbox,
    _event_loop_factory,
    _platform_env,
    _process_cpu,
    _sqlite_path,
    _start,
    _stop,
    _tail,
    build_request,
)
from sevamitra.cli.bench_turns_report import SEND_BUDGET, Suite, System, Turns, Window, as_json, render, svg
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, signature

CYCLE_SECONDS = 0.5  # default citizens: offered load x this, so each sends about twice a second
TURN_TIMEOUT = 5.0  # a turn without all its replies by then is an error
BASELINE = Path(__file__).resolve().parents[3] / "benchmarks" / "baseline_pywa.py"
REFERENCE = re.compile(r"\bAP-[A-Z]+-[A-Z]+-\d{4}-\d+")


# ------------------------------------------------------------------ the conversation


class Step(NamedTuple):
    name: str
    kind: str  # "text", "button_reply" or "list_reply"
    value: str  # the text, or the id of the button or row; AADHAAR: the citizen's own number
    title: str = ""


AADHAAR = "<aadhaar>"
NOTICE = "1"  # the consent notice the platform under test asks for (SEVAMITRA_CONSENT_NOTICE_VERSION)
CONVERSATION = (
    Step("hi", "text", "hi"),
    Step("language", "button_reply", "lang:en", "English"),
    Step("consent", "button_reply", f"privacy:accept:{NOTICE}", "I agree"),
    Step("department", "list_reply", "dept:revenue", "Revenue"),
    Step("service", "text", "income certificate"),
    Step("apply", "button_reply", "form:start", "Apply"),
    Step("name", "text", "Lakshmi Devi"),
    Step("aadhaar", "text", AADHAAR),
    Step("father", "text", "Venkata Ramana"),
    Step("district", "list_reply", "place:guntur", "Guntur"),
    Step("mandal", "list_reply", "place:guntur/chebrolu", "Chebrolu"),
    Step("village", "list_reply", "place:guntur/chebrolu/chebrolu", "Chebrolu"),
    Step("income", "text", "50000"),
    Step("sources", "text", "agriculture"),
    Step("purpose", "list_reply", "answer:education", "Education or admission"),
    Step("submit", "button_reply", "form:submit", "Submit"),
)


def aadhaar(number: int) -> str:
    """A distinct valid Aadhaar number (first digit 2-9, Verhoeff check digit) for each identity."""
    body = f"{2 + number // 10**10 % 8}{number % 10**10:010d}"
    return body + verhoeff_digit(body)


@dataclass(slots=True, eq=False)
class Citizen:
    number: int = -1  # the identity in use: a new one for each walk through the conversation
    wa_id: str = ""
    user_id: str = ""
    step: int = 0  # the next message to send
    turn: int = 0  # turns sent so far, all identities
    due: int = 0  # replies still due for the turn in flight; 0: none in flight
    sent_at: float = 0.0
    stats: Turns | None = None  # where the turn in flight counts
    context: str | None = None  # the last reply's id, quoted by button and list replies


# ------------------------------------------------------------------ the Graph API stub

Listener = Callable[[str, str, dict[str, Any], float], None]  # address, message id, body, arrival time


class GraphStub:
    """A fast stand-in for the Graph API: every POST answered 200 at once. Messages (not read receipts)
    get a fresh id and go to `listener` with their arrival time on `time.perf_counter`."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.messages = 0
        self.receipts = 0
        self.last_arrival = 0.0
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None

    async def start(self, host: str) -> int:
        self._server = await asyncio.start_server(self._serve, host, 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").lower().split("\r\n")
                headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
                body = await reader.readexactly(int(headers.get("content-length", "0").strip() or 0))
                answer = self._answer(body, time.perf_counter())
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(answer), answer)
                )
                if headers.get("connection", "").strip() == "close":
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def _answer(self, body: bytes, arrived: float) -> bytes:
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            data = {}
        address = data.get("to") or data.get("recipient") if isinstance(data, dict) else None
        if not isinstance(address, str) or "type" not in data:
            self.receipts += 1
            return b'{"success":true}'
        self.messages += 1
        self.last_arrival = arrived
        message_id = f"wamid.stub.{next(self._ids)}"
        self.listener(address, message_id, data, arrived)
        contact = {"input": address, "wa_id": address}
        return json.dumps(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": message_id}]}
        ).encode()


# ------------------------------------------------------------------ the citizens


class Citizens:
    """Citizens walking CONVERSATION against the target on `port`; `on_reply` is the Graph stub's listener."""

    def __init__(self, host: str, app_secret: str, *, timeout: float = TURN_TIMEOUT) -> None:
        self.host = host
        self.port = 0
        self.app_secret = app_secret
        self.timeout = timeout
        self.config = EmulatorConfig(webhook_url="", app_secret=app_secret, access_token="")
        self.expected: tuple[int, ...] = ()  # replies due for each step
        self.acknowledged = 0  # webhook 200s, all targets
        self.stray = 0  # replies for no turn in flight
        self.ready: deque[Citizen] = deque()
        self.open = False  # whether answered citizens queue up to send again
        self._numbers = itertools.count(1)
        self._by_address: dict[str, Citizen] = {}
        self._pool: list[HttpConnection] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._probe: tuple[Citizen, list[dict[str, Any]]] | None = None
        self._in_flight = 0
        self._settled = asyncio.Event()
        self._settled.set()

    async def aim(self, port: int) -> None:
        await self.close()
        self.port = port

    async def close(self) -> None:
        pool, self._pool = self._pool, []
        for connection in pool:
            await connection.close()

    def begin(self, citizen: Citizen) -> None:
        """A new identity at the start of the conversation."""
        self._by_address.pop(citizen.wa_id, None)
        self._by_address.pop(citizen.user_id, None)
        number = next(self._numbers)
        citizen.number, citizen.step, citizen.context = number, 0, None
        citizen.wa_id, citizen.user_id = f"91{7_000_000_000 + number}", f"IN.{number:015d}"
        self._by_address[citizen.wa_id] = self._by_address[citizen.user_id] = citizen

    def request(self, citizen: Citizen) -> bytes:
        """The signed webhook POST of the citizen's next message."""
        step = CONVERSATION[citizen.step]
        content: dict[str, Any]
        if step.kind == "text":
            text = aadhaar(citizen.number) if step.value == AADHAAR else step.value
            content = {"type": "text", "text": {"body": text}}
        else:
            reply = {"id": step.value, "title": step.title}
            content = {"type": "interactive", "interactive": {"type": step.kind, step.kind: reply}}
            if citizen.context:
                content["context"] = {"from": self.config.display_phone_number, "id": citizen.context}
        message = {"from": citizen.wa_id, "id": f"wamid.bench.{citizen.number}.{citizen.step}"}
        message |= {"timestamp": str(int(time.time())), **content}
        name = f"Citizen {citizen.number}"
        body = encode(
            message_update(self.config, name=name, wa_id=citizen.wa_id, user_id=citizen.user_id, message=message)
        )
        headers = [("Content-Type", "application/json"), ("X-Hub-Signature-256", signature(body, self.app_secret))]
        return build_request("POST", WEBHOOK_PATH, f"{self.host}:{self.port}", body, headers)

    async def post(self, request: bytes) -> int:
        """POST on a pooled keep-alive connection; the status, or an exception."""
        connection = self._pool.pop() if self._pool else HttpConnection(self.host, self.port)
        try:
            response = await connection.send(request)
        except BaseException:
            await connection.close()
            raise
        self._pool.append(connection)
        if response.status == 200:
            self.acknowledged += 1
        return response.status

    def on_reply(self, address: str, message_id: str, body: dict[str, Any], arrived: float) -> None:
        citizen = self._by_address.get(address)
        if citizen is None:
            self.stray += 1
            return
        citizen.context = message_id
        if self._probe is not None and citizen is self._probe[0]:
            self._probe[1].append(body)
            return
        if not citizen.due or citizen.stats is None:
            self.stray += 1
            return
        citizen.due -= 1
        if citizen.due:
            return
        self._landed()
        citizen.stats.acknowledged += 1
        citizen.stats.latencies.append(arrived - citizen.sent_at)
        if citizen.step == len(CONVERSATION):
            self.begin(citizen)
        if self.open:
            self.ready.append(citizen)

    def _fail(self, citizen: Citizen, turn: int, kind: str) -> None:
        if citizen.turn != turn or not citizen.due or citizen.stats is None:
            return
        citizen.stats.errors += 1
        citizen.stats.error_kinds[kind] += 1
        citizen.due = 0
        self._landed()
        self.begin(citizen)  # the conversation is lost: start again as someone new
        if self.open:
            self.ready.append(citizen)

    def _spawn(self, citizen: Citizen, stats: Turns) -> None:
        """Put the citizen's next message in flight now; a task posts it."""
        request = self.request(citizen)
        citizen.turn += 1
        citizen.due, citizen.stats = self.expected[citizen.step], stats
        citizen.step += 1
        citizen.sent_at = time.perf_counter()
        stats.sent += 1
        self._in_flight += 1
        self._settled.clear()
        task = asyncio.create_task(self._send(citizen, citizen.turn, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, citizen: Citizen, turn: int, request: bytes) -> None:
        citizen.sent_at = time.perf_counter()
        try:
            status = await self.post(request)
        except (OSError, HttpError) as error:
            self._fail(citizen, turn, type(error).__name__)
            return
        if status != 200:
            self._fail(citizen, turn, f"HTTP {status}")

    def _landed(self) -> None:
        self._in_flight -= 1
        if not self._in_flight:
            self._settled.set()

    async def calibrate(self, *, settle: float = 0.3, first: float = 30.0) -> list[list[dict[str, Any]]]:
        """One citizen alone through the conversation, each message's replies awaited until `settle` s pass
        without another: the replies to each step. Sets `expected`."""
        citizen = Citizen()
        self.begin(citizen)
        transcript: list[list[dict[str, Any]]] = []
        try:
            for index, step in enumerate(CONVERSATION):
                replies: list[dict[str, Any]] = []
                citizen.step = index
                self._probe = (citizen, replies)
                status = await self.post(self.request(citizen))
                if status != 200:
                    raise BenchFailed(f"the webhook answered {status} to {step.name!r}")
                deadline = time.monotonic() + first
                while not replies:
                    if time.monotonic() > deadline:
                        raise BenchFailed(f"no reply to {step.name!r} within {first:g} s")
                    await asyncio.sleep(0.01)
                count = 0
                while count != len(replies):
                    count = len(replies)
                    await asyncio.sleep(settle)
                transcript.append(replies)
        finally:
            self._probe = None
        self.expected = tuple(len(replies) for replies in transcript)
        return transcript

    async def run(self, rate: float, people: int, *, warmup: float, seconds: float, pids: Sequence[int]) -> Window:
        """`people` citizens at `rate` messages per second: `warmup` s, then `seconds` timed; then the turns in
        flight are awaited (or time out)."""
        crowd = [Citizen() for _ in range(people)]
        for citizen in crowd:
            self.begin(citizen)
        self.ready, self.open = deque(crowd), True
        warm, timed = Turns(seconds=warmup), Turns(seconds=seconds)
        reaper = asyncio.create_task(self._reap(crowd))
        start = time.perf_counter()
        switch, end = start + warmup, start + warmup + seconds
        ticks, before = 0, None
        try:
            while (due := start + ticks / rate) < end:
                if (now := time.perf_counter()) < due:
                    await asyncio.sleep(due - now)
                    continue
                if before is None and due >= switch:
                    before = _usage(pids)
                ticks += 1
                stats = warm if due < switch else timed
                if self.ready:
                    self._spawn(self.ready.popleft(), stats)
                else:
                    stats.missed += 1
            after = _usage(pids)
        finally:
            self.open = False
        try:
            await asyncio.gather(*self._tasks)
            await self._settled.wait()
        finally:
            reaper.cancel()
            for citizen in crowd:  # replies still to come for them are strays
                self._by_address.pop(citizen.wa_id, None)
                self._by_address.pop(citizen.user_id, None)
        _set_cpu(timed, before or after, after)
        return Window(offered=rate, citizens=people, warmup=warm, timed=timed)

    async def _reap(self, crowd: list[Citizen]) -> None:
        while True:
            await asyncio.sleep(0.1)
            late = time.perf_counter() - self.timeout
            for citizen in crowd:
                if citizen.due and citizen.sent_at < late:
                    self._fail(citizen, citizen.turn, f"no reply within {self.timeout:g} s")


class Usage(NamedTuple):
    at: float
    client: float
    server: float | None
    busy: float | None


def _usage(pids: Sequence[int]) -> Usage:
    servers = [_process_cpu(pid) for pid in pids]
    server = None if not servers or None in servers else sum(s for s in servers if s is not None)
    return Usage(time.perf_counter(), time.process_time(), server, _busy_cpu())


def _set_cpu(turns: Turns, before: Usage, after: Usage) -> None:
    span = max(after.at - before.at, 1e-9)
    turns.client_cpu = (after.client - before.client) / span
    if before.server is not None and after.server is not None:
        turns.server_cpu = (after.server - before.server) / span
        if before.busy is not None and after.busy is not None:
            turns.others_cpu = max(0.0, (after.busy - before.busy) / span - turns.server_cpu - turns.client_cpu)


# ------------------------------------------------------------------ targets


def peak_rss_kib(pid: int) -> int | None:
    """The process's peak resident set (VmHWM) in KiB, from /proc on Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def citizens_for(rate: float, citizens: int | None) -> int:
    return citizens or max(10, math.ceil(rate * CYCLE_SECONDS))


async def _quiet(stub: GraphStub, *, calm: float = 1.0, limit: float = 30.0) -> None:
    """Until no reply has arrived for `calm` s: a backlog left by an overload must not spill into the next load."""
    for _ in range(math.ceil(limit / 0.1)):
        if time.perf_counter() - stub.last_arrival >= calm:
            return
        await asyncio.sleep(0.1)


@dataclass
class Plan:
    host: str
    workdir: Path
    warmup: float
    seconds: float
    citizens: int | None


async def _system(
    plan: Plan,
    walkers: Citizens,
    stub: GraphStub,
    name: str,
    web: list[str],
    env: dict[str, str],
    rates: Sequence[float],
    *,
    workers: int = 0,
    refine: bool = True,
) -> System:
    """Start the target, learn its replies, measure each offered load (climbing until far past what it takes,
    then once between the last sustained load and the first not), and stop it."""
    slug = re.sub(r"\W+", "-", name)
    target = await asyncio.to_thread(_start, slug, web, env, plan.host, plan.workdir, "/health")
    processes = [target]
    try:
        for n in range(workers):
            log = plan.workdir / f"{slug}-worker-{n + 1}.log"
            with log.open("wb") as out:
                worker = await asyncio.to_thread(subprocess.Popen, [*_CLI, "worker"], env=env, stdout=out, stderr=out)
            processes.append(Target(name=f"worker {n + 1}", process=worker, port=0, log=log))
        await walkers.aim(target.port)
        transcript = await walkers.calibrate()
        last = json.dumps(transcript[-1], ensure_ascii=False)
        if not REFERENCE.search(last):
            raise BenchFailed(f"{name}: the conversation did not end in a submitted application: {last[:500]}")
        system = System(name=name, command=" ".join(_shown(web)), replies=list(walkers.expected))
        if workers:
            system.command += f" + {workers} x sevamitra worker"
        pids = [p.process.pid for p in processes]

        async def measure(rate: float) -> Window:
            people = citizens_for(rate, plan.citizens)
            window = await walkers.run(rate, people, warmup=plan.warmup, seconds=plan.seconds, pids=pids)
            system.windows.append(window)
            t = window.timed
            print(
                f"{name}: {rate:g}/s offered, {t.per_second:.1f} turns/s, p99 {t.percentile_ms(0.99) or 0:.1f} ms, "
                f"{t.errors} errors",
                file=sys.stderr,
            )
            await _quiet(stub)
            return window

        for rate in rates:
            window = await measure(rate)
            if window.timed.acknowledged < 0.5 * rate * plan.seconds:
                break  # far past what it can take: higher loads would only add timeouts
        failed = next((w.offered for w in system.windows if not w.sustained), None)
        if refine and failed is not None:
            passed = max((w.offered for w in system.windows if w.sustained and w.offered < failed), default=0.0)
            middle = round((passed + failed) / 2)
            if middle > 0 and all(w.offered != middle for w in system.windows):
                await measure(middle)
                system.windows.sort(key=lambda w: w.offered)
        for process in processes:
            if process.process.poll() is not None:
                raise BenchFailed(f"{name}: {process.name} exited during the run:\n{_tail(process.log)}")
            system.peak_rss_kib[process.name if process is not target else "web"] = peak_rss_kib(process.process.pid)
        return system
    finally:
        for process in processes:
            await asyncio.to_thread(_stop, process)


def _shown(argv: list[str]) -> list[str]:
    if argv[: len(_CLI)] == _CLI:
        return ["sevamitra", *argv[len(_CLI) :]]
    return [{sys.executable: "python", str(BASELINE): "benchmarks/baseline_pywa.py"}.get(a, a) for a in argv]


@contextlib.asynccontextmanager
async def _database(database_url: str | None, plan: Plan, app_secret: str, label: str) -> AsyncIterator[str]:
    """A fresh, migrated database: an SQLite file in the work dir, or a schema of its own on PostgreSQL."""
    schema = None
    if database_url is None:
        url = f"sqlite+aiosqlite:///{plan.workdir / f'{label}.db'}"
    elif database_url.startswith("postgres"):
        schema = f"bench_turns_{secrets.token_hex(4)}"
        await create_schema(database_url, schema)
        url = schema_url(database_url, schema)
    else:
        url = database_url
    try:
        env = _platform_env(url, app_secret)
        migrated = await asyncio.to_thread(
            subprocess.run, [*_CLI, "migrate"], env=env, capture_output=True, check=False
        )
        if migrated.returncode != 0:
            raise BenchFailed(f"`sevamitra migrate` failed:\n{migrated.stderr.decode(errors='replace')[-2000:]}")
        yield url
    finally:
        if schema is not None and database_url is not None:
            await drop_schema(database_url, schema)


def _env(url: str, app_secret: str, graph_url: str, workdir: Path) -> dict[str, str]:
    env = _platform_env(url, app_secret)
    env.update(
        {
            "SEVAMITRA_GRAPH_API_URL": graph_url,
            "SEVAMITRA_SEND_RATE_PER_SECOND": str(SEND_BUDGET),
            "SEVAMITRA_SPEECH_BACKEND": "none",
            "SEVAMITRA_ASSISTANT_EMBEDDINGS": "false",
            "SEVAMITRA_LOG_DIR": str(workdir / f"tlog-{secrets.token_hex(4)}"),
            "SEVAMITRA_CITIZEN_PACE_PER_MINUTE": "0",  # simulated citizens write twice a second: no person does
            "SEVAMITRA_CONSENT_NOTICE_VERSION": NOTICE,
        }
    )
    return env


def baseline_missing() -> str | None:
    """Why the baseline cannot run here, or None."""
    if not BASELINE.is_file():
        return f"the baseline bot {BASELINE} is not there (a source checkout has it)"
    if importlib.util.find_spec("pywa_async") is None or importlib.util.find_spec("fastapi") is None:
        return "the baseline needs pywa and FastAPI: pip install 'sevamitra[bench]'"
    return None


async def _suite(rates: Sequence[float], plan: Plan, database_url: str | None) -> tuple[list[System], list[str]]:
    app_secret = "bench-" + secrets.token_hex(16)
    walkers = Citizens(plan.host, app_secret)
    stub = GraphStub(walkers.on_reply)
    graph_url = f"http://{plan.host}:{await stub.start(plan.host)}"
    systems: list[System] = []
    notes: list[str] = []
    try:
        async with _database(database_url, plan, app_secret, "platform") as url:
            acknowledged = walkers.acknowledged
            serve = [*_CLI, "serve"]
            platform = await _system(
                plan, walkers, stub, "platform", serve, _env(url, app_secret, graph_url, plan.workdir), rates
            )
            systems.append(platform)
            if (sqlite_file := _sqlite_path(url)) is not None:
                sent, stored = walkers.acknowledged - acknowledged, _count_inbox(sqlite_file)
                platform.durability = Durability(sent, stored, f"inbox rows counted in {sqlite_file.name}")
        if database_url is not None and database_url.startswith("postgres"):
            failed = next((w.offered for w in platform.windows if not w.sustained), max(rates))
            for workers in (1, 2):
                async with _database(database_url, plan, app_secret, f"workers-{workers}") as url:
                    env = _env(url, app_secret, graph_url, plan.workdir)
                    name = f"platform, {workers} worker{'s' if workers > 1 else ''}"
                    web = [*_CLI, "serve", "--no-worker"]
                    systems.append(
                        await _system(plan, walkers, stub, name, web, env, [failed], workers=workers, refine=False)
                    )
        else:
            notes.append("worker processes not measured: SQLite takes one worker; give --database-url postgresql://...")
        if (missing := baseline_missing()) is not None:
            notes.append(f"baseline not measured: {missing}")
        else:
            env = _env("", app_secret, graph_url, plan.workdir)
            bot = [sys.executable, str(BASELINE)]
            systems.append(await _system(plan, walkers, stub, "baseline", bot, env, rates))
    finally:
        await walkers.close()
        await stub.close()
    if walkers.stray:
        notes.append(f"{walkers.stray} replies arrived for no turn in flight (after a timeout, or unexpected)")
    return systems, notes


def measure_turns(
    *,
    rates: Sequence[float],
    seconds: float,
    warmup: float,
    citizens: int | None,
    database_url: str | None,
    host: str = "127.0.0.1",
) -> Suite:
    """Run every target in turn; no printing."""
    with tempfile.TemporaryDirectory(prefix="sevamitra-bench-turns-") as tmp:
        plan = Plan(host=host, workdir=Path(tmp), warmup=warmup, seconds=seconds, citizens=citizens)
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            systems, notes = runner.run(_suite(rates, plan, database_url))
    kind = "SQLite (a fresh file)" if database_url is None else database_url.partition("://")[0]
    if database_url is not None and database_url.startswith("postgres"):
        kind = "PostgreSQL (a fresh schema for each platform target)"
    steps = tuple(step.name for step in CONVERSATION)
    return Suite(systems, kind, seconds, warmup, steps=steps, turn_timeout=TURN_TIMEOUT, notes=notes)


def turns(
    *,
    rates: Sequence[float],
    seconds: float = 10.0,
    warmup: float = 1.0,
    citizens: int | None = None,
    database_url: str | None = None,
    json_path: str | Path | None = None,
) -> Suite:
    """Measure, print the table and the goals; with `json_path` also write the figures there and a plot
    beside it (`.svg`). Exits non-zero when a target fails or the platform acknowledged more than it stored."""
    if seconds <= 0 or warmup < 0 or not rates or min(rates) <= 0 or (citizens is not None and citizens < 1):
        raise SystemExit("sevamitra bench turns: rates and seconds must be > 0, warm-up >= 0, citizens >= 1")
    try:
        suite = measure_turns(
            rates=sorted(rates), seconds=seconds, warmup=warmup, citizens=citizens, database_url=database_url
        )
    except BenchFailed as error:
        print(f"FAIL: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    print(render(suite))
    if json_path is not None:
        path = Path(json_path)
        path.write_text(json.dumps(as_json(suite), indent=2) + "\n")
        path.with_suffix(".svg").write_text(svg(suite))
        print(f"figures in {path}, plot in {path.with_suffix('.svg')}")
    durability = [s.durability for s in suite.systems if s.durability is not None]
    if any(d.failed for d in durability):
        print("FAIL: the platform acknowledged more messages than its inbox holds")
        raise SystemExit(1)
    return suite
