"""Scale-out on PostgreSQL: two `serve --no-worker` and two `worker` processes, the emulator as the
Graph API. Each citizen's messages arrive alternately at the two web processes, as behind a load
balancer; afterwards every message was answered once, in order for each citizen, and all senders
together kept to the number's one send budget."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.tables import inbox, outbox
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, signature
from tests.e2e.conftest import free_port

SECRET, TOKEN = "scale-secret", "scale-token"
RATE = 20  # sends a second for the whole number, shared by both workers (and the burst)
CITIZENS, MESSAGES = 10, 4
SEVAMITRA = str(Path(sys.executable).with_name("sevamitra"))


@contextmanager
def processes(env: dict[str, str], *commands: list[str], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started, files = [], []
    try:
        for n, command in enumerate(commands):
            log = (logs / f"process-{n}.log").open("wb")
            files.append(log)
            started.append(subprocess.Popen([SEVAMITRA, *command], env=env, stdout=log, stderr=subprocess.STDOUT))  # noqa: S603 (our own command)
        yield started
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in files:
            log.close()


async def answering(http: httpx.AsyncClient, url: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if (await http.get(url)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert asyncio.get_running_loop().time() < deadline, f"{url} never answered"
        await asyncio.sleep(0.3)


async def citizen(http: httpx.AsyncClient, webs: list[str], n: int, config: EmulatorConfig) -> None:
    """One citizen's messages, each stored before the next is sent, to the two web processes in turn."""
    wa_id = f"9190000{n:05d}"
    for m, text in enumerate(["hi", "2", "menu", "income certificate"][:MESSAGES]):
        message = {"from": wa_id, "id": f"wamid.scale.{n}.{m}", "timestamp": "1764500000", "type": "text"}
        update = message_update(
            config, name=f"Citizen {n}", wa_id=wa_id, user_id=f"IN.{n:015d}", message=message | {"text": {"body": text}}
        )
        body = encode(update)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, SECRET)}
        response = await http.post(f"{webs[(n + m) % 2]}/webhooks/whatsapp", content=body, headers=headers)
        assert response.status_code == 200, response.text


async def settled(engine: AsyncEngine, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with engine.connect() as connection:
            messages = select(inbox.c.id).where(inbox.c.kind == "message")
            waiting = (await connection.execute(messages.where(inbox.c.state != "done"))).all()
            unsent = (await connection.execute(select(outbox.c.id).where(outbox.c.state != "sent"))).all()
            count = len((await connection.execute(messages)).all())
        if count == CITIZENS * MESSAGES and not waiting and not unsent:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{len(waiting)} messages and {len(unsent)} replies left"
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_web_and_two_worker_processes_keep_order_answer_once_and_share_the_budget(
    database_url: str, tmp_path: Path
) -> None:
    emulator_port, web_ports = free_port(), [free_port(), free_port()]
    webs = [f"http://127.0.0.1:{port}" for port in web_ports]
    env = {
        **os.environ,
        "SEVAMITRA_DATABASE_URL": database_url,
        "SEVAMITRA_GRAPH_API_URL": f"http://127.0.0.1:{emulator_port}",
        "SEVAMITRA_WHATSAPP_APP_SECRET": SECRET,
        "SEVAMITRA_WHATSAPP_ACCESS_TOKEN": TOKEN,
        "SEVAMITRA_WHATSAPP_VERIFY_TOKEN": "scale-verify",
        "SEVAMITRA_PUBLIC_URL": webs[0],
        "SEVAMITRA_SEND_RATE_PER_SECOND": str(RATE),
        "SEVAMITRA_SPEECH_BACKEND": "none",
        "SEVAMITRA_ASSISTANT_EMBEDDINGS": "false",
        "SEVAMITRA_EMULATOR_ENABLED": "false",
        "SEVAMITRA_CACHE_DIR": str(tmp_path / "cache"),
        "SEVAMITRA_KEYS_DIR": str(tmp_path / "keys"),
        "SEVAMITRA_LOG_DIR": str(tmp_path / "tlog"),
    }
    config = EmulatorConfig(webhook_url=f"{webs[0]}/webhooks/whatsapp", app_secret=SECRET, access_token=TOKEN)
    commands = [
        ["emulator", "--port", str(emulator_port), "--webhook-url", config.webhook_url],
        *(["serve", "--no-worker", "--port", str(port)] for port in web_ports),
        ["worker"],
        ["worker"],
    ]
    engine = create_engine(database_url)
    with processes(env, *commands, logs=tmp_path):
        async with httpx.AsyncClient(timeout=20) as http:
            for url in (f"http://127.0.0.1:{emulator_port}/_chat/info", *(f"{web}/health" for web in webs)):
                await answering(http, url)
            await asyncio.gather(*(citizen(http, webs, n, config) for n in range(CITIZENS)))
            await settled(engine)
    async with engine.connect() as connection:
        messages = select(inbox.c.id, inbox.c.address).where(inbox.c.kind == "message")
        received = (await connection.execute(messages.order_by(inbox.c.id))).all()
        columns = (outbox.c.id, outbox.c.address, outbox.c.cause, outbox.c.payload, outbox.c.sent_at)
        sent = (await connection.execute(select(*columns).order_by(outbox.c.id))).all()
    await engine.dispose()

    reads = [row.cause for row in sent if row.payload["kind"] == "mark_read"]
    assert sorted(reads) == sorted(row.id for row in received)  # every message answered once
    assert {row.cause for row in sent if row.payload["kind"] != "mark_read"} == {row.id for row in received}
    for address in {row.address for row in received}:
        causes = [row.cause for row in sent if row.address == address]
        assert causes == sorted(causes), address  # each citizen's replies in the order of their messages

    times = sorted(row.sent_at for row in sent)
    window = [sum(1 for t in times if start <= t < start + timedelta(seconds=1)) for start in times]
    assert max(window) <= 2 * RATE + 2  # a full bucket's burst, then the rate: never twice that
    assert times[-1] - times[0] >= timedelta(seconds=(len(times) - RATE) / RATE * 0.9)
