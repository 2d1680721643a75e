"""`sevamitra bench drain`: how long the platform takes to work off a burst of messages.

A burst of `messages` distinct signed webhooks from `citizens` citizens goes to `sevamitra serve
--no-worker` as fast as it acknowledges them, over keep-alive connections: each citizen's messages
on one connection, each sent once the one before was acknowledged, so the inbox holds them in
order. The messages are bench turns' conversation (hi, English, "I agree", Revenue, "income certificate",
Apply, the seven answers, Submit, then "hi" again), built by its `Citizens.request`; the button
and list replies quote no earlier message, as nobody has answered yet. Nothing is processed
during the burst. Then `sevamitra worker` processes start, and the bench polls the inbox and the
outbox with `adapters.sql.queues` until nothing waits in either: the drain time, from starting the
workers to the last Graph API call.

The Graph API is bench turns' recording stub, which also notes read receipts here. Checks: every
acknowledged message got exactly one read receipt (none answered twice, none left out); each
citizen's receipts arrived in the order of its messages; every receipt was followed by at least
one reply before the next receipt (the platform enqueues a turn's receipt and replies together,
in the citizen's send order).

Targets, one after the other, each on a fresh database: SQLite (a fresh file; one worker process,
as SQLite takes one), or on PostgreSQL a fresh schema for each worker count (default 1 and 2).
The platform's settings are bench turns' (`SEVAMITRA_SEND_RATE_PER_SECOND=1000`, speech off,
embeddings off).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.queues import queues
from sevamitra.cli.bench import (
    _CLI,
    BenchFailed,
    HttpConnection,
    HttpError,
    Target,
    _event_loop_factory,
    _process_cpu,
    _start,
    _stop,
    _tail,
    machine,
)
from sevamitra.cli.bench_turns import CONVERSATION, Citizen, Citizens, GraphStub, Listener, Plan, _database, _env
from sevamitra.cli.bench_turns import peak_rss_kib as _peak_rss_kib
from sevamitra.cli.bench_turns_report import SEND_BUDGET

MESSAGES = 100_000
CITIZENS = 10_000
CONCURRENCY = 32
POLL_SECONDS = 0.2
REPLY = -1  # in a citizen's log at the stub: a reply; a read receipt is the index of the message it marks
_WAMID = re.compile(rb'"id":"(wamid\.[^"]+)"')


# ------------------------------------------------------------------ the burst


class Burst:
    """The messages of the burst: citizen c sends `counts[c]`, walking CONVERSATION again after Submit.

    Each citizen keeps its wa_id and user id; each walk has its own number (so its own message ids
    and Aadhaar number).
    """

    def __init__(self, messages: int, citizens: int) -> None:
        people = max(1, min(citizens, messages))
        self.messages = messages
        self.counts = [messages // people + (c < messages % people) for c in range(people)]
        self.wa_ids = [f"91{7_000_000_000 + c + 1}" for c in range(people)]
        self.user_ids = [f"IN.{c + 1:015d}" for c in range(people)]
        self.by_address = {a: c for c in range(people) for a in (self.wa_ids[c], self.user_ids[c])}

    @property
    def citizens(self) -> int:
        return len(self.counts)

    def build(self, walkers: Citizens) -> tuple[list[list[bytes]], dict[str, tuple[int, int]]]:
        """Each citizen's signed requests, in order, and which (citizen, index) each message id is."""
        steps = len(CONVERSATION)
        requests: list[list[bytes]] = []
        ids: dict[str, tuple[int, int]] = {}
        for c, count in enumerate(self.counts):
            own: list[bytes] = []
            for j in range(count):
                number = 1 + c + (j // steps) * self.citizens
                citizen = Citizen(number=number, wa_id=self.wa_ids[c], user_id=self.user_ids[c], step=j % steps)
                request = walkers.request(citizen)
                found = _WAMID.search(request)
                if found is None:
                    raise BenchFailed("a webhook without a message id")
                ids[found.group(1).decode()] = (c, j)
                own.append(request)
            requests.append(own)
        return requests, ids

    def lanes(self, connections: int) -> list[list[tuple[int, int]]]:
        """(citizen, index) in sending order for each connection: a citizen always on the same one."""
        lanes: list[list[tuple[int, int]]] = [[] for _ in range(max(1, min(connections, self.citizens)))]
        for j in range(max(self.counts, default=0)):
            for c, count in enumerate(self.counts):
                if j < count:
                    lanes[c % len(lanes)].append((c, j))
        return lanes


@dataclass
class Ingest:
    """The burst's POSTs."""

    acknowledged: int = 0
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu: float | None = None  # cores' worth, during the burst
    client_cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


async def post_burst(
    host: str, port: int, requests: list[list[bytes]], lanes: list[list[tuple[int, int]]], server_pid: int
) -> tuple[Ingest, list[list[int]]]:
    """POST every lane's messages, each once the one before on its connection was acknowledged (a refused
    one is tried twice more). Returns the figures and each citizen's acknowledged message indexes."""
    ingest = Ingest()
    acked: list[list[int]] = [[] for _ in requests]

    async def lane(pairs: list[tuple[int, int]]) -> None:
        connection = HttpConnection(host, port)
        try:
            for c, j in pairs:
                for attempt in range(3):
                    try:
                        status = (await connection.send(requests[c][j])).status
                    except (OSError, HttpError) as error:
                        kind = type(error).__name__
                    else:
                        if status == 200:
                            ingest.acknowledged += 1
                            acked[c].append(j)
                            break
                        kind = f"HTTP {status}"
                    ingest.errors += 1
                    ingest.error_kinds[kind] += 1
                    await asyncio.sleep(0.05 * (attempt + 1))
        finally:
            await connection.close()

    server_before, client_before = _process_cpu(server_pid), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(lane(pairs) for pairs in lanes))
    ingest.seconds = max(time.perf_counter() - start, 1e-9)
    ingest.client_cpu = (time.process_time() - client_before) / ingest.seconds
    server_after = _process_cpu(server_pid)
    if server_before is not None and server_after is not None:
        ingest.server_cpu = (server_after - server_before) / ingest.seconds
    return ingest, acked


