"""The database goes away and comes back while the platform runs, with no restart.

PostgreSQL: a TCP proxy between the platform and the server, which the test cuts (every connection
dropped, new ones refused) and restores; the machine's PostgreSQL itself is never touched. While it is
cut, a webhook is answered 503 (Meta delivers it again) instead of 200 for something not stored, and
`/readyz` fails; once restored, webhooks are stored again, `/readyz` passes, and a citizen's message the
emulator kept redelivering is answered. The recovery times are printed (not asserted tightly).

SQLite: the database file on a tiny tmpfs in a mount namespace of its own (`unshare -m`), filled up by
another file: the disk is really full, the webhook answers 503, and once room is made it stores again.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, signature
from tests.conftest import REPO
from tests.e2e.conftest import Running, free_port, platform_on_port

SECRET = "e2e-secret"  # the app secret `platform_on_port` gives the platform
WA = "919000000601"


class TcpProxy:
    """Forwards a loopback port to PostgreSQL. `cut` drops every connection and stops listening (the server is
    down); `cut(hang=True)` drops them and takes new ones without answering until `start` (a network that went
    silent, then came back: what was sent meanwhile goes through late)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._closed = False

    async def start(self) -> None:
        self._flowing.set()
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self, *, hang: bool = False) -> None:
        self._flowing.clear()
        if not hang and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # a reset, as when the server's host goes away
        self._open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        await self._flowing.wait()
        if self._closed or writer.is_closing():
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, upstream}
        await asyncio.gather(self._pipe(reader, upstream), self._pipe(upstream_reader, writer))

    async def close(self) -> None:
        self._closed = True
        await self.cut()
        self._flowing.set()  # the connections held back end now

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        self._open.discard(writer)
        writer.transport.abort()


@asynccontextmanager
async def proxied(database_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy, url.set(port=proxy.port).render_as_string(hide_password=False)
    finally:
        await proxy.close()


def update(message_id: str, text: str = "hi") -> bytes:
    config = EmulatorConfig(webhook_url="", app_secret=SECRET, access_token="")
    sent = {"from": WA, "id": message_id, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
    return encode(message_update(config, name="Lakshmi", wa_id=WA, user_id="IN.601", message=sent))


async def deliver(running: Running, message_id: str) -> int:
    body = update(message_id)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, SECRET)}
    return (await running.http.post(f"{running.url}/webhooks/whatsapp", content=body, headers=headers)).status_code


async def until(check: object, timeout: float = 30.0) -> float:
    """Seconds until `check()` (a coroutine function) is true."""
    started = time.perf_counter()
    while not await check():  # type: ignore[operator]
        assert time.perf_counter() - started < timeout, "no recovery"
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgresql_cut_and_restored_the_webhook_answers_503_then_recovers_without_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        proxied(database_url) as (proxy, url),
        platform_on_port(url, tmp_path, webhook_store_seconds=2.0) as running,
    ):
        await running.new_citizen(WA)
        await running.send(WA, type="text", text="hi")
        before = len(await running.replies(WA, 1))
        assert before >= 1 and await deliver(running, "wamid.before") == 200

        await proxy.cut()
        started = time.perf_counter()
        refused = await deliver(running, "wamid.during")
        answered_in = time.perf_counter() - started
        ready = await running.http.get(f"{running.url}/readyz")
        assert refused == 503  # not stored, so not acknowledged: Meta delivers it again
        assert (ready.status_code, ready.json()["reason"]) == (503, "database unreachable")
        await running.send(WA, type="text", text="menu")  # the emulator will keep redelivering it
        await asyncio.sleep(1.0)

        await proxy.start()
        attempt = iter(range(1_000_000))

        async def stored() -> bool:
            return await deliver(running, f"wamid.after.{next(attempt)}") == 200

        async def ready_again() -> bool:
            return (await running.http.get(f"{running.url}/readyz")).status_code == 200

        async def answered() -> bool:
            return len(await running.replies(WA, before + 1, timeout=0.1)) > before

        webhook_back = await until(stored)
        readyz_back = await until(ready_again)
        answered_back = await until(answered)
        print(  # noqa: T201 (the measured figures are part of what this test reports)
            f"\nPostgreSQL cut: webhook answered 503 in {answered_in * 1000:.0f} ms; after the restore, webhooks "
            f"stored again in {webhook_back * 1000:.0f} ms, /readyz passed {readyz_back * 1000:.0f} ms later, the "
            f"redelivered message answered {answered_back * 1000:.0f} ms after that"
        )
        assert answered_in < 5.0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_database_that_does_not_answer_gets_a_503_within_the_configured_time(
    database_url: str, tmp_path: Path
) -> None:
    """Connections that hang (a silent host) rather than fail: the webhook waits `WEBHOOK_STORE_SECONDS`."""
    async with (
        proxied(database_url) as (proxy, url),
        platform_on_port(url, tmp_path, webhook_store_seconds=1.0) as running,
    ):
        assert await deliver(running, "wamid.first") == 200
        await proxy.cut(hang=True)
        started = time.perf_counter()
        status = await deliver(running, "wamid.hung")
        took = time.perf_counter() - started
        await proxy.start()

        async def stored() -> bool:
            return await deliver(running, "wamid.hung") == 200  # Meta's redelivery of the same message

        back = await until(stored)
    print(  # noqa: T201
        f"\na database that does not answer: the webhook answered {status} after {took * 1000:.0f} ms; "
        f"stored {back * 1000:.0f} ms after the database answered again"
    )
    assert status == 503
    assert 0.9 <= took < 5.0


