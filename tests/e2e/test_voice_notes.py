"""Voice notes through the emulator: a recorded note (synthesised here with espeak-ng) leads to its
service once the citizen confirms what was heard; with no speech backend the citizen is asked to type;
a citizen who asks for spoken replies gets a voice note back."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import Running, platform_on_port

WA = "919000000777"
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


async def settled(running: Running, before: int) -> list[dict[str, Any]]:
    """The platform's replies once at least one more has come and no more are coming."""
    count = len(await running.replies(WA, before + 1, timeout=60))
    while True:  # a turn's replies are queued together; wait until no more arrive
        await asyncio.sleep(0.3)
        replies = await running.replies(WA, 0, timeout=0)
        if len(replies) == count:
            return replies
        count = len(replies)


async def tap(running: Running, choice_id: str) -> list[dict[str, Any]]:
    before = len(await running.replies(WA, 0, timeout=0))
    await running.send(WA, type="button_reply", id=choice_id, title=choice_id)
    return (await settled(running, before))[before:]


async def type_(running: Running, text: str) -> list[dict[str, Any]]:
    before = len(await running.replies(WA, 0, timeout=0))
    await running.send(WA, type="text", text=text)
    return (await settled(running, before))[before:]


async def speak_into_the_phone(running: Running, words: str) -> list[dict[str, Any]]:
    """A voice note uploaded as the chat page does, then the replies it brought."""
    from sevamitra.adapters.speech.tts import EspeakSpeech

    note = await EspeakSpeech().speak(words, "en")
    before = len(await running.replies(WA, 0, timeout=0))
    response = await running.http.post(
        f"{running.url}/emulator/_chat/{WA}/send",
        data={"type": "audio", "voice": "true"},
        files={"file": ("voice-note.ogg", note, "audio/ogg")},
    )
    response.raise_for_status()
    return (await settled(running, before))[before:]


def shown(replies: list[dict[str, Any]]) -> str:
    return json.dumps([r["body"] for r in replies], ensure_ascii=False)


async def english_citizen(running: Running) -> None:
    await running.new_citizen(WA)
    await type_(running, "hi")
    await tap(running, "lang:en")


async def test_a_voice_note_leads_to_its_service_after_confirmation(database_url: str, tmp_path: Path) -> None:
    async with platform_on_port(database_url, tmp_path, speech_backend="whisper") as running:
        await english_citizen(running)
        heard = await speak_into_the_phone(running, "I want to pay my property tax")
        assert "I heard" in shown(heard), shown(heard)
        buttons = heard[-1]["body"]["interactive"]["action"]["buttons"]
        yes = buttons[0]["reply"]["id"]
        assert yes == "svc:municipal.property-tax-payment", shown(heard)
        service = await tap(running, yes)
        assert "Property tax" in shown(service) and "form:start" in shown(service)


async def test_without_a_speech_backend_a_voice_note_gets_the_polite_fallback(
    database_url: str, tmp_path: Path
) -> None:
    async with platform_on_port(database_url, tmp_path, speech_backend="none") as running:
        await english_citizen(running)
        answered = await speak_into_the_phone(running, "income certificate")
        assert "Please type what you need" in shown(answered)


async def test_a_citizen_who_asks_for_spoken_replies_gets_a_voice_note(database_url: str, tmp_path: Path) -> None:
    async with platform_on_port(database_url, tmp_path, speech_backend="none", tts_backend="espeak") as running:
        await english_citizen(running)
        assert "Spoken replies are on" in shown(await type_(running, "voice on"))
        await tap(running, "svc:revenue.income-certificate")
        deadline = asyncio.get_running_loop().time() + 30
        while not (
            audio := [m["body"] for m in await running.replies(WA, 0, timeout=0) if m["body"]["type"] == "audio"]
        ):  # type: ignore[index]
            assert asyncio.get_running_loop().time() < deadline, "no voice note came"
            await asyncio.sleep(0.2)
        media_id = audio[0]["audio"]["id"]  # type: ignore[index]
        fetched = await running.http.get(f"{running.url}/emulator/_chat/media/{media_id}")
        assert fetched.status_code == 200 and fetched.content.startswith(b"OggS")


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_voice_note_recorded_in_the_chat_page_is_heard(
    database_url: str, tmp_path: Path, browser: Browser
) -> None:
    from sevamitra.adapters.speech.tts import EspeakSpeech

    note = tmp_path / "voice-note.ogg"
    note.write_bytes(await EspeakSpeech().speak("I need an income certificate", "en"))
    async with platform_on_port(database_url, tmp_path, speech_backend="whisper") as running:
        page = await browser.new_page(viewport={"width": 1100, "height": 860})
        await page.goto(f"{running.url}/emulator/")
        await page.get_by_test_id("new-citizen").click()
        await page.get_by_test_id("new-citizen-name").fill("Lakshmi")
        await page.get_by_test_id("new-citizen-number").fill("919000000556")
        await page.get_by_test_id("new-citizen-submit").click()
        await page.get_by_test_id("citizen-item").first.click()
        await page.get_by_test_id("composer-input").fill("hi")
        await page.get_by_test_id("send-button").click()
        await page.get_by_test_id("reply-button").filter(has_text="English").first.click(timeout=15_000)
        await page.get_by_test_id("reply-button").filter(has_text="I agree").last.click(timeout=15_000)
        out = page.locator('[data-testid="bubble"][data-direction="out"]')
        await expect(out.last).to_contain_text("department", timeout=15_000)
        await page.get_by_test_id("file-voice").set_input_files(str(note))  # what "🎤 Voice note" opens
        await expect(out.last).to_contain_text("I heard", timeout=30_000)
        await page.get_by_test_id("reply-button").filter(has_text="Yes").last.click()
        await expect(out.last).to_contain_text("Income certificate", timeout=15_000)
