"""A citizen's first conversation through everything: HTTP → inbox → worker → outbox → Graph API (emulator)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from sevamitra.core.idnumbers import verhoeff_digit
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
    assert list_rows(departments)[0]["id"] == "dept:revenue"
    assert list_rows(departments)[0]["title"] == "రెవెన్యూ"

    await running.send(WA, type="list_reply", id="dept:revenue", title="రెవెన్యూ")
    services = (await running.replies(WA, 5))[4]
    assert all(r["id"].startswith(("svc:revenue.", "page:", "nav:")) for r in list_rows(services))

    await running.send(WA, type="text", text="మెనూ")
    again = (await running.replies(WA, 6))[5]
    assert list_rows(again)[0]["id"] == "dept:revenue"


async def test_applying_for_an_income_certificate_end_to_end(running: Running) -> None:
    await running.new_citizen(WA)
    steps: list[dict[str, str]] = [
        {"type": "text", "text": "hi"},
        {"type": "button_reply", "id": "lang:en", "title": "English"},
        {"type": "text", "text": "income certificate"},
        {"type": "button_reply", "id": "form:start", "title": "Apply"},
    ]
    for message in steps:
        count = len(await running.replies(WA, 0, timeout=0))
        await running.send(WA, **message)
        await settled(running, count + 1)
    answered = 0
    for _ in range(20):  # answer whatever the form asks with valid sample answers
        out = await settled(running, 1)
        last = body(out[-1])
        text = json.dumps(last, ensure_ascii=False)
        if "Submit" in text and "form:submit" in text:
            break
        count = len(out)
        await running.send(WA, **sample_answer(last))
        answered += 1
        await settled(running, count + 1)
    await running.send(WA, type="button_reply", id="form:submit", title="Submit")
    for _ in range(100):
        done = json.dumps([body(m) for m in await running.replies(WA, 1)], ensure_ascii=False)
        if "AP-REV-INC-" in done:
            break
        await asyncio.sleep(0.1)
    assert "AP-REV-INC-2026-" in done or "AP-REV-INC-20" in done
    assert answered >= 4


async def settled(running: Running, at_least: int) -> list[dict[str, object]]:
    """The replies once there are `at_least` and no more arrive (a turn may answer with several)."""
    out = await running.replies(WA, at_least)
    while True:
        await asyncio.sleep(0.25)
        now = await running.replies(WA, 0, timeout=0)
        if len(now) == len(out):
            return out
        out = now


def sample_answer(question: dict[str, Any]) -> dict[str, str]:
    """A valid answer to whatever the income certificate form asks."""
    if question.get("type") == "interactive":
        interactive = question["interactive"]
        if interactive["type"] == "list":
            rows = list_rows({"body": question})
            row = next((r for r in rows if r["id"] == "place:ntr"), rows[0])
            return {"type": "list_reply", "id": row["id"], "title": row["title"]}
        button = interactive["action"]["buttons"][0]["reply"]
        return {"type": "button_reply", "id": button["id"], "title": button["title"]}
    asked = question["text"]["body"].lower()
    if "send the number" in asked:  # a numbered choice
        return {"type": "text", "text": "1"}
    for clue, answer in SAMPLES:
        if clue in asked:
            return {"type": "text", "text": answer}
    return {"type": "text", "text": "skip"}


AADHAAR = "23456789012" + verhoeff_digit("23456789012")
SAMPLES = [
    ("aadhaar", AADHAAR),
    ("date of birth", "15-08-1985"),
    ("name", "Lakshmi Devi"),
    ("income", "120000"),
    ("mobile", "9876543210"),
    ("purpose", "1"),
    ("what is it for", "1"),
    ("occupation", "1"),
]


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
