"""Paying property tax in chat: the decision asks for the amount due with a pay link, the simulated
gateway takes the payment, its signed webhook settles it, and the receipt PDF arrives in the chat."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from tests.e2e.conftest import Running

CITIZEN = "919000000777"
STEPS = [
    ("text", "hi"),
    ("button_reply", "lang:en"),
    ("list_reply", "svc:municipal.property-tax-payment"),
    ("button_reply", "form:start"),
    ("text", "1073506411"),
    ("button_reply", "form:submit"),
]


async def bodies(running: Running) -> list[Any]:
    return [m["body"] for m in await running.replies(CITIZEN, 0, timeout=0)]  # type: ignore[index]


async def until(running: Running, pattern: str, timeout: float = 20.0) -> re.Match[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = json.dumps(await bodies(running), ensure_ascii=False)
        if found := re.search(pattern, seen):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {pattern!r} in {seen[-800:]}"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_property_tax_is_paid_through_the_gateway_and_the_receipt_reaches_the_chat(running: Running) -> None:
    await running.new_citizen(CITIZEN)
    for kind, value in STEPS:
        count = len(await bodies(running))
        if kind == "text":
            await running.send(CITIZEN, type="text", text=value)
        else:
            await running.send(CITIZEN, type=kind, id=value, title=value)
        await running.replies(CITIZEN, count + 1)
    link = (await until(running, r"http://127\.0\.0\.1:\d+/pay/AP-[A-Z0-9-]+\?t=[A-Za-z0-9_-]+")).group(0)
    assert "850" in json.dumps(await bodies(running), ensure_ascii=False)  # the amount due, from the registry
    assert "/c/" not in json.dumps(await bodies(running))  # no receipt before the payment

    opened = await running.http.get(link)
    assert opened.status_code == 303
    page = opened.headers["location"]
    assert "/pay/sim/" in page and (await running.http.get(page)).status_code == 200
    paid = await running.http.post(page, data={"outcome": "paid"})
    assert paid.status_code in (200, 303)
    receipt = (await until(running, r"/c/[A-Za-z0-9_-]+\.pdf")).group(0)
    pdf = await running.http.get(f"{running.url}{receipt}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sent = json.dumps(await bodies(running))
    assert sent.count("/c/") == 1  # exactly one receipt
