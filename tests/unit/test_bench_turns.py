"""`sevamitra bench turns` without a benchmark run: its arithmetic, its webhooks, and its citizens' pacing
against a tiny in-process bot that answers through the recording Graph stub."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from sevamitra.adapters.whatsapp.signature import SignatureCheck, verify_signature
from sevamitra.adapters.whatsapp.webhook import split_update
from sevamitra.cli import bench_turns
from sevamitra.cli.bench import Durability, HttpConnection, build_request
from sevamitra.cli.bench_turns import CONVERSATION, Citizen, Citizens, GraphStub, aadhaar
from sevamitra.cli.bench_turns_report import Suite, System, Turns, Window, as_json, goals, render, sustains, svg
from sevamitra.cli.main import main
from sevamitra.core.idnumbers import aadhaar_problem

HOST = "127.0.0.1"
SECRET = "bench-secret"
REFERENCE = "AP-REV-INC-2026-000001"


def turns(*, latencies_ms: list[float], seconds: float = 10.0, errors: int = 0) -> Turns:
    t = Turns(seconds=seconds, acknowledged=len(latencies_ms), latencies=[ms / 1000 for ms in latencies_ms])
    t.errors = errors
    return t


def window(offered: float, *, p99_ms: float, answered: float = 1.0, errors: int = 0) -> Window:
    count = round(offered * 10 * answered)
    latencies = [p99_ms / 2] * (count - count // 50) + [p99_ms] * (count // 50)
    return Window(offered=offered, citizens=10, warmup=Turns(), timed=turns(latencies_ms=latencies, errors=errors))


# ------------------------------------------------------------------ arithmetic


def test_a_load_is_sustained_with_p99_under_250_ms_no_errors_and_nearly_every_turn_answered() -> None:
    assert sustains(100, turns(latencies_ms=[10.0] * 990 + [249.0] * 10))
    assert not sustains(100, turns(latencies_ms=[10.0] * 980 + [251.0] * 20))  # p99 over
    assert not sustains(100, turns(latencies_ms=[10.0] * 1000, errors=1))
    assert not sustains(100, turns(latencies_ms=[10.0] * 940))  # 94% of the 1,000 offered turns
    assert sustains(100, turns(latencies_ms=[10.0] * 950))
    assert not sustains(100, turns(latencies_ms=[]))


def suite() -> Suite:
    replies = [2, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]
    platform = System(
        "platform",
        "sevamitra serve",
        replies,
        [
            window(250, p99_ms=80),
            window(500, p99_ms=200),
            window(750, p99_ms=600),
            window(1000, p99_ms=900, answered=0.6),
        ],
        {"web": 200 * 1024},
        Durability(acknowledged=9000, stored=9000, note="inbox rows counted"),
    )
    one = System(
        "platform, 1 worker", "serve --no-worker + 1 x worker", replies, [window(750, p99_ms=700, answered=0.8)]
    )
    two = System("platform, 2 workers", "serve --no-worker + 2 x worker", replies, [window(750, p99_ms=300)])
    baseline = System("baseline", "baseline_pywa.py", replies, [window(250, p99_ms=20), window(500, p99_ms=400)])
    return Suite([platform, one, two, baseline], database="PostgreSQL", seconds=10, warmup_seconds=1)


def test_the_ratio_is_of_the_highest_loads_sustained_and_scaling_of_turns_per_second() -> None:
    figures = suite()
    assert [s.highest_sustained for s in figures.systems] == [500, None, None, 250]
    assert figures.ratio == 2.0
    assert figures.scaling == pytest.approx(1 / 0.8)


def test_the_goals_are_judged_from_the_figures() -> None:
    assert goals(suite()) == [
        "NOT met: >= 1,000 turns/s, every turn durable (best 750; inbox holds 9000 of 9000 acknowledged)",
        "met: p99 < 250 ms at 500/s (p99 200.0 ms, 500 turns/s, 0 errors)",
        "met: >= 2x the baseline (ratio 2.00)",
    ]
    slow = System("platform", "sevamitra serve", [1], [window(50, p99_ms=90), window(100, p99_ms=900, answered=0.8)])
    assert goals(Suite([slow], database="SQLite", seconds=10, warmup_seconds=1))[1:] == [
        "NOT met: p99 < 250 ms at 500/s (not offered: the platform answered at most 80 turns/s)",
        "not measured: >= 2x the baseline",
    ]


def test_the_report_the_json_and_the_plot_carry_every_load() -> None:
    figures = suite()
    text = render(figures)
    assert "ratio platform/baseline (highest sustained) = 2.00" in text
    assert "scaling 2 workers / 1 worker (turns/s at the same offered load) = 1.25" in text
    assert "platform: highest sustained 500/s; peak RSS web 200 MiB" in text
    assert "a platform turn is 2.33 Graph API sends" in text and "allows at most 429 turns/s" in text
    assert len([line for line in text.splitlines() if line.startswith("platform ")]) == 4

    data = as_json(figures)
    json.dumps(data)
    assert [load["offered"] for load in data["systems"][0]["loads"]] == [250, 500, 750, 1000]
    assert data["systems"][0]["loads"][1]["p99_ms"] == 200.0
    assert data["ratio_platform_baseline"] == 2.0

    plot = ET.fromstring(svg(figures))  # noqa: S314 (our own output)
    assert len(plot.findall("{http://www.w3.org/2000/svg}polyline")) == 2 * 4


# ------------------------------------------------------------------ webhooks


def test_identities_have_distinct_valid_aadhaar_numbers() -> None:
    numbers = [aadhaar(n) for n in (1, 2, 10**10 - 1, 10**10, 123_456_789_012)]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 12 and aadhaar_problem(n) is None for n in numbers)


def test_each_message_is_a_signed_meta_update_quoting_the_last_reply() -> None:
    citizens = Citizens(HOST, SECRET)
    citizens.port = 8000
    citizen = Citizen()
    citizens.begin(citizen)
    citizen.step, citizen.context = 1, "wamid.stub.7"
    head, _, body = citizens.request(citizen).partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])

    assert head.startswith(b"POST /webhooks/whatsapp HTTP/1.1")
    assert verify_signature(body, headers["X-Hub-Signature-256"], SECRET) is SignatureCheck.VALID
    [item] = split_update(body)
    assert (item.kind, item.address) == ("message", citizen.wa_id)
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["user_id"] == citizen.user_id  # pywa 4.5 needs it
    message = value["messages"][0]
    assert message["interactive"] == {"type": "button_reply", "button_reply": {"id": "lang:en", "title": "English"}}
    assert message["context"]["id"] == "wamid.stub.7"

    citizen.step = [s.name for s in CONVERSATION].index("aadhaar")
    _, _, body = citizens.request(citizen).partition(b"\r\n\r\n")
    assert json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] == aadhaar(citizen.number)


# ------------------------------------------------------------------ pacing against a tiny bot

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Bot:
    """Answers each webhook 200 (or `status`), then sends its replies to the Graph stub after `delay`:
    two to "hi", a reference number to the last message, one otherwise; none to the citizens in `mute`."""

    graph_port: int = 0
    delay: float = 0.0
    status: int = 200
    mute: set[str] = field(default_factory=set)
    outstanding: Counter[str] = field(default_factory=Counter)
    overlaps: int = 0  # messages from a citizen whose last one was not answered yet
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        message = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]
        sender, step = message["from"], int(message["id"].rsplit(".", 1)[1])
        self.overlaps += self.outstanding[sender] > 0
        self.outstanding[sender] += 1
        await send({"type": "http.response.start", "status": self.status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        if self.status == 200 and sender not in self.mute:
            task = asyncio.create_task(self.reply(sender, step))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def reply(self, to: str, step: int) -> None:
        await asyncio.sleep(self.delay)
        self.outstanding[to] -= 1
        texts = ["welcome", "language?"] if step == 0 else [REFERENCE if step == len(CONVERSATION) - 1 else "next"]
        connection = HttpConnection(HOST, self.graph_port)
        for text in texts:
            body = json.dumps({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}})
            request = build_request(
                "POST", "/v23.0/1/messages", HOST, body.encode(), [("Content-Type", "application/json")]
            )
            assert (await connection.send(request)).status == 200
        await connection.close()


@dataclass
class Bench:
    bot: Bot
    citizens: Citizens
    stub: GraphStub


@pytest.fixture
async def bench() -> AsyncIterator[Bench]:
    citizens = Citizens(HOST, SECRET, timeout=0.5)
    stub = GraphStub(citizens.on_reply)
    bot = Bot(graph_port=await stub.start(HOST))
    server = uvicorn.Server(uvicorn.Config(bot, host=HOST, port=0, log_level="warning", access_log=False, ws="none"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        await citizens.aim(server.servers[0].sockets[0].getsockname()[1])
        yield Bench(bot, citizens, stub)
    finally:
        await citizens.close()
        server.should_exit = True
        await serving
        await stub.close()


async def test_calibration_learns_how_many_replies_each_message_gets(bench: Bench) -> None:
    transcript = await bench.citizens.calibrate(settle=0.05)

    assert bench.citizens.expected == (2,) + (1,) * (len(CONVERSATION) - 1)
    assert transcript[-1][0]["text"]["body"] == REFERENCE


async def test_citizens_keep_the_offered_load_and_wait_for_every_reply(bench: Bench) -> None:
    bench.citizens.expected = (2,) + (1,) * (len(CONVERSATION) - 1)
    bench.bot.delay = 0.01
    for _ in range(2):  # the turns still in flight at the end of a run are awaited: the next one starts clean
        result = await asyncio.wait_for(bench.citizens.run(100, 20, warmup=0.2, seconds=0.5, pids=[]), 5)

        timed = result.timed
        assert timed.sent + timed.missed in (50, 51) and timed.missed <= 2  # 0.5 s at 100/s
        assert timed.acknowledged == timed.sent and timed.errors == 0
        assert len(timed.latencies) == timed.acknowledged and min(timed.latencies) >= 0.01
        assert result.warmup.sent == 20  # 0.2 s at 100/s
        assert result.sustained
    assert bench.bot.overlaps == 0 and bench.citizens.stray == 0


async def test_too_few_citizens_for_a_slow_bot_leave_sending_slots_unused(bench: Bench) -> None:
    bench.citizens.expected = (2,) + (1,) * (len(CONVERSATION) - 1)
    bench.bot.delay = 0.1
    result = await bench.citizens.run(100, 5, warmup=0, seconds=0.5, pids=[])

    timed = result.timed
    assert timed.sent + timed.missed in (50, 51)
    assert timed.missed > 20  # five citizens, each answered after 0.1 s, send about 25 in 0.5 s
    assert timed.errors == 0 and bench.bot.overlaps == 0
    assert not result.sustained


async def test_unanswered_and_refused_messages_are_errors_and_their_citizens_start_over(bench: Bench) -> None:
    bench.citizens.expected = (2,) + (1,) * (len(CONVERSATION) - 1)
    bench.bot.mute = {"917000000001"}  # the first citizen of the run
    result = await bench.citizens.run(20, 4, warmup=0, seconds=0.3, pids=[])
    assert result.timed.error_kinds == Counter({"no reply within 0.5 s": 1})

    bench.bot.status = 403
    refused = await bench.citizens.run(20, 4, warmup=0, seconds=0.3, pids=[])
    assert refused.timed.errors == refused.timed.sent > 0
    assert set(refused.timed.error_kinds) == {"HTTP 403"}


def test_the_bench_command_passes_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(bench_turns, "turns", lambda **options: seen.update(options))
    main(["bench", "turns", "--rates", "50,200", "--seconds", "3", "--citizens", "40"])
    assert seen == {
        "rates": [50.0, 200.0],
        "seconds": 3.0,
        "warmup": 1.0,
        "citizens": 40,
        "database_url": None,
        "json_path": None,
    }
