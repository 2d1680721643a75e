"""The outbound sender against the Graph API client over httpx.MockTransport: retries and their limits."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.send import LocalSendBudget, Sender
from sevamitra.adapters.sql.stores import SqlOutbox
from sevamitra.adapters.sql.tables import outbox
from sevamitra.adapters.whatsapp.graph import GraphMessenger
from sevamitra.core.messages import SpeechOut, TemplateOut, TextOut, outbound_to_dict
from sevamitra.core.ratelimit import TokenBucket
from sevamitra.core.speech import SpeechError
from sevamitra.testing.clock import FixedClock

Handler = Callable[[httpx.Request], httpx.Response]
_ids = itertools.count()


def ok(request: httpx.Request) -> httpx.Response:
    to = json.loads(request.content).get("to")
    return httpx.Response(
        200,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.OK{next(_ids)}"}],
        },
    )


def error(status: int, code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, headers=headers, json={"error": {"message": "x", "type": "OAuthException", "code": code}}
    )


class Script:
    """Answers Graph API calls from a list, then succeeds; records what was asked."""

    def __init__(self, *answers: httpx.Response | type[Exception]) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(json.loads(request.content))
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, type):
                raise answer("injected", request=request) if issubclass(answer, httpx.TransportError) else answer()
            return answer
        return ok(request)


async def sender_for(engine: AsyncEngine, script: Script, clock: FixedClock, **options: Any) -> Sender:
    client = httpx.AsyncClient(transport=httpx.MockTransport(script))
    messenger = GraphMessenger(
        client, base_url="https://graph.test", version="v23.0", phone_number_id="1", access_token="t"
    )
    return Sender(
        outbox=SqlOutbox(engine),
        messenger=messenger,
        clock=clock,
        budget=LocalSendBudget(rate=1000, capacity=1000),
        number="1",
        jitter=lambda: 0.0,
        **options,
    )


async def enqueue(
    engine: AsyncEngine, clock: FixedClock, payload: dict[str, Any], address: str = "919000000001"
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(outbox).values(
                address=address,
                wa_id=address,
                payload=payload,
                state="pending",
                attempts=0,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
        )


async def states(engine: AsyncEngine) -> list[tuple[str, int, int | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(outbox).order_by(outbox.c.id))
        return [(r.state, r.attempts, r.error_code) for r in rows]


async def test_429_and_5xx_and_timeouts_are_retried_with_growing_backoff_then_sent(engine: AsyncEngine) -> None:
    clock = FixedClock()
    script = Script(error(429, 130429, {"Retry-After": "3"}), error(503, 1), httpx.ReadTimeout)
    sender = await sender_for(engine, script, clock)
    await enqueue(engine, clock, outbound_to_dict(TextOut(body="hello")))
    assert await sender.drain() == 1
    assert await sender.drain() == 0  # not due yet: Retry-After said 3 s
    clock.advance(seconds=3)
    assert await sender.drain() == 1  # the 503
    clock.advance(seconds=0.4)
    assert await sender.drain() == 0  # backoff after the 2nd attempt: 0.5 s · 2 halved (jitter 0)
    clock.advance(seconds=0.1)
    assert await sender.drain() == 1  # the timeout
    clock.advance(seconds=2)
    assert await sender.drain() == 1
    assert await states(engine) == [("sent", 4, 0)]  # the last error seen (a timeout) stays on record
    assert len(script.calls) == 4 and all(c["text"]["body"] == "hello" for c in script.calls)


async def test_retries_stop_after_the_configured_attempts(engine: AsyncEngine) -> None:
    clock = FixedClock()
    sender = await sender_for(engine, Script(*[error(500, 1)] * 5), clock, max_attempts=3)
    await enqueue(engine, clock, outbound_to_dict(TextOut(body="hello")))
    for _ in range(5):
        await sender.drain()
        clock.advance(seconds=60)
    assert await states(engine) == [("failed", 3, 1)]


async def test_outside_the_24_hour_window_the_message_is_replaced_by_the_template_not_retried(
    engine: AsyncEngine,
) -> None:
    clock = FixedClock()
    template = TemplateOut(name="sevamitra_update", language="te")
    script = Script(error(400, 131047))
    sender = await sender_for(engine, script, clock, reengagement_template=template)
    await enqueue(engine, clock, outbound_to_dict(TextOut(body="your certificate is ready")))
    await sender.drain()
    await sender.drain()
    assert await states(engine) == [("outside_window", 1, 131047), ("sent", 1, None)]
    assert script.calls[1]["type"] == "template" and script.calls[1]["template"]["name"] == "sevamitra_update"


async def test_a_status_update_outside_the_window_goes_as_its_own_template_with_its_values(
    engine: AsyncEngine,
) -> None:
    clock = FixedClock()
    script = Script(error(400, 131047))
    sender = await sender_for(engine, script, clock, reengagement_template=TemplateOut(name="generic", language="te"))
    fallback = TemplateOut(
        name="application_update", language="en", body_parameters=("AP-REV-INC-2026-000001", "x", "approved")
    )
    payload = {**outbound_to_dict(TextOut(body="approved")), "fallback": outbound_to_dict(fallback)}
    await enqueue(engine, clock, payload)
    await sender.drain()
    await sender.drain()
    assert await states(engine) == [("outside_window", 1, 131047), ("sent", 1, None)]
    sent = script.calls[1]["template"]
    assert sent["name"] == "application_update" and sent["language"]["code"] == "en"
    assert [p["text"] for p in sent["components"][0]["parameters"]] == ["AP-REV-INC-2026-000001", "x", "approved"]


async def test_undeliverable_is_recorded_and_never_retried(engine: AsyncEngine) -> None:
    clock = FixedClock()
    script = Script(error(400, 131026))
    sender = await sender_for(engine, script, clock)
    await enqueue(engine, clock, outbound_to_dict(TextOut(body="hello")))
    for _ in range(3):
        await sender.drain()
        clock.advance(seconds=600)
    assert await states(engine) == [("undeliverable", 1, 131026)]
    assert len(script.calls) == 1


async def test_one_citizens_messages_go_out_in_order_even_when_one_is_retried(engine: AsyncEngine) -> None:
    clock = FixedClock()
    script = Script(error(503, 1))
    sender = await sender_for(engine, script, clock)
    for body in ("first", "second", "third"):
        await enqueue(engine, clock, outbound_to_dict(TextOut(body=body)))
    for _ in range(6):
        await sender.drain()
        clock.advance(seconds=5)
    assert [c["text"]["body"] for c in script.calls] == ["first", "first", "second", "third"]


def test_token_bucket_spaces_sends_at_the_configured_rate() -> None:
    bucket = TokenBucket(rate=80, capacity=80)
    waits = [bucket.take(0.0) for _ in range(100)]
    assert waits[:80] == [0.0] * 80
    assert waits[80] == 1 / 80 and abs(waits[99] - 20 / 80) < 1e-9
    assert bucket.take(10.0) == 0.0  # refilled after a pause


class Voice:
    """A text-to-speech stand-in (this test is about sending, not speaking): records what it said."""

    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.said: list[tuple[str, str]] = []

    async def speak(self, text: str, language: str) -> bytes:
        if self.fails:
            raise SpeechError("unavailable", "no voice")
        self.said.append((text, language))
        return b"OggS spoken"


async def test_a_spoken_reply_is_synthesised_uploaded_and_sent_as_audio(engine: AsyncEngine) -> None:
    clock, asked = FixedClock(), list[httpx.Request]()

    def graph(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path.endswith("/media"):
            return httpx.Response(200, json={"id": "m-spoken"})
        return ok(request)

    voice = Voice()
    client = httpx.AsyncClient(transport=httpx.MockTransport(graph))
    messenger = GraphMessenger(
        client, base_url="https://graph.test", version="v23.0", phone_number_id="1", access_token="t"
    )
    sender = Sender(
        outbox=SqlOutbox(engine), messenger=messenger, clock=clock, number="1",
        budget=LocalSendBudget(rate=1000, capacity=1000),
        jitter=lambda: 0.0, speak=voice,
    )  # fmt: skip
    await enqueue(engine, clock, outbound_to_dict(SpeechOut(text="Your certificate is ready", language="te")))
    assert await sender.drain() == 1
    assert voice.said == [("Your certificate is ready", "te")]
    upload, message = asked
    assert b"OggS spoken" in upload.content and b"audio/ogg" in upload.content
    assert json.loads(message.content)["audio"] == {"id": "m-spoken"}
    assert await states(engine) == [("sent", 1, None)]


async def test_a_spoken_reply_without_a_voice_is_given_up(engine: AsyncEngine) -> None:
    clock = FixedClock()
    sender = await sender_for(engine, Script(), clock, speak=Voice(fails=True))
    await enqueue(engine, clock, outbound_to_dict(SpeechOut(text="hello", language="hi")))
    await sender.drain()
    assert await states(engine) == [("failed", 1, 0)]  # its text went as text already: nothing to retry


async def test_a_spoken_reply_whose_upload_fails_is_retried(engine: AsyncEngine) -> None:
    clock = FixedClock()
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    messenger = GraphMessenger(
        client, base_url="https://graph.test", version="v23.0", phone_number_id="1", access_token="t"
    )
    sender = Sender(
        outbox=SqlOutbox(engine), messenger=messenger, clock=clock, number="1",
        budget=LocalSendBudget(rate=1000, capacity=1000),
        jitter=lambda: 0.0, speak=Voice(),
    )  # fmt: skip
    await enqueue(engine, clock, outbound_to_dict(SpeechOut(text="hello", language="en")))
    await sender.drain()
    assert await states(engine) == [("pending", 1, 0)]
