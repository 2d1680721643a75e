"""Test helpers: a fake platform that checks every webhook's signature, fast settings, small shortcuts."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sevamitra.emulator import EmulatorConfig

APP_SECRET = "emulator-test-secret"
ACCESS_TOKEN = "emulator-test-token"
PHONE_NUMBER_ID = "106540352242922"
WEBHOOK_URL = "http://platform.test/webhooks/whatsapp"
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


class FakePlatform:
    """Receives webhooks like the real platform: signature first, then 200 (or a scripted failure)."""

    def __init__(self) -> None:
        self.accepted: list[bytes] = []  # raw bodies answered 200, in arrival order
        self.attempts = 0
        self.bad_signatures = 0
        self.script: list[int] = []  # statuses to answer before answering 200 again
        self.app = Starlette(routes=[Route("/webhooks/whatsapp", self.webhook, methods=["POST"])])

    async def webhook(self, request: Request) -> Response:
        raw = await request.body()
        self.attempts += 1
        expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
            self.bad_signatures += 1
            return Response("bad signature", status_code=403)
        assert request.headers["content-type"] == "application/json"
        status = self.script.pop(0) if self.script else 200
        if status == 200:
            self.accepted.append(raw)
        return Response(status_code=status)

    def updates(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.accepted]

    def values(self) -> list[dict[str, Any]]:
        return [change["value"] for u in self.updates() for e in u["entry"] for change in e["changes"]]

    def messages(self) -> list[dict[str, Any]]:
        return [m for v in self.values() for m in v.get("messages", [])]

    def statuses(self) -> list[dict[str, Any]]:
        return [s for v in self.values() for s in v.get("statuses", [])]


def fast_config(**overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {
        "webhook_url": WEBHOOK_URL,
        "app_secret": APP_SECRET,
        "access_token": ACCESS_TOKEN,
        "webhook_retry_base": 0.005,
        "webhook_retry_cap": 0.02,
        "webhook_max_attempts": 5,
        "delivered_after": 0.005,
    }
    return EmulatorConfig(**(settings | overrides))


def text_to(wa_id: str, body: str = "నమస్కారం") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_id,
        "type": "text",
        "text": {"body": body},
    }


async def citizen_says(client: httpx.AsyncClient, wa_id: str, text: str = "hi") -> dict[str, Any]:
    response = await client.post(f"/_chat/{wa_id}/send", json={"type": "text", "text": text})
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()["message"]
    return message
