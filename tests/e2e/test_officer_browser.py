"""The back office end to end in headless Chromium: a citizen applies through the emulator, the
officer signs in with a password and a TOTP code, returns the application for a correction, the
citizen corrects it in chat, the officer approves, and the certificate PDF reaches the chat."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from sevamitra.adapters.officer_auth import totp_code
from tests.e2e.conftest import Running

CITIZEN = "919000000555"
STEPS = [
    ("text", "hi"),
    ("button_reply", "lang:en"),
    ("list_reply", "svc:registration.encumbrance-certificate"),
    ("button_reply", "form:start"),
    ("text", "Lakshmi Devi"),
    ("list_reply", "place:ntr"),
    ("list_reply", "place:ntr/vijayawada-rural"),
    ("list_reply", "place:ntr/vijayawada-rural/nidamanuru"),
    ("text", "123/4A"),
    ("text", "2010"),
    ("text", "2024"),
    ("button_reply", "form:submit"),
]
PASSWORD = "a-long-pass-phrase-2026"


async def out(running: Running) -> list[dict[str, Any]]:
    return [m["body"] for m in await running.replies(CITIZEN, 0, timeout=0)]  # type: ignore[misc]


async def say(running: Running, kind: str, value: str) -> None:
    count = len(await out(running))
    if kind == "text":
        await running.send(CITIZEN, type="text", text=value)
    else:
        await running.send(CITIZEN, type=kind, id=value, title=value)
    await running.replies(CITIZEN, count + 1)


async def until(running: Running, pattern: str, timeout: float = 20.0) -> re.Match[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = json.dumps(await out(running), ensure_ascii=False)
        if found := re.search(pattern, seen):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {pattern!r} in {seen[-800:]}"
        await asyncio.sleep(0.1)


async def sign_in(page: Page, running: Running, username: str, secret: str) -> None:
    await page.goto(f"{running.url}/dashboard")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("[data-testid=sign-in]")
    await page.wait_for_url(re.compile(r".*/dashboard/totp.*"))
    await page.fill("#code", totp_code(secret, datetime.now(UTC)))
    await page.click("[data-testid=verify]")
    await page.wait_for_url(re.compile(r".*/dashboard(\?.*)?$"))


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_return_for_correction_then_approve_delivers_the_certificate(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    await running.new_citizen(CITIZEN)
    for kind, value in STEPS:
        await say(running, kind, value)
    reference = (await until(running, r"AP-REG-[A-Z0-9]+-\d{4}-\d{6}")).group(0)
    _, secret = await running.platform.access.create_officer(
        username="sr-vijayawada-rural",
        display_name="Sub-Registrar",
        role="sub_registrar",
        place="ntr/vijayawada-rural",
        department_id=None,
        password=PASSWORD,
    )

    page = await browser.new_page()
    await sign_in(page, running, "sr-vijayawada-rural", secret)
    await page.click(f"[data-testid=row][data-reference='{reference}'] a")
    await page.wait_for_selector("[data-testid=answers]")
    assert "123/4A" in await page.inner_text("[data-testid=answers]")

    await page.click("details:has([data-testid=return]) summary")
    await page.check("input[name=fields][value=property_number]")
    await page.fill("#return-message", "Please give the full survey number with its sub-division.")
    await page.click("[data-testid=return]")
    await page.wait_for_selector("[data-testid=status]")
    await until(running, rf"fix:{reference}")
    assert "sub-division" in json.dumps(await out(running))

    await say(running, "button_reply", f"fix:{reference}")
    await say(running, "text", "123/4A-1")
    await until(running, r"gone back to the officer")

    await page.goto(f"{running.url}/dashboard/applications/{reference}")
    assert "123/4A-1" in await page.inner_text("[data-testid=answers]")
    await page.click("[data-testid=approve]")
    await page.wait_for_selector("[data-testid=status]")
    link = (await until(running, r"/c/[A-Za-z0-9_-]+\.pdf")).group(0)
    pdf = await running.http.get(f"{running.url}{link}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    history = await page.inner_text("[data-testid=history]")
    assert "123/4A" not in history  # the history names what happened, not the citizen's data
    await page.close()
