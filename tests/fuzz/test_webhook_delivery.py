"""Webhook deliveries under fuzzing, end to end: mutated bodies, correctly signed, POSTed to the
app on a real database. Each is answered 200 with every item stored: a delivery answered 5xx
would come back from Meta for days, and one stored in part would lose messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example
from hypothesis import strategies as st
from sqlalchemy import func, select

from sevamitra.adapters.sql.tables import inbox
from sevamitra.adapters.whatsapp.webhook import split_update
from sevamitra.bootstrap import Platform, build
from sevamitra.emulator.payloads import encode, signature
from sevamitra.settings import Settings
from sevamitra.web.app import create_app
from tests.fuzz.harness import fuzz
from tests.fuzz.mutations import inputs, mutated_json
from tests.fuzz.seeds import FOUND, webhook_bodies, webhook_updates

SECRET = "delivery-fuzz-secret"


@dataclass
class Served:
    runner: asyncio.Runner
    platform: Platform
    http: httpx.AsyncClient

    def deliver(self, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, SECRET)}
        return self.runner.run(self.http.post("/webhooks/whatsapp", content=body, headers=headers))

    def stored(self, keys: set[str]) -> int:
        async def count() -> int:
            async with self.platform.cases.engine.connect() as connection:
                query = select(func.count()).select_from(inbox).where(inbox.c.key.in_(keys))
                return int((await connection.execute(query)).scalar_one())

        return self.runner.run(count())


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """The app in this process on a migrated database, without its worker; one event loop for all inputs."""
    settings = Settings(
        env="dev",
        database_url=database_url,
        whatsapp_app_secret=SECRET,
        graph_api_url="http://127.0.0.1:9",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    with asyncio.Runner() as runner:
        platform = build(settings)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(platform, run_worker=False)), base_url="http://sevamitra.test"
        )
        try:
            yield Served(runner, platform, http)
        finally:
            runner.run(http.aclose())
            runner.run(platform.aclose())


bodies = st.deferred(lambda: inputs(webhook_bodies(), max_size=4096) | mutated_json(webhook_updates()).map(as_body))


def as_body(update: Any) -> bytes:
    return encode(update) if isinstance(update, dict) else encode({"entry": update})


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
@example(body=FOUND["a number too large for a float"])
@example(body=FOUND["a message id longer than the inbox's key"])
@example(body=FOUND["a sender longer than the inbox's address"])
@fuzz(bodies, weight=0.3)
def test_signed_mutated_deliveries_are_stored_whole(served: Served, body: bytes) -> None:
    answer = served.deliver(body)
    assert answer.status_code == 200, answer.text
    keys = {item.key for item in split_update(body)}
    assert served.stored(keys) == len(keys)