# ------------------------------------------------------------------ the Graph API stub and the checks


class DrainStub(GraphStub):
    """Bench turns' stub that also passes each read receipt's message id to `on_receipt` and notes the
    first and the last arrival of any request."""

    def __init__(self, listener: Listener, on_receipt: Callable[[str], None]) -> None:
        super().__init__(listener)
        self.on_receipt = on_receipt
        self.first_any: float | None = None
        self.last_any = 0.0

    def _answer(self, body: bytes, arrived: float) -> bytes:
        if self.first_any is None:
            self.first_any = arrived
        self.last_any = arrived
        if b'"read"' in body:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("status") == "read" and isinstance(data.get("message_id"), str):
                self.on_receipt(data["message_id"])
        return super()._answer(body, arrived)


class Recorder:
    """What reached the stub for each citizen of the target being measured, in arrival order."""

    def __init__(self) -> None:
        self.by_address: dict[str, int] = {}
        self.ids: dict[str, tuple[int, int]] = {}
        self.logs: list[list[int]] = []
        self.stray = 0
        self.replies = 0
        self.receipts = 0

    def reset(self, burst: Burst, ids: dict[str, tuple[int, int]]) -> None:
        self.by_address, self.ids = burst.by_address, ids
        self.logs = [[] for _ in range(burst.citizens)]
        self.stray = self.replies = self.receipts = 0

    def on_reply(self, address: str, message_id: str, body: dict[str, Any], arrived: float) -> None:
        citizen = self.by_address.get(address)
        if citizen is None:
            self.stray += 1
            return
        self.replies += 1
        self.logs[citizen].append(REPLY)

    def on_receipt(self, message_id: str) -> None:
        found = self.ids.get(message_id)
        if found is None:
            self.stray += 1
            return
        self.receipts += 1
        self.logs[found[0]].append(found[1])


