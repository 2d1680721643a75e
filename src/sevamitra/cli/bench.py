"""`sevamitra bench ingest`: signed webhook deliveries per second, acknowledged durably.

Two targets, each a uvicorn subprocess with the same options: the platform (`sevamitra serve
--no-worker` on a fresh SQLite file, or on `database_url`) and a bare ASGI app that reads the
body and answers 200. The same pre-built, pre-signed Meta text-message updates go to both, over
keep-alive connections of a minimal HTTP/1.1 client on asyncio streams (httpx would be the
bottleneck). After the platform's run, the rows in its inbox are counted: every 200 must be there.

Run the baseline alone with `python -m sevamitra.cli.bench baseline --port N`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import importlib.util
import json
import math
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sevamitra.adapters.whatsapp.signature import sign

# ------------------------------------------------------------------ minimal HTTP/1.1 client

_MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The server's answer was not HTTP/1.1 we can read."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in order
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


def build_request(
    method: str, path: str, host: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
) -> bytes:
    """The bytes of one HTTP/1.1 request with a Content-Length body (keep-alive is HTTP/1.1's default)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers)]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpConnection:
    """One keep-alive connection that sends prepared requests and reads their responses.

    Opens the socket on first use and again after the server closes it. A request on a reused
    connection that dies before any byte of the answer is sent once more on a fresh one (the
    server closed an idle connection), as HTTP clients do. Not for HEAD requests or pipelining.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.connects = 0  # TCP connections opened so far
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> Response:
        """Send one prepared request (see `build_request`) and read its whole response."""
        reused = self._writer is not None
        try:
            return await self._exchange(request)
        except _ClosedBeforeAnswer:
            if not reused:
                raise HttpError("connection closed before any response") from None
        try:
            return await self._exchange(request)
        except _ClosedBeforeAnswer:
            raise HttpError("connection closed before any response") from None

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _exchange(self, request: bytes) -> Response:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=_MAX_HEAD)
            self.connects += 1
        reader, writer = self._reader, self._writer
        try:
            try:
                writer.write(request)
                await writer.drain()
            except OSError as error:
                raise _ClosedBeforeAnswer from error
            response, keep = await _read_response(reader)
        except BaseException:
            await self.close()
            raise
        if not keep:
            await self.close()
        return response


class _ClosedBeforeAnswer(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """Read one response; the flag says whether the connection may carry another request."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise _ClosedBeforeAnswer from None
            raise HttpError("connection closed inside the response head") from error
        except ConnectionResetError:
            raise _ClosedBeforeAnswer from None
        except asyncio.LimitOverrunError as error:
            raise HttpError("response head too large") from error
        version, status, reason, headers = _parse_head(head)
        if not (100 <= status < 200) or status == 101:
            break  # 1xx answers (100 Continue, 103 Early Hints) precede the real one
    names = dict(headers)
    connection = names.get("connection", "").lower()
    keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    if status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in names.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif (length := names.get("content-length")) is not None:
        if not length.isdigit():
            raise HttpError(f"bad Content-Length {length!r}")
        body = await _read_exactly(reader, int(length))
    else:
        body, keep = await reader.read(), False  # the body runs to the end of the connection
    return Response(status=status, reason=reason, headers=headers, body=body), keep


def _parse_head(head: bytes) -> tuple[str, int, str, tuple[tuple[str, str], ...]]:
    lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise HttpError(f"bad status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HttpError(f"bad header line {line!r}")
        headers.append((name.lower(), value.strip()))
    return version, int(code), reason, tuple(headers)


async def _read_exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as error:
        raise HttpError("connection closed inside the response body") from error


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        line = await _read_line(reader)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError(f"bad chunk size {size_text!r}") from None
        if size == 0:
            while await _read_line(reader):  # trailers, up to the empty line
                pass
            return b"".join(chunks)
        chunks.append(await _read_exactly(reader, size))
        if await _read_exactly(reader, 2) != b"\r\n":
            raise HttpError("chunk not followed by CRLF")


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return (await reader.readuntil(b"\r\n"))[:-2]
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        raise HttpError("bad chunked body") from error


# ------------------------------------------------------------------ the baseline target

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def baseline_app(
    scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    """The least an ASGI app can do for a webhook: read the whole body, answer 200 "OK"."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    _ = b"".join(chunks)  # what a real app does with the body; the baseline only pays for it
    headers = [(b"content-length", b"2"), (b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"OK"})


def run_uvicorn(app: Any, host: str, port: int) -> None:
    """The uvicorn options both targets run under (those of `sevamitra serve`)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


# ------------------------------------------------------------------ deliveries

WEBHOOK_PATH = "/webhooks/whatsapp"
BENCH_WABA_ID = "102290129340398"
BENCH_PHONE_NUMBER_ID = "106540352242922"
BENCH_DISPLAY_NUMBER = "919552300009"

_NAMES = (
    "Lakshmi Devi", "Venkata Ramana", "Srinivas Rao", "Padmavathi", "Ravi Kumar", "Sai Teja",
    "Anjali", "Mohammed Irfan", "Sunitha Reddy", "Nagaraju", "Bhavani", "Suresh Babu",
    "లక్ష్మి", "వెంకటేశ్", "సుజాత", "రాజు", "सुनीता", "Ayesha Begum", "Prasad", "Kavya",
)  # fmt: skip
_TEXTS = (
    "Hi", "Namaste", "నమస్కారం", "1", "2", "3", "yes", "no", "menu", "ఆదాయ ధృవీకరణ పత్రం",
    "I want to apply for an income certificate", "Caste certificate status please",
    "మా ఊరు పేరు కొత్తపల్లి, మండలం గుంటూరు", "500001", "15-08-1987", "धन्यवाद", "help",
    "AP2025INC0012345", "ration card lo peru marchali", "Thank you",
)  # fmt: skip
# Meta's shape for an inbound text message; JSON with non-ASCII escaped, as Meta sends it.
_TEMPLATE = (
    '{"object":"whatsapp_business_account","entry":[{"id":"%(waba)s","changes":[{"value":'
    '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"%(display)s",'
    '"phone_number_id":"%(phone_id)s"},"contacts":[{"profile":{"name":%(name)s},"wa_id":"%(wa_id)s"}],'
    '"messages":[{"from":"%(wa_id)s","id":"%(wamid)s","timestamp":"%(timestamp)s","type":"text",'
    '"text":{"body":%(text)s}}]},"field":"messages"}]}]}'
)


class Deliveries:
    """Distinct, signed Meta text-message updates from a few hundred citizens, built ahead of time.

    `tails[i]` is everything of request i after the request line, Host and Content-Type: its
    Content-Length and X-Hub-Signature-256 headers, the blank line and the body.
    """

    def __init__(self, app_secret: str, *, citizens: int = 300, run_id: str | None = None) -> None:
        self.app_secret = app_secret
        self.run_id = run_id or secrets.token_hex(4)
        self.wa_ids = [f"91{9_000_000_000 + (i * 7_919_113) % 999_999_999}" for i in range(citizens)]
        self.tails: list[bytes] = []
        self._timestamp = str(int(time.time()))
        self._names = [json.dumps(name) for name in _NAMES]
        self._texts = [json.dumps(text) for text in _TEXTS]

    def body(self, i: int) -> bytes:
        citizen = i % len(self.wa_ids)
        wa_id = self.wa_ids[citizen]
        wamid = "wamid." + base64.b64encode(f"\x15\x02{wa_id}\x12{self.run_id}{i:010d}".encode()).decode()
        fields = {
            "waba": BENCH_WABA_ID,
            "display": BENCH_DISPLAY_NUMBER,
            "phone_id": BENCH_PHONE_NUMBER_ID,
            "name": self._names[citizen % len(self._names)],
            "wa_id": wa_id,
            "wamid": wamid,
            "timestamp": self._timestamp,
            "text": self._texts[(i * 31 + citizen) % len(self._texts)],
        }
        return (_TEMPLATE % fields).encode()

    def extend_to(self, count: int) -> None:
        """Build and sign deliveries until there are `count`."""
        for i in range(len(self.tails), count):
            body = self.body(i)
            signature = sign(body, self.app_secret)
            head = f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {signature}\r\n\r\n"
            self.tails.append(head.encode() + body)


def request_prefix(host: str, port: int) -> bytes:
    return f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n".encode()


# ------------------------------------------------------------------ load


@dataclass
class Phase:
    """What one timed (or warm-up) stretch of load achieved."""

    acknowledged: int = 0  # 200 answers
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, of the 200 answers
    seconds: float = 0.0
    ran_out: bool = False  # the pre-built deliveries ended the phase before its time was up
    client_cpu: float = 0.0  # fraction of one core used by this process
    server_cpu: float | None = None  # likewise for the server process, where /proc says
    others_cpu: float | None = None  # cores' worth used by every other process: noise, where /proc says

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Load:
    """`concurrency` keep-alive connections sending deliveries in order from a shared cursor.

    With `distinct` each delivery goes out at most once and running out ends the phase early;
    without, the deliveries are sent again from the first once all have gone.
    """

    def __init__(
        self,
        host: str,
        port: int,
        deliveries: Deliveries,
        *,
        concurrency: int,
        distinct: bool,
        server_pid: int | None = None,
    ) -> None:
        self.connections = [HttpConnection(host, port) for _ in range(concurrency)]
        self.prefix = request_prefix(host, port)
        self.deliveries = deliveries
        self.server_pid = server_pid
        self.distinct = distinct
        self.cursor = 0  # deliveries sent so far, over all phases

    async def run(self, seconds: float) -> Phase:
        phase = Phase()
        server_before, client_before, busy_before = _process_cpu(self.server_pid), time.process_time(), _busy_cpu()
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(self._drive(c, deadline, phase) for c in self.connections))
        phase.seconds = max(time.perf_counter() - start, 1e-9)
        phase.client_cpu = (time.process_time() - client_before) / phase.seconds
        server_after, busy_after = _process_cpu(self.server_pid), _busy_cpu()
        if server_before is not None and server_after is not None:
            phase.server_cpu = (server_after - server_before) / phase.seconds
            if busy_before is not None and busy_after is not None:
                busy = (busy_after - busy_before) / phase.seconds
                phase.others_cpu = max(0.0, busy - phase.server_cpu - phase.client_cpu)
        return phase

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()

    async def _drive(self, connection: HttpConnection, deadline: float, phase: Phase) -> None:
        tails, prefix, clock = self.deliveries.tails, self.prefix, time.perf_counter
        while clock() < deadline:
            index = self.cursor
            if index >= len(tails):
                if self.distinct:
                    phase.ran_out = True
                    return
                index %= len(tails)
            self.cursor += 1
            tail = tails[index]
            sent = clock()
            try:
                response = await connection.send(prefix + tail)
            except (OSError, HttpError) as error:
                phase.errors += 1
                phase.error_kinds[type(error).__name__] += 1
                await asyncio.sleep(0.01)  # a dead server must not turn the loop into a busy spin
                continue
            if response.status == 200:
                phase.acknowledged += 1
                phase.latencies.append(clock() - sent)
            else:
                phase.errors += 1
                phase.error_kinds[f"HTTP {response.status}"] += 1


def _process_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process and its living descendants have used, from /proc on Linux."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_process_cpu(child) or 0.0 for child in _children(pid))


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            children += [int(child) for child in (task / "children").read_text().split()]
    return children


def _busy_cpu() -> float | None:
    """CPU seconds the whole machine has spent busy (not idle, not waiting on I/O), from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle_and_iowait = ticks[3] + ticks[4]
    guest = sum(ticks[8:10])  # already counted in user and nice
    return (sum(ticks) - idle_and_iowait - guest) / os.sysconf("SC_CLK_TCK")


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop

    return uvloop.new_event_loop


# ------------------------------------------------------------------ targets


class BenchFailed(Exception):
    """The benchmark could not measure, or measured a broken promise."""


@dataclass
class Target:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _start(name: str, argv: list[str], env: dict[str, str], host: str, workdir: Path, ready_path: str) -> Target:
    port = _free_port(host)
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        command = [*argv, "--host", host, "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)  # noqa: S603 (our own argv)
    target = Target(name=name, process=process, port=port, log=log)
    try:
        _wait_until_answering(target, host, ready_path)
    except BaseException:
        _stop(target)
        raise
    return target


def _wait_until_answering(target: Target, host: str, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            raise BenchFailed(f"{target.name} exited with {target.process.returncode}:\n{_tail(target.log)}")
        connection = http.client.HTTPConnection(host, target.port, timeout=2)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise BenchFailed(f"{target.name} did not answer within {timeout:.0f} s:\n{_tail(target.log)}")


def _stop(target: Target) -> None:
    target.process.terminate()
    try:
        target.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        target.process.kill()
        target.process.wait()


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _running(
    name: str, argv: list[str], env: dict[str, str], host: str, workdir: Path, ready_path: str
) -> Iterator[Target]:
    """A target server on a free port, answering 200 at `ready_path`; stopped on the way out."""
    target = _start(name, argv, env, host, workdir, ready_path)
    try:
        yield target
    finally:
        _stop(target)


def _sqlite_path(database_url: str) -> Path | None:
    """The file of an SQLite URL (`sqlite+aiosqlite:///relative`, `:////absolute`), else None."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or not scheme.startswith("sqlite") or not rest.startswith("/"):
        return None
    database = rest[1:].split("?", 1)[0]
    if database in ("", ":memory:"):
        return None
    return Path(database).resolve()


def _count_inbox(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        count: int = connection.execute("SELECT count(*) FROM inbox").fetchone()[0]
        return count


# ------------------------------------------------------------------ the benchmark


@dataclass
class TargetResult:
    name: str
    warmup: Phase
    timed: Phase
    connects: int  # TCP connections opened over both phases; == concurrency when keep-alive held
    sent: int  # deliveries sent over both phases
    distinct: int  # how many of them were different


@dataclass
class Durability:
    acknowledged: int  # 200 answers from the platform, warm-up included
    stored: int | None  # new rows in its inbox, None where not counted
    note: str

    @property
    def failed(self) -> bool:
        return self.stored is not None and self.stored < self.acknowledged


def _measure(
    target: Target,
    host: str,
    deliveries: Deliveries,
    *,
    seconds: float,
    warmup: float,
    concurrency: int,
    distinct: bool,
) -> TargetResult:
    async def measure() -> TargetResult:
        load = Load(
            host, target.port, deliveries, concurrency=concurrency, server_pid=target.process.pid, distinct=distinct
        )
        try:
            deliveries.extend_to(max(len(deliveries.tails), 20_000, 100 * concurrency))
            warm = await load.run(warmup)
            if distinct:  # enough for twice the warm-up's rate, built now, outside any window
                enough = load.cursor + math.ceil(2 * warm.per_second * seconds) + 100 * concurrency
                deliveries.extend_to(max(len(deliveries.tails), enough))
            timed = await load.run(seconds)
        finally:
            await load.close()
        return TargetResult(
            name=target.name,
            warmup=warm,
            timed=timed,
            connects=sum(c.connects for c in load.connections),
            sent=load.cursor,
            distinct=min(load.cursor, len(deliveries.tails)),
        )

    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        result = runner.run(measure())
    if target.process.poll() is not None:
        raise BenchFailed(f"{target.name} exited during the run:\n{_tail(target.log)}")
    return result


def _platform_env(database_url: str, app_secret: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SEVAMITRA_ENV": "dev",
            "SEVAMITRA_DATABASE_URL": database_url,
            "SEVAMITRA_WHATSAPP_APP_SECRET": app_secret,
            "SEVAMITRA_WHATSAPP_VERIFY_TOKEN": "bench-" + secrets.token_hex(8),
            "SEVAMITRA_WHATSAPP_ACCESS_TOKEN": "bench-" + secrets.token_hex(8),
            "SEVAMITRA_WHATSAPP_PHONE_NUMBER_ID": BENCH_PHONE_NUMBER_ID,
            "SEVAMITRA_WHATSAPP_DISPLAY_PHONE_NUMBER": BENCH_DISPLAY_NUMBER,
            "SEVAMITRA_GRAPH_API_URL": "http://127.0.0.1:9",  # never called: the worker is off
            "SEVAMITRA_EMULATOR_ENABLED": "false",
        }
    )
    return env


_CLI = [sys.executable, "-c", "from sevamitra.cli.main import main; main()"]


@dataclass
class Figures:
    """Everything one `bench ingest` run measured."""

    platform: TargetResult
    baseline: TargetResult
    durability: Durability
    database: str  # the kind of database, never its credentials
    processes: int  # the platform's web processes (the baseline runs one)
    concurrency: int
    warmup_seconds: float
    seconds: float

    @property
    def ratio(self) -> float | None:
        """Platform over baseline, in acknowledged deliveries per second of the timed windows."""
        baseline = self.baseline.timed.per_second
        return self.platform.timed.per_second / baseline if baseline else None


def ingest(
    *,
    seconds: float = 10.0,
    concurrency: int = 32,
    database_url: str | None = None,
    json_path: str | Path | None = None,
    warmup: float = 1.0,
    host: str = "127.0.0.1",
    processes: int = 1,
) -> Figures:
    """Measure both targets; print the table, the ratio and the durability check.

    Exits non-zero when a target fails, or when the platform acknowledged more than it stored.
    """
    if seconds <= 0 or warmup < 0 or concurrency < 1:
        raise SystemExit("sevamitra bench: seconds must be > 0, warm-up >= 0 and concurrency >= 1")
    try:
        figures = measure_ingest(
            seconds=seconds,
            concurrency=concurrency,
            database_url=database_url,
            warmup=warmup,
            host=host,
            processes=processes,
        )
    except BenchFailed as error:
        print(f"FAIL: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    print(render(figures))
    if json_path is not None:
        Path(json_path).write_text(json.dumps(as_json(figures), indent=2) + "\n")
    if figures.durability.failed:
        print(
            f"FAIL: the platform acknowledged {figures.durability.acknowledged} deliveries "
            f"but its inbox holds {figures.durability.stored} of them"
        )
        raise SystemExit(1)
    return figures


def measure_ingest(
    *,
    seconds: float,
    concurrency: int,
    database_url: str | None,
    warmup: float,
    host: str = "127.0.0.1",
    processes: int = 1,
) -> Figures:
    """Run the platform (`processes` web processes), then the baseline (one), each under uvicorn in
    subprocesses; no printing."""
    app_secret = "bench-" + secrets.token_hex(16)
    deliveries = Deliveries(app_secret)
    with tempfile.TemporaryDirectory(prefix="sevamitra-bench-") as tmp:
        workdir = Path(tmp)
        url = database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        env = _platform_env(url, app_secret)
        # `serve --no-worker` never converses; left on, a first start embeds the catalogue in a background
        # thread for tens of seconds (until it is cached), on a core the measurement needs
        env["SEVAMITRA_ASSISTANT_EMBEDDINGS"] = "false"
        migrated = subprocess.run([*_CLI, "migrate"], env=env, capture_output=True, check=False)  # noqa: S603 (our own argv)
        if migrated.returncode != 0:
            raise BenchFailed(f"`sevamitra migrate` failed:\n{migrated.stderr.decode(errors='replace')[-2000:]}")
        sqlite_file = _sqlite_path(url)
        before = _count_inbox(sqlite_file) if sqlite_file else 0

        serve = [*_CLI, "serve", "--no-worker", "--processes", str(processes)]
        with _running("platform", serve, env, host, workdir, "/health") as target:
            platform_result = _measure(
                target, host, deliveries, seconds=seconds, warmup=warmup, concurrency=concurrency, distinct=True
            )
        acknowledged = platform_result.warmup.acknowledged + platform_result.timed.acknowledged
        if sqlite_file is not None:
            stored = _count_inbox(sqlite_file) - before
            where = "its fresh SQLite file" if database_url is None else sqlite_file
            durability = Durability(acknowledged, stored, f"rows counted in {where} after the server stopped")
        else:
            durability = Durability(acknowledged, None, "not counted: the bench counts rows of SQLite files only")

        baseline = [sys.executable, "-m", "sevamitra.cli.bench", "baseline"]
        with _running("baseline", baseline, dict(os.environ), host, workdir, "/") as target:
            baseline_result = _measure(
                target, host, deliveries, seconds=seconds, warmup=warmup, concurrency=concurrency, distinct=False
            )
    return Figures(
        platform=platform_result,
        baseline=baseline_result,
        durability=durability,
        database=_database_kind(url, fresh=database_url is None),
        processes=processes,
        concurrency=concurrency,
        warmup_seconds=warmup,
        seconds=seconds,
    )


def _database_kind(url: str, *, fresh: bool) -> str:
    scheme = url.partition("://")[0]
    if scheme.startswith("sqlite"):
        return f"{scheme} ({'a fresh file in a temp dir, ' if fresh else ''}WAL, synchronous=FULL)"
    return scheme


def machine() -> dict[str, Any]:
    """Where the figures were measured."""

    def installed(name: str) -> bool:
        return importlib.util.find_spec(name) is not None

    loop = "uvloop" if installed("uvloop") else "asyncio"
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "server": f"uvicorn, 1 worker, loop=auto ({loop}), http=auto "
        f"({'httptools' if installed('httptools') else 'h11'}), log_level=warning, no access log",
        "client": f"asyncio streams on {loop}, one process",
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def render(figures: Figures) -> str:
    """The table, the ratio, the durability check and the machine, as printed."""
    results = (figures.platform, figures.baseline)
    durability = figures.durability
    where = machine()
    header = (
        f"{'target':<10}{'acknowledged':>13}{'seconds':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'server CPU':>12}{'client CPU':>12}{'others CPU':>12}"
    )
    lines = [
        f"sevamitra bench ingest: signed WhatsApp webhook deliveries over {figures.concurrency} keep-alive "
        f"connections; per target {figures.warmup_seconds:g} s warm-up, then {figures.seconds:g} s timed",
        "",
        header,
        "-" * len(header),
    ]
    for result in results:
        timed = result.timed
        lines.append(
            f"{result.name:<10}{timed.acknowledged:>13}{timed.seconds:>9.2f}{timed.per_second:>10.0f}"
            f"{_ms(timed.percentile_ms(0.50)):>9}{_ms(timed.percentile_ms(0.99)):>9}{timed.errors:>8}"
            f"{_cpu(timed.server_cpu):>12}{_cpu(timed.client_cpu):>12}{_cpu(timed.others_cpu):>12}"
        )
    lines.append(
        "(latency: send to last byte of a 200; CPU: % of one core; others: all other processes on the machine)"
    )
    ratio = figures.ratio
    lines += ["", f"ratio platform/baseline = {'n/a' if ratio is None else f'{ratio:.2f}'}", ""]
    for result in results:
        for label, phase in (("warm-up", result.warmup), ("timed", result.timed)):
            if phase.error_kinds:
                kinds = ", ".join(f"{kind} x{count}" for kind, count in phase.error_kinds.most_common())
                lines.append(f"{result.name} {label} errors: {kinds}")
            if phase.ran_out:
                lines.append(f"{result.name} {label}: ran out of pre-built deliveries after {phase.seconds:.2f} s")
        if result.timed.client_cpu >= 0.9:
            lines.append(f"note: the load generator used a whole core against {result.name}: a lower bound")
        if result.sent > result.distinct:
            lines.append(f"{result.name}: {result.sent} deliveries sent, cycling through {result.distinct} distinct")
        if result.connects > figures.concurrency:
            lines.append(f"{result.name}: {result.connects} connections opened for {figures.concurrency}")
    if durability.stored is None:
        verdict = f"stored not counted ({durability.note})"
    else:
        verdict = f"stored {durability.stored}: {'FAIL' if durability.failed else 'OK'} ({durability.note})"
    lines += [
        f"durability: platform acknowledged {durability.acknowledged} (warm-up included), {verdict}",
        f"database: {figures.database}",
        f"machine: {where['cpus']} CPUs ({where['cpus_usable']} usable), {where['python']}, {where['platform']}",
        f"server: {where['server']}"
        + (f"; the platform: {figures.processes} processes" if figures.processes > 1 else ""),
        f"client: {where['client']}",
    ]
    return "\n".join(lines)


def as_json(figures: Figures) -> dict[str, Any]:
    """The figures as JSON-ready data, for `--json`."""

    def phase(p: Phase) -> dict[str, Any]:
        return {
            "acknowledged": p.acknowledged,
            "seconds": round(p.seconds, 4),
            "per_second": round(p.per_second, 1),
            "p50_ms": p.percentile_ms(0.50),
            "p99_ms": p.percentile_ms(0.99),
            "errors": p.errors,
            "error_kinds": dict(p.error_kinds),
            "ran_out_of_deliveries": p.ran_out,
            "server_cpu": p.server_cpu,
            "client_cpu": p.client_cpu,
            "others_cpu": p.others_cpu,
        }

    durability = figures.durability
    return {
        "benchmark": "ingest",
        "targets": {
            r.name: {
                "timed": phase(r.timed),
                "warmup": phase(r.warmup),
                "connections_opened": r.connects,
                "deliveries_sent": r.sent,
                "distinct_deliveries": r.distinct,
            }
            for r in (figures.platform, figures.baseline)
        },
        "ratio_platform_baseline": figures.ratio,
        "durability": {**asdict(durability), "ok": None if durability.stored is None else not durability.failed},
        "database": figures.database,
        "platform_processes": figures.processes,
        "concurrency": figures.concurrency,
        "warmup_seconds": figures.warmup_seconds,
        "seconds": figures.seconds,
        "machine": machine(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m sevamitra.cli.bench baseline --port N`: the bare ASGI target on its own."""
    parser = argparse.ArgumentParser(prog="python -m sevamitra.cli.bench")
    parser.add_argument("what", choices=["baseline"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    run_uvicorn(baseline_app, args.host, args.port)


if __name__ == "__main__":
    main()
