"""Limits on what one client may ask, over real sockets under uvicorn as `sevamitra serve` runs it: bodies over
the configured size get 413 on every route (the webhook by its own limit), and a client too slow to send its
request (a slowloris), or sending too much header, is cut off."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from tests.e2e.conftest import free_port
from tests.support.served import on_uvicorn, served, settings_for

LIMIT = 64 * 1024  # the smallest the settings allow
SLOW = {"http_header_seconds": 1.0, "http_body_seconds": 1.0, "http_body_min_rate": 500, "http_keep_alive_seconds": 1}


# --- bodies: the whole app ------------------------------------------------------------------------------


def concrete(path: str) -> str:
    """A route's path with something in each of its parameters."""
    return re.sub(r"\{[^}]+\}", "x", path)


def every_route(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Mount):
            found += every_route(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            found += [(prefix + route.path, method) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


async def test_a_body_over_the_limit_gets_413_on_every_route_unread(database_url: str, tmp_path: Path) -> None:
    async with served(database_url, tmp_path, request_max_bytes=LIMIT, webhook_max_bytes=LIMIT) as site:
        routes = every_route(list(site.app.routes))
        assert ("/webhooks/whatsapp", "POST") in routes and ("/dashboard/login", "POST") in routes
        too_large = b"x" * (LIMIT + 1)
        answers = {}
        for path, method in routes:
            if path.startswith("/emulator"):  # the development emulator takes Meta's 100 MB uploads
                continue
            response = await site.http.request(method, concrete(path), content=too_large)
            answers[(path, method)] = response.status_code
        assert answers == dict.fromkeys(answers, 413)
        # a body sent in chunks, without a length, is cut off as it passes the limit
        for path in ("/dashboard/login", "/verify", "/api/verify", "/webhooks/payments/simulated"):

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(3):
                    yield b"y" * (LIMIT // 2)

            form = {"content-type": "application/x-www-form-urlencoded"}
            chunked = await site.http.post(path, content=chunks(), headers=form)
            assert chunked.status_code == 413, path
        under = await site.http.post("/api/verify", json={"qr_text": "hello"})
        assert under.status_code == 200  # within the limit, answered as before
        within = await site.http.post("/webhooks/whatsapp", content=b" " * LIMIT)
        assert within.status_code == 401  # the webhook's own limit, a setting: read whole, refused unsigned


# --- slow clients: uvicorn with serve's protocol -----------------------------------------------------------


class Seen:
    def __init__(self) -> None:
        self.disconnected = asyncio.Event()


@pytest.fixture
async def slow_server(tmp_path: Path) -> AsyncIterator[tuple[int, Seen]]:
    """A small app that reads whole bodies, under uvicorn with serve's options and one-second deadlines."""
    seen = Seen()

    async def upload(request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:
            seen.disconnected.set()
            raise
        return PlainTextResponse(f"{len(body)} bytes")

    app = Starlette(routes=[Route("/upload", upload, methods=["GET", "POST"])])
    port = free_port()
    settings = settings_for("sqlite+aiosqlite:///unused.db", tmp_path, port, **SLOW)
    async with on_uvicorn(app, settings, port):
        yield port, seen


async def trickle(writer: asyncio.StreamWriter, pieces: list[bytes], every: float) -> None:
    """Send `pieces` one at a time, `every` seconds apart, until done or the server hangs up."""
    try:
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(every)
    except (ConnectionError, OSError):
        return


async def hung_up_after(port: int, first: bytes, pieces: list[bytes], every: float) -> tuple[bytes, float]:
    """What the server answered before closing the connection, and after how many seconds."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = loop.time()
    writer.write(first)
    sender = asyncio.create_task(trickle(writer, pieces, every))
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        return answer, loop.time() - started
    finally:
        sender.cancel()
        writer.close()


async def test_a_slowloris_sending_headers_a_byte_at_a_time_is_cut_off(slow_server: tuple[int, Seen]) -> None:
    port, _ = slow_server
    headers = [f"X-Slow-{i}: a\r\n".encode() for i in range(200)]
    answer, seconds = await hung_up_after(port, b"GET /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n", headers, 0.1)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.9 <= seconds < 2.5  # the one-second header deadline, not the twenty seconds of headers


async def test_a_connection_that_sends_nothing_is_closed(slow_server: tuple[int, Seen]) -> None:
    port, _ = slow_server
    answer, seconds = await hung_up_after(port, b"", [], 0.1)
    assert answer.startswith(b"HTTP/1.1 408 ") and 0.9 <= seconds < 2.5


async def test_headers_larger_than_the_limit_get_431(slow_server: tuple[int, Seen]) -> None:
    port, _ = slow_server
    flood = b"".join(f"X-Big-{i}: {'a' * 1000}\r\n".encode() for i in range(40))  # 40 KB of headers, at once
    answer, seconds = await hung_up_after(port, b"GET /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n" + flood, [], 0.1)
    assert answer.startswith(b"HTTP/1.1 431 ") and seconds < 0.9


async def test_a_body_trickled_slower_than_the_minimum_rate_is_cut_off(slow_server: tuple[int, Seen]) -> None:
    port, seen = slow_server
    head = b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
    answer, seconds = await hung_up_after(port, head, [b"z" * 20] * 100, 0.1)  # 200 bytes a second
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.9 <= seconds < 2.5
    await asyncio.wait_for(seen.disconnected.wait(), timeout=2)  # the app read a disconnect, not a body


async def test_a_large_body_on_a_slow_but_steady_line_is_taken(slow_server: tuple[int, Seen]) -> None:
    port, _ = slow_server
    pieces = [b"z" * 2000] * 10  # 10 KB a second for two seconds: longer than the deadline, above the rate
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n")
    await trickle(writer, pieces, 0.2)
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"20000 bytes")


async def test_an_idle_kept_alive_connection_is_closed(slow_server: tuple[int, Seen]) -> None:
    port, _ = slow_server
    answer, seconds = await hung_up_after(port, b"GET /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", [], 0.1)
    assert answer.startswith(b"HTTP/1.1 200 ") and 0.9 <= seconds < 2.5  # answered, then closed once idle


async def test_an_ordinary_client_is_not_troubled(slow_server: tuple[int, Seen]) -> None:
    port, _ = slow_server
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(3):  # the same kept-alive connection, request after request
            answered = await http.post("/upload", content=b"q" * 50_000)
            assert answered.text == "50000 bytes"
