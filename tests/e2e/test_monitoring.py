"""Liveness, readiness, Prometheus metrics, request ids and JSON log lines, over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from sevamitra.adapters.logformat import log_handler
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.migrate import alembic_config, head_revisions, upgrade
from sevamitra.bootstrap import Platform, build
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, signature
from sevamitra.settings import Settings
from sevamitra.testing.clock import FixedClock
from sevamitra.web.app import create_app
from tests.e2e.conftest import Running, free_port

SECRET = "monitoring-secret"
WA = "919000000321"
Figures = dict[str, float]


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        env="dev",
        database_url=database_url,
        whatsapp_app_secret=SECRET,
        graph_api_url="http://127.0.0.1:9",  # never reached: the tests below answer the Graph API themselves
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        **overrides,
    )


@asynccontextmanager
async def served(settings: Settings, **build_options: Any) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    """The web app in this process, without its lifespan (nothing started, no worker)."""
    platform = build(settings, **build_options)
    transport = httpx.ASGITransport(app=create_app(platform, run_worker=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sevamitra.test") as http:
            yield platform, http
    finally:
        await platform.aclose()


async def scrape(http: httpx.AsyncClient) -> Figures:
    """Every sample of /metrics, keyed as Prometheus prints it: `name{label="value",...}`."""
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    figures = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            figures[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return figures


def delivery(text: str, message_id: str) -> tuple[bytes, dict[str, str]]:
    """A citizen's message as Meta delivers it: the body and its signed headers."""
    config = EmulatorConfig(webhook_url="", app_secret=SECRET, access_token="")
    message = {"from": WA, "id": message_id, "timestamp": "1768469400", "type": "text", "text": {"body": text}}
    body = encode(message_update(config, name="Lakshmi", wa_id=WA, user_id="IN.100000000000321", message=message))
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, SECRET)}


# ---------------------------------------------------------------- liveness and readiness


async def test_ready_on_a_migrated_database(database_url: str, tmp_path: Path) -> None:
    async with served(settings_for(database_url, tmp_path)) as (_, http):
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


async def test_not_ready_before_migrating_and_while_migrations_are_pending(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    async with served(settings_for(url, tmp_path)) as (_, http):
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": "database schema not migrated"}
        (head,) = head_revisions()
        earlier = ScriptDirectory.from_config(alembic_config(url)).get_revision(head).down_revision
        assert isinstance(earlier, str)
        await asyncio.to_thread(upgrade, url, earlier)  # alembic runs its own event loop
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == f"database schema at {earlier}, migrations at {head}"
        await asyncio.to_thread(upgrade, url)
        assert (await http.get("/readyz")).status_code == 200
        engine = create_engine(url)  # the next release's migrations ran first: this one keeps serving
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999_next'"))
        await engine.dispose()
        assert (await http.get("/readyz")).status_code == 200


def sqlite_removed(tmp_path: Path) -> tuple[str, Callable[[], None]]:
    return f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'db.sqlite'}", lambda: shutil.rmtree(tmp_path / "gone")


def postgres_not_listening(_: Path) -> tuple[str, Callable[[], None]]:
    return f"postgresql://sevamitra:secret@127.0.0.1:{free_port()}/sevamitra", lambda: None


@pytest.mark.parametrize("gone", [sqlite_removed, postgres_not_listening])
async def test_alive_but_not_ready_when_the_database_is_gone(
    gone: Callable[[Path], tuple[str, Callable[[], None]]], tmp_path: Path
) -> None:
    url, remove = gone(tmp_path)
    async with served(settings_for(url, tmp_path)) as (_, http):
        remove()
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": "database unreachable"}
        alive = await http.get("/healthz")
        assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
        assert (await http.get("/health")).status_code == 200
        body, headers = delivery("hi", "wamid.monitoring.gone")
        assert (await http.post("/webhooks/whatsapp", content=body, headers=headers)).status_code == 503
        figures = await scrape(http)  # the counters still answer; the database's gauges cannot
    assert figures['sevamitra_webhook_deliveries_total{outcome="unavailable"}'] == 1
    assert math.isnan(figures['sevamitra_queue_depth{queue="inbox"}'])
    assert math.isnan(figures["sevamitra_sla_breaches"])


# ---------------------------------------------------------------- request ids and log lines


