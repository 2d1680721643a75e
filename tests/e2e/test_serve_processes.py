"""`serve --processes 2`: two web processes share one port; every delivery is stored once."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.tables import inbox
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, signature
from tests.e2e.conftest import free_port
from tests.e2e.test_scale_out import SEVAMITRA, answering, processes

SECRET = "processes-secret"
CONFIG = EmulatorConfig(webhook_url="", app_secret=SECRET, access_token="")
DELIVERIES = 200


def delivery(n: int) -> bytes:
    wa_id = f"9190000{n % 20:05d}"
    sent = {"from": wa_id, "id": f"wamid.P{n}", "timestamp": "1768469400", "type": "text", "text": {"body": "hi"}}
    return encode(message_update(CONFIG, name="Lakshmi", wa_id=wa_id, user_id=f"IN.{n % 20}", message=sent))


def web_processes(pid: int) -> set[int]:
    """The processes uvicorn spawned to serve (not multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return {child for child in found if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}


def test_several_processes_on_sqlite_are_refused(tmp_path: Path) -> None:
    env = {**os.environ, "SEVAMITRA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"}
    command = [SEVAMITRA, "serve", "--processes", "2", "--port", str(free_port())]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 (our own command)
    assert refused.returncode != 0 and "--processes needs PostgreSQL" in refused.stderr


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_web_processes_share_the_port_and_store_every_delivery_once(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SEVAMITRA_DATABASE_URL": database_url,
        "SEVAMITRA_GRAPH_API_URL": "http://127.0.0.1:9",
        "SEVAMITRA_WHATSAPP_APP_SECRET": SECRET,
        "SEVAMITRA_SPEECH_BACKEND": "none",
        "SEVAMITRA_ASSISTANT_EMBEDDINGS": "false",
        "SEVAMITRA_CACHE_DIR": str(tmp_path / "cache"),
        "SEVAMITRA_KEYS_DIR": str(tmp_path / "keys"),
        "SEVAMITRA_LOG_DIR": str(tmp_path / "tlog"),
    }
    with processes(env, ["serve", "--processes", "2", "--port", str(port)], logs=tmp_path) as [serve]:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await answering(http, "/health", timeout=120)
            assert len(web_processes(serve.pid)) == 2, (tmp_path / "process-0.log").read_text()
            bodies = [delivery(n % (DELIVERIES // 2)) for n in range(DELIVERIES)]  # each delivered twice
            signed = [{"Content-Type": "application/json", "X-Hub-Signature-256": signature(b, SECRET)} for b in bodies]
            answers = await asyncio.gather(
                *(http.post("/webhooks/whatsapp", content=b, headers=h) for b, h in zip(bodies, signed, strict=True))
            )
            assert {a.status_code for a in answers} == {200}
            assert all(a.headers["x-request-id"] for a in answers)
            # web processes only: the emulator is not mounted, and no worker touches the inbox
            assert (await http.get("/emulator/")).status_code == 404
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(inbox.c.state, func.count()).group_by(inbox.c.state))).all()
    await engine.dispose()
    assert dict(rows) == {"pending": DELIVERIES // 2}
