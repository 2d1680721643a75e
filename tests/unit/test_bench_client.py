"""The benchmark's minimal HTTP/1.1 client, its deliveries and its baseline app (not the benchmark itself)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn

from sevamitra.adapters.whatsapp.signature import SignatureCheck, verify_signature
from sevamitra.adapters.whatsapp.webhook import split_update
from sevamitra.cli.bench import (
    Deliveries,
    HttpConnection,
    HttpError,
    Load,
    baseline_app,
    build_request,
    request_prefix,
)

HOST = "127.0.0.1"


@dataclass
class Loopback:
    """A tiny HTTP/1.1 server whose answer depends on the request path."""

    port: int = 0
    connections: int = 0
    requests: list[tuple[str, bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((path, body))
                if not await self.answer(path, body, writer):
                    return
        finally:
            writer.close()

    async def answer(self, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        """Write the answer; False closes the connection."""
        if path == "/echo":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif path == "/forbidden":
            writer.write(
                b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"Content-Length: 13\r\n\r\nbad signature"
            )
        elif path == "/chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"
            )
        elif path == "/continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        elif path == "/no-content":
            writer.write(b"HTTP/1.1 204\r\n\r\n")
        elif path == "/close":
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye")
            return False
        elif path == "/drop-after":  # answers, then closes without saying so (an idle timeout)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return False
        elif path == "/slam":  # closes without any answer
            return False
        elif path == "/garbage":
            writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        return True


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    state = Loopback()
    server = await asyncio.start_server(state.handle, HOST, 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def get(path: str, port: int, body: bytes = b"") -> bytes:
    return build_request("POST" if body else "GET", path, f"{HOST}:{port}", body)


async def test_keep_alive_carries_hundreds_of_requests_on_one_connection(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    bodies = [f"delivery {i} ".encode() * (i % 7 + 1) for i in range(300)]
    responses = [await connection.send(get("/echo", loopback.port, body)) for body in bodies]
    await connection.close()

    assert [r.status for r in responses] == [200] * 300
    assert [r.body for r in responses] == bodies
    assert connection.connects == 1
    assert loopback.connections == 1
    assert [body for _, body in loopback.requests] == bodies


async def test_status_line_reason_and_headers_are_parsed(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    response = await connection.send(get("/forbidden", loopback.port))
    await connection.close()

    assert (response.status, response.reason, response.body) == (403, "Forbidden", b"bad signature")
    assert response.header("Content-Type") == "text/plain; charset=utf-8"


async def test_chunked_body_is_reassembled_and_the_connection_kept(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    chunked = await connection.send(get("/chunked", loopback.port))
    after = await connection.send(get("/echo", loopback.port, b"next"))
    await connection.close()

    assert chunked.body == b"hello, world"
    assert after.body == b"next"
    assert connection.connects == 1


async def test_informational_answers_are_skipped_and_bodiless_statuses_read(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    created = await connection.send(get("/continue", loopback.port))
    empty = await connection.send(get("/no-content", loopback.port))
    await connection.close()

    assert (created.status, created.body) == (201, b"ok")
    assert (empty.status, empty.reason, empty.body) == (204, "", b"")
    assert connection.connects == 1


async def test_connection_close_is_honoured_and_the_next_request_reconnects(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    first = await connection.send(get("/close", loopback.port))
    second = await connection.send(get("/echo", loopback.port, b"again"))
    await connection.close()

    assert (first.body, second.body) == (b"bye", b"again")
    assert connection.connects == 2


async def test_a_reused_connection_the_server_dropped_is_retried_once_on_a_new_one(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    await connection.send(get("/drop-after", loopback.port))
    await asyncio.sleep(0.05)  # let the close arrive
    response = await connection.send(get("/echo", loopback.port, b"retried"))
    await connection.close()

    assert response.body == b"retried"
    assert connection.connects == 2


async def test_a_fresh_connection_closed_without_an_answer_is_an_error(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    with pytest.raises(HttpError, match="before any response"):
        await connection.send(get("/slam", loopback.port))
    assert connection.connects == 1


async def test_a_non_http_answer_is_an_error(loopback: Loopback) -> None:
    connection = HttpConnection(HOST, loopback.port)
    with pytest.raises(HttpError, match="bad status line"):
        await connection.send(get("/garbage", loopback.port))


def test_deliveries_are_distinct_signed_meta_text_messages() -> None:
    deliveries = Deliveries("bench-secret", citizens=300)
    deliveries.extend_to(1000)
    bodies = [deliveries.body(i) for i in range(1000)]

    updates = [json.loads(body) for body in bodies]
    messages = [u["entry"][0]["changes"][0]["value"]["messages"][0] for u in updates]
    assert len({m["id"] for m in messages}) == 1000
    assert len({m["from"] for m in messages}) == 300
    assert {m["type"] for m in messages} == {"text"}
    assert updates[0]["object"] == "whatsapp_business_account"
    assert all(body.isascii() for body in bodies)  # Meta escapes non-ASCII characters

    tail = deliveries.tails[7]
    head, _, body = tail.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
    assert body == bodies[7]
    assert int(headers["Content-Length"]) == len(body)
    assert verify_signature(body, headers["X-Hub-Signature-256"], "bench-secret") is SignatureCheck.VALID

    [item] = split_update(body)
    assert (item.kind, item.key, item.address) == ("message", messages[7]["id"], messages[7]["from"])


async def test_the_baseline_app_under_uvicorn_acknowledges_every_delivery() -> None:
    config = uvicorn.Config(baseline_app, host=HOST, port=0, log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        deliveries = Deliveries("bench-secret")
        deliveries.extend_to(100)
        load = Load(HOST, port, deliveries, concurrency=4, distinct=False)
        phase = await load.run(0.3)
        await load.close()

        connection = HttpConnection(HOST, port)
        answer = await connection.send(request_prefix(HOST, port) + deliveries.tails[0])
        await connection.close()
    finally:
        server.should_exit = True
        await serving

    assert (answer.status, answer.body, answer.header("content-length")) == (200, b"OK", "2")
    assert phase.errors == 0
    assert phase.acknowledged > 100  # the 100 deliveries went round more than once
    assert load.cursor == phase.acknowledged
    assert sum(c.connects for c in load.connections) == 4