async def test_request_ids_are_echoed_and_on_json_log_lines(tmp_path: Path) -> None:
    lines = io.StringIO()
    handler = log_handler("json", lines)
    logger = logging.getLogger("sevamitra")
    logger.addHandler(handler)
    try:
        async with served(settings_for(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}", tmp_path)) as (_, http):
            kept = await http.get("/readyz", headers={"X-Request-Id": "lb-7f3a.42"})
            forged = await http.get("/healthz", headers={"X-Request-Id": "x\tinjected=1 " + "y" * 80})
            fresh = await http.get("/healthz")
    finally:
        logger.removeHandler(handler)
    assert kept.headers["X-Request-Id"] == "lb-7f3a.42"
    assert len(forged.headers["X-Request-Id"]) == 32 and "injected" not in forged.headers["X-Request-Id"]
    assert fresh.headers["X-Request-Id"] != forged.headers["X-Request-Id"]
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    (not_ready,) = [line for line in logged if line["logger"] == "sevamitra.web.probes"]
    assert not_ready["level"] == "WARNING"
    assert not_ready["message"] == "not ready: database schema not migrated"
    assert not_ready["request_id"] == "lb-7f3a.42"
    assert "message_id" not in not_ready and not_ready["time"].endswith("+00:00")


# ---------------------------------------------------------------- metrics


async def test_metrics_count_deliveries_turns_and_sends_and_read_the_queues(database_url: str, tmp_path: Path) -> None:
    clock = FixedClock()
    throttling = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(429, json={})))
    async with served(settings_for(database_url, tmp_path), clock=clock, http=throttling) as (platform, http):
        await platform.start()
        body, headers = delivery("hi", "wamid.monitoring.1")
        assert (await http.post("/webhooks/whatsapp", content=body, headers=headers)).status_code == 200
        assert (await http.post("/webhooks/whatsapp", content=body, headers=headers)).status_code == 200  # again
        forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
        assert (await http.post("/webhooks/whatsapp", content=body, headers=forged)).status_code == 403

        clock.advance(seconds=30)
        waiting = await scrape(http)
        assert waiting['sevamitra_webhook_deliveries_total{outcome="stored"}'] == 1
        assert waiting['sevamitra_webhook_deliveries_total{outcome="duplicate"}'] == 1
        assert waiting['sevamitra_webhook_deliveries_total{outcome="bad_signature"}'] == 1
        assert waiting['sevamitra_webhook_deliveries_total{outcome="unavailable"}'] == 0
        assert waiting['sevamitra_queue_depth{queue="inbox"}'] == 1
        assert waiting['sevamitra_queue_oldest_age_seconds{queue="inbox"}'] == 30
        assert waiting['sevamitra_queue_depth{queue="outbox"}'] == 0
        assert waiting["sevamitra_turn_latency_seconds_count"] == 0
        assert waiting["sevamitra_sla_breaches"] == 0

        await platform.work_once()  # the turn, then one send: the Graph API answers 429
        clock.advance(seconds=5)
        worked = await scrape(http)
        assert worked["sevamitra_turn_latency_seconds_count"] == 1
        assert worked["sevamitra_turn_latency_seconds_sum"] == 30  # stored at 0 s, its turn committed at 30 s
        assert worked['sevamitra_turn_latency_seconds_bucket{le="10.0"}'] == 0
        assert worked['sevamitra_queue_depth{queue="inbox"}'] == 0
        assert worked['sevamitra_queue_depth{queue="outbox"}'] >= 2  # "read" and the replies, none sent
        assert worked['sevamitra_queue_oldest_age_seconds{queue="outbox"}'] == 5
        assert worked['sevamitra_messages_sent_total{result="retry"}'] == 1
        assert worked['sevamitra_messages_sent_total{result="sent"}'] == 0
        assert worked["sevamitra_graph_api_throttled_total"] == 1
    await throttling.aclose()


async def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    async with served(settings_for(url, tmp_path, metrics=False)) as (_, http):
        assert (await http.get("/metrics")).status_code == 404


async def test_a_conversation_over_a_real_port_shows_in_the_metrics(running: Running) -> None:
    await running.new_citizen(WA)
    await running.send(WA, type="text", text="hi")
    assert len(await running.replies(WA, 2)) >= 2
    async with httpx.AsyncClient(base_url=running.url, timeout=10) as http:
        deadline = asyncio.get_running_loop().time() + 10
        figures = await scrape(http)
        while figures['sevamitra_messages_sent_total{result="sent"}'] < 3:  # "read" and both replies
            assert asyncio.get_running_loop().time() < deadline, figures
            await asyncio.sleep(0.05)
            figures = await scrape(http)
        alive = await http.get("/healthz", headers={"X-Request-Id": "probe-1"})
    assert alive.headers["X-Request-Id"] == "probe-1"
    assert figures['sevamitra_webhook_deliveries_total{outcome="stored"}'] >= 1
    assert figures["sevamitra_turn_latency_seconds_count"] == 1
    assert 0 <= figures["sevamitra_turn_latency_seconds_sum"] < 10
    assert 0 <= figures['sevamitra_queue_oldest_age_seconds{queue="inbox"}'] < 60
    assert figures["process_resident_memory_bytes"] > 10 * 2**20
