"""Recognition by any OpenAI-compatible `POST {url}/audio/transcriptions` (OpenAI, Groq, a
self-hosted faster-whisper or whisper.cpp server, ...): the way to hear Telugu.

The note is checked here first (that it is audio, and not too long) so that nothing doomed is sent;
what is sent is the note as received. The verbose JSON answer's segments give the confidence when
the service returns them; a service that returns text alone is taken at its word.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from sevamitra.adapters.speech.audio import decode
from sevamitra.adapters.speech.whisper import confidence
from sevamitra.core.speech import SpeechError, Transcript

EXTENSIONS = {
    "audio/ogg": "ogg", "audio/opus": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac",
    "audio/amr": "amr", "audio/wav": "wav", "audio/x-wav": "wav", "audio/webm": "webm", "audio/flac": "flac",
}  # fmt: skip


class RemoteSpeech:
    """`SpeechToText` by an OpenAI-compatible service; any language it knows."""

    name = "remote"

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        url: str,
        key: str,
        model: str,
        max_seconds: float,
        prompts: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.owned = http is None
        self.http = http or httpx.AsyncClient()
        self.url, self.key, self.model, self.max_seconds = url.rstrip("/"), key, model, max_seconds
        self.prompts, self.timeout = prompts or {}, timeout

    async def aclose(self) -> None:
        if self.owned:
            await self.http.aclose()

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        clip = await asyncio.to_thread(decode, audio, max_seconds=self.max_seconds)
        essence = mime_type.split(";", 1)[0].strip().lower()
        form = {"model": self.model, "language": language, "response_format": "verbose_json"}
        if prompt := self.prompts.get(language):
            form["prompt"] = prompt
        try:
            response = await self.http.post(
                f"{self.url}/audio/transcriptions",
                headers={"Authorization": f"Bearer {self.key}"} if self.key else {},
                data=form,
                files={"file": (f"voice.{EXTENSIONS.get(essence, 'ogg')}", audio, essence or "audio/ogg")},
                timeout=self.timeout,
            )
            response.raise_for_status()
            text, sure = heard(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            raise SpeechError("unavailable", f"the speech service gave no usable answer: {error!r}") from error
        return Transcript(text=text, language=language, confidence=sure, seconds=clip.seconds)


def heard(body: Any) -> tuple[str, float]:
    """The text of a (verbose) transcription answer, and how sure of it the service was."""
    text = body["text"]
    if not isinstance(text, str):
        raise TypeError(f"text is {type(text).__name__}, not a string")
    text = text.strip()
    if not text:
        return "", 0.0
    spans = [
        (
            float(s.get("end", 0.0)) - float(s.get("start", 0.0)),
            float(s["avg_logprob"]),
            float(s.get("no_speech_prob", 0.0)),
            float(s.get("compression_ratio", 1.0)),
        )
        for s in body.get("segments") or ()
        if isinstance(s, dict) and "avg_logprob" in s
    ]
    return text, confidence(spans) if spans else 1.0
