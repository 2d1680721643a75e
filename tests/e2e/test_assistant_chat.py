"""The assistant through the emulator: free text in four writing styles reaches its service, a fee
question is answered from the catalogue, an ambiguous phrase gives a list, gibberish a polite fallback,
and a number word picks a menu entry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.e2e.conftest import Running

WA = "919000000888"


async def said(running: Running, text: str, *, kind: str = "text") -> dict[str, Any]:
    """Send one message; the platform's last reply to it, once its replies stop coming."""
    before = len(await running.replies(WA, 0, timeout=0))
    if kind == "text":
        await running.send(WA, type="text", text=text)
    else:
        await running.send(WA, type=kind, id=text, title=text)
    count = len(await running.replies(WA, before + 1))
    while True:  # a turn's replies are queued together; wait until no more arrive
        await asyncio.sleep(0.3)
        replies = await running.replies(WA, 0, timeout=0)
        if len(replies) == count:
            break
        count = len(replies)
    body: dict[str, Any] = replies[-1]["body"]  # type: ignore[assignment]
    return body


def shown(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


async def test_free_text_in_four_styles_and_the_fallbacks(running: Running) -> None:
    await running.new_citizen(WA)
    first = await said(running, "naaku income certificate kavali")  # a first message naming a service
    assert "ఆదాయ ధృవీకరణ పత్రం" in shown(first) and "form:start" in shown(first)
    await said(running, "lang:en", kind="button_reply")

    for text, expected in (
        ("ఆదాయ ధృవీకరణ పత్రం కావాలి", "Income certificate"),
        ("मुझे जाति प्रमाण पत्र चाहिए", "Integrated certificate"),
        ("I need an encumbrance certificate for my plot", "Encumbrance certificate"),
    ):
        reply = await said(running, text)
        assert expected in shown(reply), (text, shown(reply)[:300])

    fee = await said(running, "how much is the fee for EC")
    assert "Encumbrance certificate" in shown(fee) and "Fee" in shown(fee)

    ambiguous = await said(running, "pension")
    assert ambiguous["interactive"]["type"] == "list"
    rows = [r for s in ambiguous["interactive"]["action"]["sections"] for r in s["rows"]]
    assert 2 <= len(rows) <= 5 and all(r["id"].startswith("svc:social-welfare.") for r in rows)

    fallback = await said(running, "qwxz plmk")
    assert "did not understand" in shown(fallback) or "departments" in shown(fallback).casefold()

    await said(running, "menu")
    services = await said(running, "rendu")  # the second department, by its Telugu number word
    ids = [r["id"] for s in services["interactive"]["action"]["sections"] for r in s["rows"]]
    assert any(i.startswith("svc:") for i in ids)