@dataclass(frozen=True, slots=True)
class Checks:
    unanswered: int  # acknowledged messages without a read receipt
    answered_twice: int  # messages with more than one read receipt
    out_of_order: int  # citizens whose receipts came out of their messages' order, or a reply before any
    without_reply: int  # receipts not followed by a reply before the next receipt
    stray: int  # receipts or replies for no message or citizen of the burst

    @property
    def ok(self) -> bool:
        return not (self.unanswered or self.answered_twice or self.out_of_order or self.without_reply or self.stray)


def check(acked: Sequence[Sequence[int]], logs: Sequence[Sequence[int]], stray: int = 0) -> Checks:
    """Each citizen's acknowledged message indexes against what reached the stub for it (see `Recorder`)."""
    unanswered = twice = disorder = silent = 0
    for sent, log in zip(acked, logs, strict=True):
        receipts = [entry for entry in log if entry != REPLY]
        counts = Counter(receipts)
        unanswered += len(set(sent) - counts.keys())
        twice += sum(n - 1 for n in counts.values() if n > 1)
        disorder += receipts != sorted(receipts) or (bool(log) and log[0] == REPLY)
        silent += sum(1 for n, entry in enumerate(log) if entry != REPLY and (n + 1 == len(log) or log[n + 1] != REPLY))
    return Checks(unanswered, twice, disorder, silent, stray)


# ------------------------------------------------------------------ one target


@dataclass
class Drained:
    """One target: the burst into `serve --no-worker`, then `workers` worker processes working it off."""

    name: str
    workers: int
    messages: int
    citizens: int
    ingest: Ingest
    drained: bool  # both queues empty before the time limit
    seconds: float  # workers started → the last Graph API call
    startup_seconds: float | None  # workers started → a message found worked off (a poll, or the first send)
    inbox_seconds: float | None  # workers started → the first poll that found the inbox empty (≤ seconds)
    receipts: int
    replies: int
    checks: Checks
    peak_rss_kib: dict[str, int | None]
    cpu_seconds: dict[str, float | None]  # each process's CPU time while the workers ran
    samples: list[tuple[float, int, int]]  # (seconds since the workers started, inbox waiting, outbox waiting)

    @property
    def per_second(self) -> float:
        """Acknowledged messages worked off per second of the drain once the workers had started."""
        working = self.seconds - (self.startup_seconds or 0.0)
        return self.ingest.acknowledged / working if working > 0 else 0.0

    @property
    def sends(self) -> int:
        return self.receipts + self.replies

    @property
    def budget_floor_seconds(self) -> float:
        """The least time the sends could take at the number's send budget."""
        return self.sends / SEND_BUDGET


@dataclass
class DrainRun:
    targets: list[Drained]
    database: str
    concurrency: int
    notes: list[str] = field(default_factory=list)

    @property
    def scaling(self) -> float | None:
        """Messages drained per second with two worker processes over one."""
        one = next((t for t in self.targets if t.workers == 1), None)
        two = next((t for t in self.targets if t.workers == 2), None)
        if one is None or two is None or not one.per_second:
            return None
        return two.per_second / one.per_second

    @property
    def ok(self) -> bool:
        return all(t.drained and t.checks.ok and t.ingest.acknowledged == t.messages for t in self.targets)


async def _poll(url: str, started: float, limit: float) -> tuple[bool, float | None, list[tuple[float, int, int]]]:
    """Poll the queues until both are empty or `limit` s after `started` (perf_counter)."""
    engine = create_engine(url)
    samples: list[tuple[float, int, int]] = []
    inbox_empty: float | None = None
    try:
        while True:
            found = await queues(engine, datetime.now(UTC))
            at = time.perf_counter() - started
            waiting_in, waiting_out = found["inbox"].waiting, found["outbox"].waiting
            samples.append((round(at, 3), waiting_in, waiting_out))
            if inbox_empty is None and not waiting_in:
                inbox_empty = at
            if not waiting_in and not waiting_out:
                return True, inbox_empty, samples
            if at > limit:
                return False, inbox_empty, samples
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await engine.dispose()


