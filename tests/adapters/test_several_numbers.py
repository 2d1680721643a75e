"""One deployment, several WhatsApp numbers: each citizen is answered from the number they wrote to."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from sevamitra.adapters.sql.stores import enqueue_message
from sevamitra.bootstrap import build
from sevamitra.core.messages import Recipient, TextOut, outbound_to_dict
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update
from sevamitra.settings import Settings
from sevamitra.testing.clock import FixedClock

MAIN, REVENUE = "106540352242922", "106540352242999"


def update(number: str, wa_id: str, text: str, message_id: str) -> bytes:
    """A citizen's message to one of the deployment's numbers, as Meta delivers it."""
    config = EmulatorConfig(webhook_url="", app_secret="s", access_token="", phone_number_id=number)
    message = {"from": wa_id, "id": message_id, "timestamp": "1768469400", "type": "text", "text": {"body": text}}
    return encode(message_update(config, name="Citizen", wa_id=wa_id, user_id=f"IN.{wa_id}", message=message))


def settings_for(database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        graph_api_url="https://graph.test",
        whatsapp_phone_number_id=MAIN,
        speech_backend="none",
        assistant_embeddings=False,
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        **extra,
    )


async def test_each_citizen_is_answered_from_the_number_they_wrote_to(database_url: str, tmp_path: Path) -> None:
    sent: list[tuple[str, str]] = []  # (number, citizen) of each message the Graph API was asked to send
    ids = itertools.count(1)

    def graph(request: httpx.Request) -> httpx.Response:
        number = request.url.path.split("/")[2]
        body = json.loads(request.content)
        if body.get("status") == "read":
            return httpx.Response(200, json={"success": True})
        sent.append((number, body["to"]))
        return httpx.Response(200, json={"messages": [{"id": f"wamid.out.{next(ids)}"}]})

    settings = settings_for(database_url, tmp_path, whatsapp_numbers={REVENUE: "919552300099"})
    platform = build(settings, http=httpx.AsyncClient(transport=httpx.MockTransport(graph)), clock=FixedClock())
    try:
        await platform.start()
        await platform.receive(update(REVENUE, "919000000001", "hi", "wamid.A1"))
        await platform.receive(update(MAIN, "919000000002", "hi", "wamid.B1"))
        while await platform.work_once():
            pass
        assert {number for number, to in sent if to == "919000000001"} == {REVENUE}
        assert {number for number, to in sent if to == "919000000002"} == {MAIN}

        # A message queued later by anyone (an officer's decision, an alert) follows the citizen's number,
        # and the number follows the citizen when they write to another one.
        sent.clear()
        async with platform.cases.engine.begin() as connection:
            recipient = Recipient(wa_id="919000000001")
            notice = outbound_to_dict(TextOut(body="Your application moved on"))
            await enqueue_message(connection, "919000000001", recipient, notice, platform.clock.now())
        while await platform.work_once():
            pass
        assert sent == [(REVENUE, "919000000001")]
        sent.clear()
        await platform.receive(update(MAIN, "919000000001", "hi", "wamid.A2"))
        while await platform.work_once():
            pass
        assert sent and {number for number, _ in sent} == {MAIN}
    finally:
        await platform.aclose()


async def test_a_number_the_deployment_does_not_serve_is_answered_from_the_main_one(
    database_url: str, tmp_path: Path
) -> None:
    numbers: list[str] = []

    def graph(request: httpx.Request) -> httpx.Response:
        numbers.append(request.url.path.split("/")[2])
        return httpx.Response(200, json={"messages": [{"id": f"wamid.out.{len(numbers)}"}]})

    settings = settings_for(database_url, tmp_path)
    platform = build(settings, http=httpx.AsyncClient(transport=httpx.MockTransport(graph)), clock=FixedClock())
    try:
        await platform.start()
        await platform.receive(update("106540352240000", "919000000003", "hi", "wamid.C1"))
        while await platform.work_once():
            pass
        assert numbers and set(numbers) == {MAIN}
    finally:
        await platform.aclose()


def test_the_other_numbers_are_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEVAMITRA_WHATSAPP_NUMBERS", json.dumps({REVENUE: "919552300099"}))
    assert Settings().whatsapp_numbers == {REVENUE: "919552300099"}
