"""Graph API faults, each played by the emulator over a real socket (uvicorn), met by the sender through the
platform's own HTTP client (aiohttp's pool) and the outbox on SQLite and PostgreSQL: rate limits, server
errors, timeouts, dropped connections, a closed window, an undeliverable number, and a refused access token
that pauses the number for every process until a probe send succeeds."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sevamitra.actions.send import LocalSendBudget, Sender
from sevamitra.adapters.alerting import AlertmanagerAlerts
from sevamitra.adapters.sql.pauses import SqlSendingPauses
from sevamitra.adapters.sql.stores import SqlOutbox
from sevamitra.adapters.sql.tables import dead_letters, outbox, sending_pauses
from sevamitra.adapters.whatsapp.graph import GraphMessenger
from sevamitra.bootstrap import outbound_http
from sevamitra.core.messages import TemplateOut, TextOut, outbound_to_dict
from sevamitra.emulator import Emulator, EmulatorConfig, create_emulator
from sevamitra.testing.clock import FixedClock
from tests.e2e.conftest import free_port, uvicorn_on

TOKEN = "faults-token"
NUMBER = "106540352242922"
WA, WA2 = "919000000101", "919000000102"
RATE = 80.0


class AlertReceiver:
    """An Alertmanager stand-in: keeps every alert POSTed to /api/v2/alerts."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/api/v2/alerts", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        self.alerts += await request.json()
        return JSONResponse({"status": "success"})


@dataclass
class Meta:
    """The emulated Graph API on a port, and an alert receiver on another."""

    emulator: Emulator
    url: str
    receiver: AlertReceiver
    alerts_url: str
    clock: FixedClock = field(default_factory=FixedClock)

    def sent(self, wa_id: str) -> list[str]:
        """What reached the citizen: text bodies, and template names."""
        bodies = [entry.body or {} for entry in self.emulator.state.outbound(wa_id)]
        return [b["text"]["body"] if b.get("type") == "text" else f"template:{b['template']['name']}" for b in bodies]


@pytest.fixture
async def meta() -> AsyncIterator[Meta]:
    config = EmulatorConfig(
        webhook_url=f"http://127.0.0.1:{free_port()}/nobody",  # statuses go nowhere: the sender alone is tested
        app_secret="faults-secret",
        access_token=TOKEN,
        phone_number_id=NUMBER,
        webhook_max_attempts=1,
        webhook_retry_base=0.01,
        delivered_after=0.01,
    )
    app = create_emulator(config)
    emulator: Emulator = app.state.emulator
    for wa_id in (WA, WA2):  # both wrote within the last 24 hours
        emulator.add_citizen("Lakshmi", wa_id).last_inbound_at = time.time()
    receiver = AlertReceiver()
    port, alerts_port = free_port(), free_port()
    async with uvicorn_on(app, port), uvicorn_on(receiver.app, alerts_port):
        yield Meta(
            emulator=emulator,
            url=f"http://127.0.0.1:{port}",
            receiver=receiver,
            alerts_url=f"http://127.0.0.1:{alerts_port}/api/v2/alerts",
        )


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@asynccontextmanager
async def sending(
    engine: AsyncEngine, meta: Meta, *, token: str = TOKEN, timeout: float = 2.0, **options: Any
) -> AsyncIterator[Sender]:
    """A sending process: its own HTTP pool (as `bootstrap` builds it), the shared outbox and pauses."""
    http = outbound_http()
    messenger = GraphMessenger(
        http, base_url=meta.url, version="v23.0", phone_number_id=NUMBER, access_token=token, timeout=timeout
    )
    clock = meta.clock
    options.setdefault("budget", LocalSendBudget(rate=RATE, capacity=RATE, monotonic=lambda: clock.now().timestamp()))
    try:
        yield Sender(
            outbox=SqlOutbox(engine),
            messenger=messenger,
            clock=clock,
            number=NUMBER,
            jitter=lambda: 0.0,
            pauses=SqlSendingPauses(engine),
            alerts=AlertmanagerAlerts(http, meta.alerts_url, source="test"),
            probe_seconds=60.0,
            token=fingerprint(token),
            rate=RATE,
            **options,
        )
    finally:
        await http.aclose()


