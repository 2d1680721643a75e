"""A grievance end to end: filed in chat with a photo and a shared location, resolved by the
officer in Chromium with an after photo, confirmed and rated by the citizen; and reopened one
level up when it is not fixed."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser
from sqlalchemy import select

from sevamitra.actions.review import Review, review
from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.tables import applications, ratings
from sevamitra.core.officers import Officer
from tests.e2e.conftest import Running

CITIZEN = "919000000666"
PASSWORD = "a-long-pass-phrase-2026"
FILING = [
    ("text", "hi"),
    ("button_reply", "lang:en"),
    ("list_reply", "svc:municipal.fallen-tree-removal"),
    ("button_reply", "form:start"),
    ("button_reply", "answer:yes"),
    ("button_reply", "answer:no"),
    ("list_reply", "place:ntr"),
    ("list_reply", "place:ntr/vijayawada-rural"),
    ("list_reply", "place:ntr/vijayawada-rural/nidamanuru"),
    ("location", "16.5402,80.6920"),
    ("text", "A big neem tree fell across the road near the school."),
    ("photo", "before"),
    ("button_reply", "form:photos_done"),
]


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


async def bodies(running: Running) -> list[Any]:
    return [m["body"] for m in await running.replies(CITIZEN, 0, timeout=0)]  # type: ignore[index]


async def say(running: Running, kind: str, value: str) -> None:
    count = len(await bodies(running))
    if kind == "text":
        await running.send(CITIZEN, type="text", text=value)
    elif kind == "location":
        lat, lon = (float(x) for x in value.split(","))
        sent = await running.http.post(
            f"{running.url}/emulator/_chat/{CITIZEN}/send", json={"type": "location", "latitude": lat, "longitude": lon}
        )
        sent.raise_for_status()
    elif kind == "photo":
        sent = await running.http.post(
            f"{running.url}/emulator/_chat/{CITIZEN}/send",
            data={"type": "image"},
            files={"file": ("tree.jpg", jpeg("green"), "image/jpeg")},
        )
        sent.raise_for_status()
    else:
        await running.send(CITIZEN, type=kind, id=value, title=value)
    await running.replies(CITIZEN, count + 1)


async def until(running: Running, pattern: str, timeout: float = 20.0) -> re.Match[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = json.dumps(await bodies(running), ensure_ascii=False)
        if found := re.search(pattern, seen):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {pattern!r} in {seen[-800:]}"
        await asyncio.sleep(0.1)


async def filed(running: Running) -> str:
    await running.new_citizen(CITIZEN)
    for kind, value in FILING:
        await say(running, kind, value)
    await say(running, "button_reply", "form:submit")
    reference = (await until(running, r"AP-MUN-GRV-TREEFALL-\d{4}-\d{6}")).group(0)
    secretary = Officer(id=99, username="ws", display_name="WS", role="ward_sanitation_secretary", place="ntr")
    first = await review(
        running.platform.cases,
        running.platform.context,
        None,
        secretary,
        reference,
        Review(action="approve"),
        datetime.now(UTC),
    )  # the secretariat passes it to the Sanitary Inspector
    assert first.desk == "sanitary_inspector@ntr/vijayawada-rural"
    return reference


async def resolve_in_browser(running: Running, browser: Browser, reference: str, tmp_path: Path) -> None:
    _, secret = await running.platform.access.create_officer(
        username="si-vijayawada-rural",
        display_name="Sanitary Inspector",
        role="sanitary_inspector",
        place="ntr/vijayawada-rural",
        department_id=None,
        password=PASSWORD,
    )
    after = tmp_path / "after.jpg"
    after.write_bytes(jpeg("grey"))
    page = await browser.new_page()
    await page.goto(f"{running.url}/dashboard")
    await page.fill("#username", "si-vijayawada-rural")
    await page.fill("#password", PASSWORD)
    await page.click("[data-testid=sign-in]")
    await page.wait_for_url(re.compile(r".*/dashboard/totp.*"))
    await page.fill("#code", totp_code(secret, datetime.now(UTC)))
    await page.click("[data-testid=verify]")
    await page.goto(f"{running.url}/dashboard/applications/{reference}")
    await page.click("[data-testid=approve]")  # without the after photo the browser refuses to send
    assert await page.input_value("[data-testid=after-photo]") == ""
    await page.set_input_files("[data-testid=after-photo]", str(after))
    await page.click("[data-testid=approve]")
    await page.wait_for_selector("[data-testid=status]")
    await page.close()


async def status_of(running: Running, reference: str) -> Any:
    engine = running.platform.cases.engine
    async with engine.connect() as connection:
        return (await connection.execute(select(applications).where(applications.c.reference == reference))).one()


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_a_grievance_is_resolved_with_an_after_photo_confirmed_and_rated(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    reference = await filed(running)
    stored = await status_of(running, reference)
    assert abs(stored.latitude - 16.5402) < 1e-6 and abs(stored.longitude - 80.6920) < 1e-6  # kept for "me too"
    await resolve_in_browser(running, browser, reference, tmp_path)
    photo = (await until(running, r"/p/\d+/[0-9a-f]{32}\.jpg")).group(0)
    shown = await running.http.get(f"{running.url}{photo}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert (await running.http.get(f"{running.url}{photo.replace('/p/', '/p/9')}")).status_code == 404
    await until(running, rf"gfix:{reference}:yes")
    assert (await status_of(running, reference)).status == "resolved"

    await say(running, "button_reply", f"gfix:{reference}:yes")
    await until(running, rf"rate:{reference}:5")
    assert (await status_of(running, reference)).status == "closed"
    await say(running, "list_reply", f"rate:{reference}:5")
    await say(running, "text", "Cleared in a day, thank you.")
    await until(running, r"comment on .* is recorded")
    async with running.platform.cases.engine.connect() as connection:
        rated = (await connection.execute(select(ratings).where(ratings.c.reference == reference))).one()
    assert (rated.score, rated.comment) == (5, "Cleared in a day, thank you.")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_grievance_not_fixed_is_reopened_one_level_up(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    reference = await filed(running)
    await resolve_in_browser(running, browser, reference, tmp_path)
    await until(running, rf"gfix:{reference}:no")
    await say(running, "button_reply", f"gfix:{reference}:no")
    await until(running, r"reopened")
    reopened = await status_of(running, reference)
    assert reopened.status == "under_review" and reopened.desk == "revenue_divisional_officer@ntr"
