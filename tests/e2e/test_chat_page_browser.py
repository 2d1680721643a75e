"""The emulator's chat page in a real headless Chromium: a citizen says "hi", picks Telugu, agrees to the
consent notice, walks the menus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import Running

pytestmark = pytest.mark.browser


async def tap_row(page: Page, title: str) -> None:
    await page.get_by_test_id("list-open").last.click()
    await page.locator('[data-testid="list-row"]:visible').filter(has_text=title).first.click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_citizen_says_hi_picks_telugu_and_walks_the_menus(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1100, "height": 860})
    await page.goto(f"{running.url}/emulator/")
    await page.get_by_test_id("new-citizen").click()
    await page.get_by_test_id("new-citizen-name").fill("లక్ష్మి")
    await page.get_by_test_id("new-citizen-number").fill("919000000555")
    await page.get_by_test_id("new-citizen-submit").click()
    await page.get_by_test_id("citizen-item").first.click()

    await page.get_by_test_id("composer-input").fill("hi")
    await page.get_by_test_id("send-button").click()
    out = page.locator('[data-testid="bubble"][data-direction="out"]')
    await expect(out.first).to_contain_text("స్వాగతం", timeout=15_000)

    await page.get_by_test_id("reply-button").filter(has_text="తెలుగు").first.click()
    await expect(out.last).to_contain_text("మీ సమాచారం, మీ సమ్మతి", timeout=15_000)  # the consent notice
    await page.get_by_test_id("reply-button").filter(has_text="అంగీకరిస్తున్నాను").last.click()
    await expect(page.get_by_test_id("list-open").last).to_contain_text("శాఖలు", timeout=15_000)

    await tap_row(page, "రెవెన్యూ")
    await expect(page.get_by_test_id("list-open").last).to_contain_text("సేవలు", timeout=15_000)

    await page.get_by_test_id("composer-input").fill("ఆదాయ ధృవీకరణ పత్రం")  # find a service by name
    await page.get_by_test_id("send-button").click()
    await page.get_by_test_id("reply-button").filter(has_text="దరఖాస్తు చేయండి").last.click(timeout=15_000)
    await expect(out.last).to_contain_text("ప్రశ్న 1", timeout=15_000)
    await page.get_by_test_id("composer-input").fill("లక్ష్మి దేవి")
    await page.get_by_test_id("send-button").click()
    await expect(out.last).to_contain_text("ప్రశ్న 2", timeout=15_000)

    await page.get_by_test_id("composer-input").fill("మెనూ")
    await page.get_by_test_id("send-button").click()
    await expect(out.last).to_contain_text("శాఖలు", timeout=15_000)
    await page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    if shot := os.environ.get("SEVAMITRA_SCREENSHOT"):
        await page.screenshot(path=shot)
