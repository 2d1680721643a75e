"""Spoken replies: espeak-ng says each language as a voice note WhatsApp can play, and a remote
OpenAI-compatible `/audio/speech` (a stub on loopback) is asked for OGG/Opus."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sevamitra.adapters.speech.audio import decode, encode_voice_note
from sevamitra.adapters.speech.build import text_to_speech
from sevamitra.adapters.speech.tts import MAX_CHARACTERS, EspeakSpeech, RemoteTextToSpeech, shortened
from sevamitra.core.speech import SpeechError
from sevamitra.settings import Settings
from tests.e2e.conftest import free_port

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

SAID = {
    "en": "Your application for an income certificate has been received.",
    "hi": "आय प्रमाण पत्र के लिए आपका आवेदन मिल गया है।",
    "te": "ఆదాయ ధృవీకరణ పత్రం కోసం మీ దరఖాస్తు అందింది.",
}


@needs_espeak
@pytest.mark.parametrize("language", ["en", "hi", "te"])
async def test_espeak_says_each_language_as_a_voice_note(language: str) -> None:
    note = await EspeakSpeech().speak(SAID[language], language)
    assert note.startswith(b"OggS") and b"OpusHead" in note[:200]
    clip = decode(note, max_seconds=60)
    assert 1.5 < clip.seconds < 10  # a sentence, not a click nor a stuck voice
    assert float(np.sqrt(np.mean(clip.samples**2))) > 0.01  # and not silence


@needs_espeak
async def test_espeak_refuses_what_it_cannot_say() -> None:
    with pytest.raises(SpeechError) as refused:
        await EspeakSpeech().speak("سلام", "ur")
    assert refused.value.problem == "unavailable"
    with pytest.raises(SpeechError) as refused:
        await EspeakSpeech(voices={"en": "no-such-voice"}).speak("hello", "en")
    assert refused.value.problem == "unavailable"


async def test_without_espeak_speech_is_unavailable() -> None:
    with pytest.raises(SpeechError) as refused:
        await EspeakSpeech(program="no-such-espeak-program").speak("hello", "en")
    assert refused.value.problem == "unavailable"


@needs_espeak
async def test_text_that_looks_like_an_option_is_only_said(tmp_path: Path) -> None:
    note = await EspeakSpeech().speak(f"-w {tmp_path / 'out.wav'} --help", "en")
    assert decode(note, max_seconds=60).seconds > 0.5
    assert not (tmp_path / "out.wav").exists()


def test_long_replies_are_cut_at_a_word() -> None:
    long = "certificate " * 100
    cut = shortened(long)
    assert len(cut) <= MAX_CHARACTERS and cut.endswith("certificate") and long.startswith(cut)
    assert shortened("  a   short\nreply ") == "a short reply"


class Stub:
    def __init__(self) -> None:
        self.content = encode_voice_note(np.zeros(16_000, np.float32))
        self.status = 200
        self.asked: list[dict[str, Any]] = []

    async def speech(self, request: Request) -> Response:
        self.asked.append({"json": await request.json(), "authorization": request.headers.get("authorization")})
        if self.status != 200:
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=self.status)
        return Response(self.content, media_type="audio/ogg")


@pytest.fixture
async def stub() -> AsyncIterator[tuple[Stub, str, httpx.AsyncClient]]:
    service = Stub()
    app = Starlette(routes=[Route("/v1/audio/speech", service.speech, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient() as http:
        yield service, f"http://127.0.0.1:{port}/v1", http
    server.should_exit = True
    await task


async def test_the_remote_voice_is_asked_for_ogg_opus(stub: Any) -> None:
    service, url, http = stub
    settings = Settings(_env_file=None, tts_backend="remote", tts_remote_url=url, tts_remote_key="k")  # type: ignore[call-arg]
    speaker = text_to_speech(settings, http=http)
    assert isinstance(speaker, RemoteTextToSpeech)
    assert await speaker.speak(SAID["te"], "te") == service.content
    (asked,) = service.asked
    assert asked["json"] == {"model": "tts-1", "voice": "alloy", "input": SAID["te"], "response_format": "opus"}
    assert asked["authorization"] == "Bearer k"


@pytest.mark.parametrize(("status", "content"), [(503, b""), (200, b"ID3\x04 an mp3, not what was asked")])
async def test_a_failing_or_wrong_remote_voice_is_unavailable(stub: Any, status: int, content: bytes) -> None:
    service, url, http = stub
    service.status, service.content = status, content
    speaker = RemoteTextToSpeech(http, url=url, key="", model="tts-1", voice="alloy")
    with pytest.raises(SpeechError) as refused:
        await speaker.speak("hello", "en")
    assert refused.value.problem == "unavailable"


def test_the_settings_pick_the_voice() -> None:
    assert isinstance(text_to_speech(Settings(_env_file=None, tts_backend="espeak")), EspeakSpeech)  # type: ignore[call-arg]
    assert text_to_speech(Settings(_env_file=None, tts_backend="none")) is None  # type: ignore[call-arg]
    with pytest.raises(RuntimeError, match="TTS_REMOTE_URL"):
        text_to_speech(Settings(_env_file=None, tts_backend="remote"))  # type: ignore[call-arg]