async def _drain_target(
    plan: Plan,
    burst: Burst,
    stub: DrainStub,
    recorder: Recorder,
    env: dict[str, str],
    url: str,
    workers: int,
    *,
    concurrency: int,
    limit: float,
) -> Drained:
    name = f"{workers} worker{'s' if workers > 1 else ''}"
    slug = f"drain-{workers}"
    web = await asyncio.to_thread(
        _start, slug, [*_CLI, "serve", "--no-worker"], env, plan.host, plan.workdir, "/health"
    )
    processes = [web]
    try:
        walkers = Citizens(plan.host, env["SEVAMITRA_WHATSAPP_APP_SECRET"])
        walkers.port = web.port
        requests, ids = await asyncio.to_thread(burst.build, walkers)
        recorder.reset(burst, ids)
        stub.first_any, stub.last_any = None, 0.0
        lanes = burst.lanes(concurrency)
        ingest, acked = await post_burst(plan.host, web.port, requests, lanes, web.process.pid)
        del requests
        print(
            f"drain, {name}: {ingest.acknowledged:,} of {burst.messages:,} acknowledged in {ingest.seconds:.1f} s "
            f"({ingest.per_second:,.0f}/s); starting the workers",
            file=sys.stderr,
        )
        cpu_before = {"serve": _process_cpu(web.process.pid)}
        started = time.perf_counter()
        for n in range(workers):
            log = plan.workdir / f"{slug}-worker-{n + 1}.log"
            with log.open("wb") as out:
                process = await asyncio.to_thread(subprocess.Popen, [*_CLI, "worker"], env=env, stdout=out, stderr=out)
            processes.append(Target(name=f"worker {n + 1}", process=process, port=0, log=log))
        drained, inbox_seconds, samples = await _poll(url, started, limit)
        await asyncio.sleep(POLL_SECONDS)  # answers to the last sends are on their way back
        peak: dict[str, int | None] = {}
        cpu: dict[str, float | None] = {}
        for target in processes:
            label = "serve" if target is web else target.name
            if target.process.poll() is not None:
                raise BenchFailed(f"drain, {name}: {label} exited during the run:\n{_tail(target.log)}")
            peak[label] = _peak_rss_kib(target.process.pid)
            now, before = _process_cpu(target.process.pid), cpu_before.get(label, 0.0)
            cpu[label] = None if now is None or before is None else now - before
    finally:
        for target in processes:
            await asyncio.to_thread(_stop, target)
    first_call = None if stub.first_any is None else stub.first_any - started
    seconds = (stub.last_any - started) if drained and stub.last_any > started else time.perf_counter() - started
    return Drained(
        name=name,
        workers=workers,
        messages=burst.messages,
        citizens=burst.citizens,
        ingest=ingest,
        drained=drained,
        seconds=seconds,
        startup_seconds=_capped(startup(samples), first_call, seconds),
        inbox_seconds=_capped(inbox_seconds, seconds),
        receipts=recorder.receipts,
        replies=recorder.replies,
        checks=check(acked, recorder.logs, recorder.stray),
        peak_rss_kib=peak,
        cpu_seconds=cpu,
        samples=samples,
    )


def _capped(polled: float | None, *bounds: float | None) -> float | None:
    """A time seen by polling, at most each of `bounds`: every message is sent a read receipt, so work had
    begun by the first Graph API call, and the inbox was empty by the last."""
    return None if polled is None else min([polled, *(b for b in bounds if b is not None)])


