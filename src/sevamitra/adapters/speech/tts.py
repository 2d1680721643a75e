"""Spoken replies: espeak-ng offline (robotic, but it speaks Telugu, Hindi and English), or any
OpenAI-compatible `POST {url}/audio/speech`. Either way the citizen gets an OGG/Opus voice note."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import wave
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import numpy as np

from sevamitra.adapters.speech.audio import encode_voice_note
from sevamitra.core.speech import SpeechError

ESPEAK_VOICES = {"en": "en-us", "hi": "hi", "te": "te"}
MAX_CHARACTERS = 500  # about half a minute of speech: longer replies are better read


def shortened(text: str, limit: int = MAX_CHARACTERS) -> str:
    """The text, cut at the last word boundary before `limit` characters when longer."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def wav_samples(wav: bytes) -> tuple[np.ndarray, int]:
    """16-bit mono PCM WAV as float samples and their rate (espeak-ng's streamed WAV included,
    whose header gives no true length)."""
    with wave.open(io.BytesIO(wav), "rb") as reader:
        if reader.getsampwidth() != 2 or reader.getnchannels() != 1:
            raise ValueError(f"{reader.getnchannels()} channels of {8 * reader.getsampwidth()} bits, not 16-bit mono")
        rate = reader.getframerate()
        pcm = reader.readframes(reader.getnframes())
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, rate


class EspeakSpeech:
    """`TextToSpeech` by the `espeak-ng` program (the Debian package), run off the event loop."""

    def __init__(
        self,
        *,
        program: str = "espeak-ng",
        voices: Mapping[str, str] = ESPEAK_VOICES,
        workers: int = 1,
        timeout: float = 30.0,
    ) -> None:
        self.program, self.voices, self.timeout = program, voices, timeout
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="espeak")
        self._installed: frozenset[str] | None = None  # the voices espeak-ng has here, asked once

    async def speak(self, text: str, language: str) -> bytes:
        voice = self.voices.get(language)
        if voice is None:
            raise SpeechError("unavailable", f"no espeak-ng voice for {language!r}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(self._speak, shortened(text), voice))

    def _speak(self, text: str, voice: str) -> bytes:
        program = shutil.which(self.program)
        if program is None:
            raise SpeechError("unavailable", f"{self.program} is not installed")
        if voice not in self._installed_voices(program):  # else espeak-ng speaks in its default voice
            raise SpeechError("unavailable", f"{self.program} has no voice {voice!r}")
        try:  # the text goes in on stdin: never read as options
            done = subprocess.run(  # noqa: S603 (a fixed program and arguments)
                [program, "-v", voice, "--stdout", "--stdin"],
                input=text.encode(),
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SpeechError("unavailable", f"{self.program} failed: {error}") from error
        if done.returncode != 0 or not done.stdout:
            problem = done.stderr.decode(errors="replace").strip()[:200]
            raise SpeechError("unavailable", f"{self.program} -v {voice}: {problem or done.returncode}")
        try:
            samples, rate = wav_samples(done.stdout)
        except (wave.Error, ValueError, EOFError) as error:
            raise SpeechError("unavailable", f"{self.program} gave no usable WAV: {error}") from error
        if not samples.size:
            raise SpeechError("unavailable", f"{self.program} -v {voice} said nothing")
        return encode_voice_note(samples, rate)

    def _installed_voices(self, program: str) -> frozenset[str]:
        if self._installed is None:
            try:
                listed = subprocess.run(  # noqa: S603 (a fixed program and arguments)
                    [program, "--voices"], capture_output=True, timeout=self.timeout, check=True
                ).stdout.decode(errors="replace")
            except (OSError, subprocess.SubprocessError) as error:
                raise SpeechError("unavailable", f"{self.program} --voices failed: {error}") from error
            # "Pty Language Age/Gender VoiceName File Other Languages": the second column names the voice
            self._installed = frozenset(line.split()[1] for line in listed.splitlines()[1:] if len(line.split()) > 1)
        return self._installed


class RemoteTextToSpeech:
    """`TextToSpeech` by an OpenAI-compatible service, asked for OGG/Opus directly."""

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        url: str,
        key: str,
        model: str,
        voice: str,
        timeout: float = 30.0,
    ) -> None:
        self.owned = http is None
        self.http = http or httpx.AsyncClient()
        self.url, self.key, self.model, self.voice, self.timeout = url.rstrip("/"), key, model, voice, timeout

    async def aclose(self) -> None:
        if self.owned:
            await self.http.aclose()

    async def speak(self, text: str, language: str) -> bytes:
        request = {"model": self.model, "voice": self.voice, "input": shortened(text), "response_format": "opus"}
        try:
            response = await self.http.post(
                f"{self.url}/audio/speech",
                headers={"Authorization": f"Bearer {self.key}"} if self.key else {},
                json=request,
                timeout=self.timeout,
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise SpeechError("unavailable", f"the speech service failed: {error!r}") from error
        if not response.content.startswith(b"OggS"):
            raise SpeechError("unavailable", "the speech service did not answer with OGG/Opus")
        return response.content
