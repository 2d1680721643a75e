"""A citizen's first conversation through everything: HTTP → inbox → worker → outbox → Graph API (emulator)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from tests.e2e.conftest import Running

WA = "919000000777"


def body(message: dict[str, Any]) -> dict[str, Any]:
    return message["body"]  # type: ignore[no-any-return]


def list_rows(message: dict[str, Any]) -> list[dict[str, str]]:
    interactive = body(message)["interactive"]
    assert interactive["type"] == "list"
    return [row for section in interactive["action"]["sections"] for row in section["rows"]]


async def test_hi_then_telugu_then_the_menus(running: Running) -> None:
    await running.new_citizen(WA)
    await running.send(WA, type="text", text="hi")
    greeting, language = await running.replies(WA, 2)
    assert "స్వాగతం" in body(greeting)["text"]["body"]
    buttons = body(language)["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["lang:te", "lang:en", "lang:hi"]

    await running.send(WA, type="button_reply", id="lang:te", title="తెలుగు")
    replies = await running.replies(WA, 4)
    departments = replies[3]
    assert body(departments)["interactive"]["action"]["button"] == "శాఖలు"
    assert list_rows(departments)[0] == {
        "id": "dept:revenue",
        "title": "రెవెన్యూ",
        "description": "ధృవీకరణ పత్రాలు, భూమి రికార్డులు",
    }

    await running.send(WA, type="list_reply", id="dept:revenue", title="రెవెన్యూ")
    services = (await running.replies(WA, 5))[4]
    assert any(r["id"] == "svc:income-certificate" for r in list_rows(services))

    await running.send(WA, type="list_reply", id="svc:income-certificate", title="ఆదాయ ధృవీకరణ పత్రం")
    details = (await running.replies(WA, 6))[5]
    assert "₹45" in body(details)["interactive"]["body"]["text"]

    await running.send(WA, type="text", text="మెనూ")
    again = (await running.replies(WA, 7))[6]
    assert list_rows(again)[0]["id"] == "dept:revenue"


async def test_a_redelivered_message_is_answered_once(running: Running) -> None:
    await running.new_citizen(WA)
    message_id = await running.send(WA, type="text", text="hi")
    assert len(await running.replies(WA, 2)) == 2
    response = await running.http.post(f"{running.url}/emulator/_chat/{WA}/redeliver/{message_id}")
    response.raise_for_status()
    await asyncio.sleep(1.5)
    assert len(await running.replies(WA, 3, timeout=0.5)) == 2


async def test_status_webhooks_reach_the_messages_they_report_on(running: Running) -> None:
    await running.new_citizen(WA)
    await running.send(WA, type="text", text="hi")
    await running.replies(WA, 2)
    for _ in range(50):
        statuses = {m["status"] for m in await running.chat(WA) if m["direction"] == "out"}
        if statuses <= {"delivered", "read"}:
            break
        await asyncio.sleep(0.1)
    assert statuses <= {"delivered", "read"}


async def test_webhook_signatures_are_checked_on_the_raw_body(running: Running) -> None:
    update = {"object": "whatsapp_business_account", "entry": []}
    raw = json.dumps(update).encode()
    good = "sha256=" + hmac.new(b"e2e-secret", raw, hashlib.sha256).hexdigest()
    url = f"{running.url}/webhooks/whatsapp"
    headers = {"Content-Type": "application/json"}
    assert (await running.http.post(url, content=raw, headers=headers)).status_code == 401
    wrong = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert (await running.http.post(url, content=raw, headers=wrong)).status_code == 403
    altered = {**headers, "X-Hub-Signature-256": good}
    assert (await running.http.post(url, content=raw + b" ", headers=altered)).status_code == 403
    assert (await running.http.post(url, content=raw, headers=altered)).status_code == 200


async def test_the_subscription_handshake(running: Running) -> None:
    url = f"{running.url}/webhooks/whatsapp"
    ok = await running.http.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "e2e-verify", "hub.challenge": "42"}
    )
    assert (ok.status_code, ok.text) == (200, "42")
    bad = await running.http.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"}
    )
    assert bad.status_code == 403