def startup(samples: Sequence[tuple[float, int, int]]) -> float | None:
    """When the first poll found a message worked off: fewer waiting in the inbox than at first, or replies
    waiting in the outbox."""
    if not samples:
        return None
    first = samples[0][1]
    return next((at for at, waiting_in, waiting_out in samples if waiting_in < first or waiting_out), None)


def default_timeout(messages: int) -> float:
    """Long enough for a slow machine: at least 2 minutes, or 20 messages a second."""
    return max(120.0, messages / 20)


def measure_drain(
    *,
    messages: int = MESSAGES,
    citizens: int = CITIZENS,
    workers: Sequence[int] | None = None,
    concurrency: int = CONCURRENCY,
    database_url: str | None = None,
    timeout: float | None = None,
    host: str = "127.0.0.1",
) -> DrainRun:
    """Measure each worker count on a fresh database in turn; no printing but progress on stderr."""
    postgres = database_url is not None and database_url.startswith("postgres")
    counts = list(workers or ((1, 2) if postgres else (1,)))
    notes: list[str] = []
    if not postgres and any(n != 1 for n in counts):
        counts = [1]
        notes.append("one worker process only: SQLite takes one; give --database-url postgresql://... for more")
    burst = Burst(messages, citizens)
    limit = timeout or default_timeout(messages)
    app_secret = "bench-" + secrets.token_hex(16)

    async def run(workdir: Path) -> list[Drained]:
        plan = Plan(host=host, workdir=workdir, warmup=0.0, seconds=0.0, citizens=None)
        recorder = Recorder()
        stub = DrainStub(recorder.on_reply, recorder.on_receipt)
        graph_url = f"http://{host}:{await stub.start(host)}"
        found: list[Drained] = []
        try:
            for n in counts:
                async with _database(database_url, plan, app_secret, f"drain-{n}") as url:
                    env = _env(url, app_secret, graph_url, workdir)
                    found.append(
                        await _drain_target(
                            plan, burst, stub, recorder, env, url, n, concurrency=concurrency, limit=limit
                        )
                    )
        finally:
            await stub.close()
        return found

    with (
        tempfile.TemporaryDirectory(prefix="sevamitra-bench-drain-") as tmp,
        asyncio.Runner(loop_factory=_event_loop_factory()) as runner,
    ):
        targets = runner.run(run(Path(tmp)))
    if postgres:
        kind = "PostgreSQL (a fresh schema for each target)"
    else:
        kind = "SQLite (a fresh file)" if database_url is None else "SQLite"
    return DrainRun(targets=targets, database=kind, concurrency=concurrency, notes=notes)


# ------------------------------------------------------------------ report


def _opt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f}"


