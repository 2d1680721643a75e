"""Speech in and out: the ports the voice adapters provide, and what they return.

A voice note becomes a `Transcript` (or a `SpeechError` saying why not); a reply becomes a short
voice note. The engine never sees audio: it is told what was heard, and asks for speech by text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

_MARKUP = re.compile(r"[*_~`•]|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")

SpeechProblem = Literal[
    "corrupt",  # not audio we can decode
    "too_long",  # longer than the configured cap
    "too_large",  # over the channel's media size limit: refused before download
    "expired",  # the media id is gone at the channel (expired or never there)
    "unavailable",  # the speech backend failed or is not configured ("none")
]


class SpeechError(Exception):
    """A voice note that cannot be transcribed, and why (the citizen is told in their language)."""

    def __init__(self, problem: SpeechProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else problem)
        self.problem: SpeechProblem = problem


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    text: str  # may be empty: nothing recognisable was said
    language: str  # te, hi or en: the language it was decoded as
    confidence: float  # 0..1; below the engine's threshold it asks again rather than guess
    seconds: float  # the audio's length


class SpeechToText(Protocol):
    """Turns a voice note into text. Slow work runs off the event loop (a worker pool)."""

    name: str  # "whisper", "pocketsphinx", "remote" or "none"

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        """`language` is the citizen's chosen one (te, hi, en); raises `SpeechError`."""
        ...


class TextToSpeech(Protocol):
    """Speaks a short reply: OGG/Opus bytes, as WhatsApp plays voice notes."""

    async def speak(self, text: str, language: str) -> bytes:
        """Raises `SpeechError("unavailable")` when no voice can say it."""
        ...


def spoken(text: str) -> str:
    """A message as it is read aloud: no bold or italic marks, bullets or emoji, one line per pause."""
    lines = (" ".join(_MARKUP.sub(" ", line).split()) for line in text.splitlines())
    return ".\n".join(line.rstrip(".") for line in lines if line)
