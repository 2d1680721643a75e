"""The remote recogniser against a stub OpenAI-compatible `/audio/transcriptions` on loopback: what it
sends, how sure it is of what comes back, and that every failure reads as "unavailable"."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.speech.audio import encode_voice_note
from sevamitra.adapters.speech.build import NoSpeech, speech_to_text
from sevamitra.adapters.speech.remote import RemoteSpeech
from sevamitra.core.speech import SpeechError
from sevamitra.settings import Settings
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOTE = encode_voice_note(np.zeros(3 * 16_000, np.float32))
SAID = "నాకు ఆదాయ ధృవీకరణ పత్రం కావాలి"  # I need an income certificate


class Stub:
    """What the stub service answers next, and what it was sent."""

    def __init__(self) -> None:
        self.body: Any = {
            "text": f" {SAID} ",
            "language": "telugu",
            "duration": 3.0,
            "segments": [
                {"id": 0, "start": 0.0, "end": 2.0, "text": SAID, "avg_logprob": -0.1, "no_speech_prob": 0.02},
                {"id": 1, "start": 2.0, "end": 3.0, "text": "", "avg_logprob": -0.4, "no_speech_prob": 0.1},
            ],
        }
        self.status = 200
        self.delay = 0.0
        self.sent: list[dict[str, Any]] = []

    async def transcriptions(self, request: Request) -> Response:
        async with request.form() as form:
            upload = form["file"]
            assert isinstance(upload, UploadFile)
            fields: dict[str, Any] = {k: v for k, v in form.items() if k != "file"}
            fields["audio"], fields["filename"] = await upload.read(), upload.filename
        fields["authorization"] = request.headers.get("authorization")
        self.sent.append(fields)
        await asyncio.sleep(self.delay)
        if self.status != 200:
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=self.status)
        if isinstance(self.body, str):
            return PlainTextResponse(self.body)
        return JSONResponse(self.body)


@pytest.fixture
async def stub() -> AsyncIterator[tuple[Stub, str, httpx.AsyncClient]]:
    service = Stub()
    app = Starlette(routes=[Route("/v1/audio/transcriptions", service.transcriptions, methods=["POST"])])
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


def remote(url: str, http: httpx.AsyncClient, timeout: float = 5.0) -> RemoteSpeech:
    return RemoteSpeech(
        http,
        url=url,
        key="test-key",
        model="whisper-large-v3",
        max_seconds=60,
        prompts={"te": "ఆదాయ ధృవీకరణ పత్రం"},
        timeout=timeout,
    )


async def test_telugu_is_heard_with_the_segments_confidence(stub: Any) -> None:
    service, url, http = stub
    heard = await remote(url, http).transcribe(NOTE, "audio/ogg; codecs=opus", "te")
    assert heard.text == SAID and heard.language == "te"
    assert heard.seconds == pytest.approx(3.0, abs=0.05)
    weighted = (2 * -0.1 + 1 * -0.4) / 3
    assert heard.confidence == pytest.approx(math.exp(weighted) * (1 - (2 * 0.02 + 0.1) / 3))
    (sent,) = service.sent
    assert sent["audio"] == NOTE and sent["filename"] == "voice.ogg"
    assert sent["model"] == "whisper-large-v3" and sent["language"] == "te"
    assert sent["response_format"] == "verbose_json" and sent["prompt"] == "ఆదాయ ధృవీకరణ పత్రం"
    assert sent["authorization"] == "Bearer test-key"


async def test_a_plain_answer_is_taken_at_its_word_and_a_loop_or_silence_is_not(stub: Any) -> None:
    service, url, http = stub
    service.body = {"text": "property tax"}
    heard = await remote(url, http).transcribe(NOTE, "audio/ogg", "en")
    assert (heard.text, heard.confidence) == ("property tax", 1.0)
    service.body = {"text": "pay pay pay pay", "segments": [{"avg_logprob": -0.1, "compression_ratio": 3.1}]}
    heard = await remote(url, http).transcribe(NOTE, "audio/ogg", "en")
    assert heard.confidence == 0.0  # stuck repeating itself
    service.body = {"text": "  ", "segments": []}
    heard = await remote(url, http).transcribe(NOTE, "audio/ogg", "en")
    assert (heard.text, heard.confidence) == ("", 0.0)


@pytest.mark.parametrize(
    ("status", "body", "delay"),
    [
        (503, {}, 0.0),  # the service fails
        (401, {}, 0.0),  # the key is refused
        (200, "not json", 0.0),
        (200, {"transcript": "property tax"}, 0.0),  # not the schema
        (200, {"text": "property tax", "segments": [{"avg_logprob": "high"}]}, 0.0),
        (200, {"text": "property tax"}, 1.0),  # too late
    ],
    ids=["error", "unauthorised", "not-json", "no-text", "bad-segments", "timeout"],
)
async def test_every_failure_is_unavailable(stub: Any, status: int, body: Any, delay: float) -> None:
    service, url, http = stub
    service.status, service.body, service.delay = status, body, delay
    with pytest.raises(SpeechError) as refused:
        await remote(url, http, timeout=0.3).transcribe(NOTE, "audio/ogg", "te")
    assert refused.value.problem == "unavailable"


async def test_nothing_doomed_is_sent(stub: Any) -> None:
    service, url, http = stub
    long_note = encode_voice_note(np.zeros(61 * 16_000, np.float32))
    for audio, problem in ((long_note, "too_long"), (b"not audio", "corrupt")):
        with pytest.raises(SpeechError) as refused:
            await remote(url, http).transcribe(audio, "audio/ogg", "te")
        assert refused.value.problem == problem
    assert service.sent == []


async def test_no_service_running_is_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(SpeechError) as refused:
            await remote(f"http://127.0.0.1:{free_port()}/v1", http).transcribe(NOTE, "audio/ogg", "te")
    assert refused.value.problem == "unavailable"


async def test_the_settings_pick_the_recogniser(stub: Any) -> None:
    _, url, http = stub
    catalogue = load_catalogue(ROOT)
    built = speech_to_text(
        Settings(_env_file=None, speech_backend="remote", speech_remote_url=url), catalogue, http=http
    )  # type: ignore[call-arg]
    assert isinstance(built, RemoteSpeech) and built.name == "remote"
    assert "ఆదాయ" in built.prompts["te"] and "certificate" in built.prompts["en"].lower()
    with pytest.raises(RuntimeError, match="SPEECH_REMOTE_URL"):
        speech_to_text(Settings(_env_file=None, speech_backend="remote"), catalogue)  # type: ignore[call-arg]
    nothing = speech_to_text(Settings(_env_file=None, speech_backend="none"), catalogue)  # type: ignore[call-arg]
    assert isinstance(nothing, NoSpeech)
    with pytest.raises(SpeechError) as refused:
        await nothing.transcribe(NOTE, "audio/ogg", "en")
    assert refused.value.problem == "unavailable"
