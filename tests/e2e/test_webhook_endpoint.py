"""POST /webhooks/whatsapp over HTTP (in process): what it answers, and what it stores first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sevamitra.adapters.payments.whatsapp import verified_events
from sevamitra.adapters.sql.tables import inbox
from sevamitra.bootstrap import Platform, build
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, payment_status, signature
from sevamitra.settings import Settings
from sevamitra.web.app import MAX_WEBHOOK_BYTES, _may_hold_payments, create_app

SECRET = "webhook-endpoint-secret"
CONFIG = EmulatorConfig(webhook_url="", app_secret=SECRET, access_token="")


def message(message_id: str, text: str = "నమస్కారం") -> bytes:
    sent = {"from": "919000000777", "id": message_id, "timestamp": "1768469400", "type": "text", "text": {"body": text}}
    return encode(message_update(CONFIG, name="Lakshmi", wa_id="919000000777", user_id="IN.1", message=sent))


def payment(message_id: str) -> dict[str, Any]:
    parameters = {
        "reference_id": "AP-TAX-1",
        "total_amount": {"value": 12_500, "offset": 100},
        "currency": "INR",
    }
    status = payment_status(
        message_id, parameters, paid=True, recipient_id="919000000777", timestamp=1768469400, transaction_id="T1"
    )
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}, "statuses": [status]}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, SECRET)}


@pytest.fixture
async def served(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    """The web app on a migrated database, in this process, without its lifespan (no worker)."""
    settings = Settings(
        env="dev",
        database_url=database_url,
        whatsapp_app_secret=SECRET,
        graph_api_url="http://127.0.0.1:9",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    platform = build(settings)
    transport = httpx.ASGITransport(app=create_app(platform, run_worker=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sevamitra.test") as http:
            yield platform, http
    finally:
        await platform.aclose()


async def stored(platform: Platform) -> int:
    async with platform.cases.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(inbox))).scalar_one())


async def test_a_signed_delivery_is_stored_before_its_200_and_a_redelivery_once(
    served: tuple[Platform, httpx.AsyncClient],
) -> None:
    platform, http = served
    body = message("wamid.E1")
    first = await http.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert (first.status_code, first.text) == (200, "OK")
    assert first.headers["content-type"] == "text/plain; charset=utf-8" and first.headers["x-request-id"]
    assert await stored(platform) == 1
    again = await http.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert again.status_code == 200 and await stored(platform) == 1


async def test_concurrent_deliveries_are_each_answered_once_stored(served: tuple[Platform, httpx.AsyncClient]) -> None:
    platform, http = served
    bodies = [message(f"wamid.C{n % 30}", f"text {n % 30}") for n in range(60)]  # every one delivered twice
    answers = await asyncio.gather(*(http.post("/webhooks/whatsapp", content=b, headers=signed(b)) for b in bodies))
    assert [a.status_code for a in answers] == [200] * 60
    assert await stored(platform) == 30


async def test_unsigned_forged_and_oversized_deliveries_are_refused_and_not_stored(
    served: tuple[Platform, httpx.AsyncClient],
) -> None:
    platform, http = served
    body = message("wamid.R1")
    missing = await http.post("/webhooks/whatsapp", content=body, headers={"Content-Type": "application/json"})
    assert (missing.status_code, missing.text) == (401, "missing X-Hub-Signature-256")
    forged = await http.post("/webhooks/whatsapp", content=body + b" ", headers=signed(body))
    assert (forged.status_code, forged.text) == (403, "bad signature")
    huge = b" " * (MAX_WEBHOOK_BYTES + 1)
    assert (await http.post("/webhooks/whatsapp", content=huge, headers=signed(huge))).status_code == 413
    assert await stored(platform) == 0


def test_a_body_is_read_for_payments_whenever_a_json_reader_could_find_one() -> None:
    update = payment("wamid.P1")
    plain = json.dumps(update).encode()
    escaped = plain.replace(b"payment", b"p\\u0061yment")  # the key "payment" too: no plain word is left
    assert b"payment" not in escaped and json.loads(escaped) == update
    for body in (plain, escaped, json.dumps(update).encode("utf-16"), json.dumps(update).encode("utf-32")):
        assert verified_events(body) and _may_hold_payments(body)
    for body in (message("wamid.P2"), message("wamid.P3", "పే")):
        assert not verified_events(body)
    assert not any(_may_hold_payments(body) for body in (message("wamid.P2"), message("wamid.P3", "పే"), b"{"))
