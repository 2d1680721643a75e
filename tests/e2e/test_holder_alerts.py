"""A holder asks in chat to hear of online verifications, and hears of one (once) when a verifier checks."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from tests.e2e.conftest import Running
from tests.e2e.test_first_conversation import body

WA = "919000000888"
STEPS = [
    ("text", "hi"),
    ("button_reply", "lang:en"),
    ("list_reply", "svc:revenue.adangal-extract"),
    ("button_reply", "form:start"),
    ("list_reply", "place:ntr"),
    ("list_reply", "place:ntr/vijayawada-rural"),
    ("list_reply", "place:ntr/vijayawada-rural/nidamanuru"),
    ("text", "123/4A"),
    ("button_reply", "form:submit"),
]


async def say(running: Running, kind: str, value: str) -> None:
    count = len(await running.replies(WA, 0, timeout=0))
    if kind == "text":
        await running.send(WA, type="text", text=value)
    else:
        await running.send(WA, type=kind, id=value, title=value)
    await running.replies(WA, count + 1)


async def until(running: Running, pattern: str, timeout: float = 15.0) -> re.Match[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = json.dumps([body(m) for m in await running.replies(WA, 0, timeout=0)], ensure_ascii=False)
        if found := re.search(pattern, seen):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {pattern!r} in {seen[-600:]}"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_a_holder_who_asked_hears_once_of_a_verification_on_the_portal(running: Running) -> None:
    await running.new_citizen(WA)
    for kind, value in STEPS:
        await say(running, kind, value)
    number = (await until(running, r"alerts:on:(AP-REV-[A-Z]+-\d{4}-\d{6})")).group(1)
    row = await running.platform.certificates.by_number(number)
    assert row is not None
    qr = running.platform.certifier.qr_text(row.cose)
    url = f"{running.url}/V/{qr.rpartition('/V/')[2]}"

    page = await running.http.get(url)  # before the holder asked: no note
    assert 'data-verdict="valid"' in page.text
    await asyncio.sleep(0.5)
    assert "verified on the state's portal" not in json.dumps(
        [body(m) for m in await running.replies(WA, 0, timeout=0)]
    )

    await say(running, "button_reply", f"alerts:on:{number}")
    await until(running, f"alerts:off:{number}")
    await running.http.get(url)
    await until(running, rf"Your certificate {number} was verified on the state's portal on .*Valid")
    await running.http.get(url)  # a second scan within the interval: no second note
    await asyncio.sleep(1.0)
    notes = [
        m
        for m in await running.replies(WA, 0, timeout=0)
        if "was verified on" in json.dumps(body(m), ensure_ascii=False)
    ]
    assert len(notes) == 1