def render(run: DrainRun) -> str:
    first = run.targets[0] if run.targets else None
    lines = [
        "sevamitra bench drain: a burst of signed text messages into `sevamitra serve --no-worker`, then worker",
        "processes started; drained: nothing pending in the inbox, nothing waiting in the outbox",
    ]
    if first is not None:
        each = first.messages / max(first.citizens, 1)
        lines.append(
            f"({first.messages:,} messages from {first.citizens:,} citizens, about {each:.0f} each, in order; "
            f"over {run.concurrency} keep-alive connections)"
        )
    header = (
        f"{'target':<11}{'acked':>9}{'ack/s':>8}{'burst s':>9}{'drain s':>9}{'start-up s':>11}{'inbox s':>9}"
        f"{'msgs/s':>8}{'receipts':>10}{'replies':>9}{'serve MiB':>10}{'worker MiB':>11}{'worker CPU':>11}  checks"
    )
    lines += ["", header, "-" * len(header)]
    for t in run.targets:
        workers = [k for k in t.peak_rss_kib if k != "serve"]
        worker_rss = "/".join(_mib(t.peak_rss_kib[k]) for k in workers) or "-"
        spent = [t.cpu_seconds[k] for k in workers]
        worker_cpu = "-" if None in spent else f"{100 * sum(s or 0.0 for s in spent) / max(t.seconds, 1e-9):.0f}%"
        lines.append(
            f"{t.name:<11}{t.ingest.acknowledged:>9}{t.ingest.per_second:>8.0f}{t.ingest.seconds:>9.1f}"
            f"{t.seconds:>9.2f}{_opt(t.startup_seconds, '.2f'):>11}{_opt(t.inbox_seconds, '.2f'):>9}"
            f"{t.per_second:>8.0f}{t.receipts:>10}{t.replies:>9}{_mib(t.peak_rss_kib.get('serve')):>10}"
            f"{worker_rss:>11}{worker_cpu:>11}  {'OK' if t.checks.ok and t.drained else 'FAIL'}"
        )
    lines += [
        "(drain s: workers started -> the last Graph API call, both queues then found empty; start-up s: -> the",
        " first Graph API call or the first poll that found a message worked off; inbox s: -> the inbox found",
        " empty (the queues are polled every 0.2 s); msgs/s: acknowledged messages / (drain s - start-up s);",
        " MiB: peak RSS (VmHWM); worker CPU: all worker processes, % of one core over the drain, start-up included)",
        "",
    ]
    for t in run.targets:
        c = t.checks
        lines.append(
            f"{t.name}: {'drained' if t.drained else 'NOT drained in time'}; {c.unanswered} unanswered, "
            f"{c.answered_twice} answered twice, {c.out_of_order} citizens out of order, {c.without_reply} "
            f"receipts without a reply, {c.stray} stray; {t.sends:,} sends take at least "
            f"{t.budget_floor_seconds:.1f} s at the send budget of {SEND_BUDGET:,}/s"
        )
        if t.ingest.error_kinds:
            kinds = ", ".join(f"{k} x{n}" for k, n in t.ingest.error_kinds.most_common())
            lines.append(f"  burst errors: {kinds}")
    if (scaling := run.scaling) is not None:
        lines.append(f"scaling 2 workers / 1 worker (messages drained per second) = {scaling:.2f}")
    where = machine()
    lines += [
        *run.notes,
        f"database: {run.database}; Graph API: a recording stub in the bench process",
        f"machine: {where['cpus']} CPUs ({where['cpus_usable']} usable), {where['python']}, {where['platform']}",
    ]
    return "\n".join(lines)