FULL_DISK_SCRIPT = r"""
import asyncio, json, os, subprocess, sys, time
from pathlib import Path

import httpx

from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.bootstrap import build
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, signature
from sevamitra.settings import Settings
from sevamitra.web.app import create_app

root = Path(sys.argv[1])
disk = root / "disk"
disk.mkdir()
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], check=True)
url = f"sqlite+aiosqlite:///{disk / 'sevamitra.db'}"
upgrade(url)
SECRET = "full-disk-secret"
CONFIG = EmulatorConfig(webhook_url="", app_secret=SECRET, access_token="")


def update(number):
    sent = {"from": "919000000602", "id": f"wamid.{number}", "timestamp": "1768469400", "type": "text",
            "text": {"body": "x" * 3000}}
    return encode(message_update(CONFIG, name="Lakshmi", wa_id="919000000602", user_id="IN.602", message=sent))


async def main():
    settings = Settings(env="dev", database_url=url, whatsapp_app_secret=SECRET, graph_api_url="http://127.0.0.1:9",
                        cache_dir=root / "cache", keys_dir=root / "keys", log_dir=root / "tlog")
    platform = build(settings)
    app = create_app(platform, run_worker=False)
    report = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://platform") as http:
        async def post(number):
            body = update(number)
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, SECRET)}
            return (await http.post("/webhooks/whatsapp", content=body, headers=headers)).status_code

        report["before"] = await post(0)
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as out:  # the rest of the disk, taken by something else
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError as error:
                report["filled"] = error.strerror
        statuses = [await post(n) for n in range(1, 30)]
        report["while_full"] = sorted(set(statuses))
        filler.unlink()
        started = time.perf_counter()
        number = 100
        while await post(number) != 200:
            number += 1
            await asyncio.sleep(0.05)
        report["recovered_seconds"] = time.perf_counter() - started
    await platform.aclose()
    print(json.dumps(report))


asyncio.run(main())
"""


UNSHARE = shutil.which("unshare")


def namespaces_work() -> bool:
    """Whether this process may make a mount namespace of its own and mount a tmpfs in it (root, not confined)."""
    if UNSHARE is None or os.geteuid() != 0:
        return False
    command = [UNSHARE, "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt && umount /mnt"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0  # noqa: S603 (fixed arguments)


def test_sqlite_on_a_full_disk_answers_503_and_stores_again_once_there_is_room(tmp_path: Path) -> None:
    if not namespaces_work():
        pytest.skip("needs root and mount namespaces (unshare -m) for a real, private, tiny tmpfs")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    assert UNSHARE is not None
    done = subprocess.run(  # noqa: S603 (this Python, fixed arguments)
        [UNSHARE, "-m", sys.executable, "-c", FULL_DISK_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nSQLite on a full disk: {report}")  # noqa: T201
    assert report["before"] == 200
    assert report["filled"] == "No space left on device"
    assert 503 in report["while_full"] and 200 not in report["while_full"]
    assert report["recovered_seconds"] < 10