async def enqueue(engine: AsyncEngine, meta: Meta, wa_id: str, payload: dict[str, Any]) -> None:
    now = meta.clock.now()
    async with engine.begin() as connection:
        await connection.execute(
            insert(outbox).values(
                address=wa_id,
                wa_id=wa_id,
                payload=payload,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def text(body: str) -> dict[str, Any]:
    return outbound_to_dict(TextOut(body=body))


async def states(engine: AsyncEngine) -> list[tuple[str, int, int | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(outbox).order_by(outbox.c.id))
        return [(r.state, r.attempts, r.error_code) for r in rows]


async def rows(engine: AsyncEngine, table: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(table)))


async def test_a_rate_limit_waits_for_retry_after_and_slows_every_sender_of_the_number(
    engine: AsyncEngine, meta: Meta
) -> None:
    budget = LocalSendBudget(rate=RATE, capacity=RATE, monotonic=lambda: meta.clock.now().timestamp())
    async with sending(engine, meta, budget=budget) as sender:
        await enqueue(engine, meta, WA, text("one"))
        meta.emulator.inject_faults([429])  # 130429 with Retry-After: 1
        assert await sender.drain() == 1
        assert await states(engine) == [("pending", 1, 130429)]
        (wait,) = await budget.take(NUMBER)  # what any other sender of the number now meets
        assert 0.9 < wait <= 2.1
        assert await sender.drain() == 0  # not before Retry-After
        meta.clock.advance(seconds=3)
        assert await sender.drain() == 1
    assert await states(engine) == [("sent", 2, 130429)]
    assert meta.sent(WA) == ["one"]


async def test_server_errors_timeouts_and_dropped_connections_are_retried_until_the_message_goes_once(
    engine: AsyncEngine, meta: Meta
) -> None:
    meta.emulator.inject_faults([500, 503])
    meta.emulator.inject_timeouts(1, seconds=30.0)  # longer than the sender waits
    meta.emulator.inject_resets(1)
    async with sending(engine, meta, timeout=0.5) as sender:
        await enqueue(engine, meta, WA, text("one"))
        seen: list[tuple[int | None, str]] = []
        for _ in range(4):
            started = time.perf_counter()
            assert await sender.drain() == 1
            took = time.perf_counter() - started
            async with engine.connect() as connection:
                row = (await connection.execute(select(outbox.c.state, outbox.c.error_code, outbox.c.error))).one()
            assert row.state == "pending"
            seen.append((row.error_code, row.error.split(":")[0]))
            print(f"fault {len(seen)}: {row.error} after {took * 1000:.0f} ms")  # noqa: T201 (the measured time)
            meta.clock.advance(seconds=60)  # past any backoff
        assert await sender.drain() == 1
    assert seen == [
        (131000, "(#131000) Something went wrong"),
        (2, "(#2) Service temporarily unavailable"),
        (0, "Graph API timed out"),
        (0, "network error reaching the Graph API"),
    ]
    assert await states(engine) == [("sent", 5, 0)]
    assert meta.sent(WA) == ["one"]  # none of the failed attempts reached the citizen


async def test_a_timeout_is_met_at_the_configured_limit_not_the_servers(engine: AsyncEngine, meta: Meta) -> None:
    meta.emulator.inject_timeouts(1, seconds=30.0)
    async with sending(engine, meta, timeout=0.4) as sender:
        await enqueue(engine, meta, WA, text("one"))
        started = time.perf_counter()
        assert await sender.drain() == 1
        took = time.perf_counter() - started
    print(f"a send without an answer was given up after {took * 1000:.0f} ms (limit 400 ms)")  # noqa: T201
    assert 0.35 <= took < 3.0
    assert await states(engine) == [("pending", 1, 0)]


async def test_outside_the_window_the_messages_own_template_goes_instead(engine: AsyncEngine, meta: Meta) -> None:
    fallback = outbound_to_dict(TemplateOut(name="application_update", language="te"))
    meta.emulator.inject_faults([400], {400: 131047})
    async with sending(engine, meta) as sender:
        await enqueue(engine, meta, WA, {**text("your certificate is ready"), "fallback": fallback})
        assert await sender.drain() == 1
        assert await sender.drain() == 1
    assert await states(engine) == [("outside_window", 1, 131047), ("sent", 1, None)]
    assert meta.sent(WA) == ["template:application_update"]
    assert await rows(engine, dead_letters) == []  # replaced, not lost


async def test_an_undeliverable_message_is_recorded_not_retried_and_listed_as_a_dead_letter(
    engine: AsyncEngine, meta: Meta
) -> None:
    meta.emulator.inject_faults([400], {400: 131026})
    async with sending(engine, meta) as sender:
        await enqueue(engine, meta, WA, text("one"))
        assert await sender.drain() == 1
        meta.clock.advance(hours=1)
        assert await sender.drain() == 0
    assert await states(engine) == [("undeliverable", 1, 131026)]
    (dead,) = await rows(engine, dead_letters)
    assert (dead.address, dead.kind, dead.state, dead.error_code, dead.attempts) == (
        WA,
        "text",
        "undeliverable",
        131026,
        1,
    )
    assert dead.retried_at is None


async def test_retries_exhausted_make_a_dead_letter(engine: AsyncEngine, meta: Meta) -> None:
    meta.emulator.inject_faults([500, 500])
    async with sending(engine, meta, max_attempts=2) as sender:
        await enqueue(engine, meta, WA, text("one"))
        assert await sender.drain() == 1
        meta.clock.advance(seconds=60)
        assert await sender.drain() == 1
    assert await states(engine) == [("failed", 2, 131000)]
    (dead,) = await rows(engine, dead_letters)
    assert (dead.state, dead.error_code, dead.attempts) == ("failed", 131000, 2)
    assert meta.sent(WA) == []


async def test_a_refused_token_pauses_the_number_everywhere_alerts_and_resumes_after_a_probe(
    engine: AsyncEngine, meta: Meta
) -> None:
    async with sending(engine, meta) as first, sending(engine, meta) as second:
        for wa_id, body in ((WA, "one"), (WA, "two"), (WA2, "three")):
            await enqueue(engine, meta, wa_id, text(body))
        meta.emulator.inject_faults([401, 401])  # Meta: code 190, the token is invalid or has expired

        await first.drain()
        assert await states(engine) == [("pending", 0, 190), ("pending", 0, None), ("pending", 0, 190)]
        (pause,) = await rows(engine, sending_pauses)
        assert (pause.phone_number_id, pause.error_code) == (NUMBER, 190)
        (alert,) = meta.receiver.alerts
        assert alert["labels"] == {
            "alertname": "sending_paused",
            "severity": "critical",
            "service": "sevamitra",
            "number": NUMBER,
        }
        assert "endsAt" not in alert and "sending paused" in alert["annotations"]["summary"]

        assert await second.drain() == 0  # another process sends nothing from the paused number
        meta.clock.advance(seconds=30)
        assert (await first.drain(), await second.drain()) == (0, 0)
        assert meta.sent(WA) == meta.sent(WA2) == []

        meta.emulator.inject_faults([401])  # the first probe is refused too: still paused, the alert still on
        meta.clock.advance(seconds=31)
        await second.drain()
        assert len(await rows(engine, sending_pauses)) == 1
        assert [a.get("endsAt") for a in meta.receiver.alerts] == [None, None]

        meta.clock.advance(seconds=61)  # the next probe goes through: every process resumes
        assert await first.drain() == 1
        assert await rows(engine, sending_pauses) == []
        assert meta.receiver.alerts[-1]["labels"]["alertname"] == "sending_paused"
        assert meta.receiver.alerts[-1]["endsAt"]
        for _ in range(3):
            await second.drain()
    assert meta.sent(WA) == ["one", "two"] and meta.sent(WA2) == ["three"]
    assert [state for state, _, _ in await states(engine)] == ["sent", "sent", "sent"]
    assert await rows(engine, dead_letters) == []  # nothing was given up


async def test_a_process_started_with_a_new_token_probes_at_once_and_resumes(engine: AsyncEngine, meta: Meta) -> None:
    meta.emulator.set_access_token("renewed-token")  # the platform's token has expired at Meta
    async with sending(engine, meta) as old:
        await enqueue(engine, meta, WA, text("one"))
        await old.drain()
    assert await states(engine) == [("pending", 0, 190)]
    pauses = SqlSendingPauses(engine)
    assert await pauses.probe_sooner(fingerprint(TOKEN), meta.clock.now()) == 0  # the same token: no sooner

    async with sending(engine, meta, token="renewed-token") as renewed:  # restarted with the new token
        assert await pauses.probe_sooner(renewed.token, meta.clock.now()) == 1
        assert await renewed.drain() == 1
    assert await rows(engine, sending_pauses) == []
    assert meta.sent(WA) == ["one"]