def as_json(run: DrainRun) -> dict[str, Any]:
    def target(t: Drained) -> dict[str, Any]:
        return {
            "name": t.name,
            "workers": t.workers,
            "messages": t.messages,
            "citizens": t.citizens,
            "burst": {
                "acknowledged": t.ingest.acknowledged,
                "seconds": round(t.ingest.seconds, 4),
                "per_second": round(t.ingest.per_second, 1),
                "errors": t.ingest.errors,
                "error_kinds": dict(t.ingest.error_kinds),
                "server_cpu": t.ingest.server_cpu,
                "client_cpu": t.ingest.client_cpu,
            },
            "drained": t.drained,
            "seconds": round(t.seconds, 4),
            "startup_seconds": t.startup_seconds,
            "inbox_seconds": None if t.inbox_seconds is None else round(t.inbox_seconds, 3),
            "per_second": round(t.per_second, 1),
            "receipts": t.receipts,
            "replies": t.replies,
            "budget_floor_seconds": round(t.budget_floor_seconds, 3),
            "checks": {
                "unanswered": t.checks.unanswered,
                "answered_twice": t.checks.answered_twice,
                "out_of_order": t.checks.out_of_order,
                "without_reply": t.checks.without_reply,
                "stray": t.checks.stray,
                "ok": t.checks.ok,
            },
            "peak_rss_kib": t.peak_rss_kib,
            "cpu_seconds": t.cpu_seconds,
            "samples": t.samples,
        }

    return {
        "benchmark": "drain",
        "targets": [target(t) for t in run.targets],
        "scaling_2_workers_over_1": run.scaling,
        "ok": run.ok,
        "send_budget_per_second": SEND_BUDGET,
        "concurrency": run.concurrency,
        "database": run.database,
        "notes": run.notes,
        "machine": machine(),
    }


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def svg(figures: dict[str, Any]) -> str:
    """Messages waiting in the inbox (solid) and the outbox (dashed) over the drain, a colour per target."""
    targets = figures.get("targets", [])
    top_x = max([1.0, *(float(s[0]) for t in targets for s in t.get("samples", []))])
    top_y = max([1.0, *(float(max(s[1], s[2])) for t in targets for s in t.get("samples", []))])
    width, height, pad = 560, 260, 56

    def x(v: float) -> float:
        return pad + (width - pad - 16) * v / top_x

    def y(v: float) -> float:
        return height - (height - 36) * v / top_y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 48}" font-size="11">',
        f'<text x="{pad}" y="16" font-weight="bold">messages waiting during the drain (inbox solid, outbox dashed)'
        "</text>",
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(top_x)}" y2="{y(0)}" stroke="black"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(0)}" y2="{y(top_y)}" stroke="black"/>',
        f'<text x="{x(0) - 4}" y="{y(top_y) + 4}" text-anchor="end">{top_y:,.0f}</text>',
        f'<text x="{x(top_x)}" y="{y(0) + 14}" text-anchor="end">{top_x:.1f} s after the workers started</text>',
    ]
    for n, (colour, t) in enumerate(zip(_COLOURS, targets, strict=False)):
        samples = t.get("samples", [])
        for column, dash in ((1, ""), (2, ' stroke-dasharray="5"')):
            points = " ".join(f"{x(s[0]):.1f},{y(s[column]):.1f}" for s in samples)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        label = f"{t.get('name', '')}: {t.get('seconds', 0):.1f} s, {t.get('per_second', 0):,.0f} messages/s"
        parts.append(f'<text x="{pad + 250 * n}" y="{height + 32}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------ the command


def drain(
    *,
    messages: int = MESSAGES,
    citizens: int = CITIZENS,
    workers: Sequence[int] | None = None,
    concurrency: int = CONCURRENCY,
    database_url: str | None = None,
    json_path: str | Path | None = None,
    timeout: float | None = None,
) -> DrainRun:
    """Measure, print the table; with `json_path` also write the figures there and a plot beside it (`.svg`).
    Exits non-zero when a target fails, does not drain in time, or a check fails."""
    if messages < 1 or citizens < 1 or concurrency < 1 or (workers is not None and min(workers, default=1) < 1):
        raise SystemExit("sevamitra bench drain: messages, citizens, concurrency and workers must be >= 1")
    try:
        run = measure_drain(
            messages=messages,
            citizens=citizens,
            workers=workers,
            concurrency=concurrency,
            database_url=database_url,
            timeout=timeout,
        )
    except BenchFailed as error:
        print(f"FAIL: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    print(render(run))
    if json_path is not None:
        path = Path(json_path)
        figures = as_json(run)
        path.write_text(json.dumps(figures, indent=2) + "\n")
        path.with_suffix(".svg").write_text(svg(figures))
        print(f"figures in {path}, plot in {path.with_suffix('.svg')}")
    if not run.ok:
        print("FAIL: not every message was acknowledged, drained and answered once, in order")
        raise SystemExit(1)
    return run


def worker_counts(text: str | None) -> list[int] | None:
    """`--workers 1,2` as [1, 2]; None when not given."""
    if not text:
        return None
    return [int(part) for part in text.split(",") if part.strip()]


def run_from_args(args: argparse.Namespace) -> None:
    """`sevamitra bench drain`, from the options of `sevamitra bench`."""
    drain(
        messages=args.messages or MESSAGES,
        citizens=args.citizens or CITIZENS,
        workers=worker_counts(args.workers),
        concurrency=args.concurrency,
        database_url=args.database_url,
        json_path=args.json_path,
    )
