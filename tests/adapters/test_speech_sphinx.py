"""pocketsphinx offline: a grammar of the catalogue's English service names hears a service asked for
(spoken by espeak-ng) and is sure of it; a sentence outside the grammar is forced onto some phrase,
and its coverage of the speech says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.speech import sphinx, whisper
from sevamitra.adapters.speech.audio import encode_voice_note
from sevamitra.adapters.speech.build import english_phrases, speech_to_text
from sevamitra.adapters.speech.sphinx import SphinxSpeech, alternatives, grammar, spoken_phrases, sureness, with_heads
from sevamitra.adapters.speech.tts import EspeakSpeech
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.speech import SpeechError
from sevamitra.settings import Settings

needs_sphinx = pytest.mark.skipif(not sphinx.available(), reason="the voice extra (pocketsphinx) is not installed")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
ROOT = Path(__file__).resolve().parents[2] / "catalogue"
SURE = 0.45  # the conversation engine asks again below this


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT)


@pytest.fixture(scope="module")
def recogniser(catalogue: Catalogue) -> SphinxSpeech:
    return SphinxSpeech(phrases=english_phrases(catalogue), max_seconds=60)


def test_only_phrases_the_dictionary_can_say_are_kept() -> None:
    known = {"property", "tax", "payment", "learner's", "licence", "old", "age", "pension"}.__contains__
    said = ["Property tax payment", "Learner’s licence", "Pattadar passbook", "Old age pension", "ROR-1B extract"]
    assert spoken_phrases(said, known) == ["property tax payment", "learner's licence", "old age pension"]


def test_the_grammar_shares_first_words_and_adds_heads() -> None:
    phrases = with_heads(["property tax payment", "property tax dues", "apply for widow pension", "old age pension"])
    assert phrases[-2:] == ["property tax", "old age"]  # "apply for" alone is filler, not a service
    assert (
        alternatives(phrases) == "apply (for (widow (pension))) | old (age [pension]) | property (tax [dues | payment])"
    )
    written = grammar(phrases, lambda word: True)
    assert "public <request> = [<opening>] [<action>] <service> [please];" in written
    assert "<action> = a | apply (for [a]) |" in written


def test_sureness_is_the_share_of_speech_a_phrase_spans() -> None:
    assert sureness(100, 100) == 1.0 and sureness(110, 100) == 1.0
    assert sureness(60, 100) == 0.0 and sureness(10, 0) == 0.0
    assert sureness(80, 100) == pytest.approx(0.5)


@needs_sphinx
@needs_espeak
@pytest.mark.parametrize(
    ("said", "heard"),
    [
        ("I want to pay my property tax", "i want to pay my property tax"),
        ("old age pension", "old age pension"),
        ("I want to apply for a caste certificate", "i want to apply for a caste certificate"),
    ],
)
async def test_a_service_asked_for_is_heard_and_sure(recogniser: SphinxSpeech, said: str, heard: str) -> None:
    transcript = await recogniser.transcribe(await EspeakSpeech().speak(said, "en"), "audio/ogg", "en")
    assert transcript.text == heard and transcript.language == "en"
    assert transcript.confidence > SURE


@needs_sphinx
@needs_espeak
@pytest.mark.parametrize("said", ["my name is Ravi and I live in Guntur", "I will come to the office on Monday"])
async def test_a_sentence_outside_the_grammar_is_not_sure(recogniser: SphinxSpeech, said: str) -> None:
    transcript = await recogniser.transcribe(await EspeakSpeech().speak(said, "en"), "audio/ogg", "en")
    assert transcript.confidence < SURE


@needs_sphinx
async def test_silence_is_nothing_and_hindi_is_unavailable(recogniser: SphinxSpeech) -> None:
    silence = encode_voice_note(np.zeros(2 * 16_000, np.float32))
    transcript = await recogniser.transcribe(silence, "audio/ogg", "en")
    assert (transcript.text, transcript.confidence) == ("", 0.0)
    with pytest.raises(SpeechError) as refused:
        await recogniser.transcribe(silence, "audio/ogg", "hi")
    assert refused.value.problem == "unavailable"


@needs_sphinx
def test_the_settings_build_pocketsphinx(catalogue: Catalogue) -> None:
    settings = Settings(_env_file=None, speech_backend="pocketsphinx")  # type: ignore[call-arg]
    built = speech_to_text(settings, catalogue)
    assert isinstance(built, SphinxSpeech) and built.name == "pocketsphinx"
    assert "Property tax payment" in built.phrases


def test_offline_backends_without_the_voice_extra_refuse_to_start(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sphinx, "available", lambda: False)
    monkeypatch.setattr(whisper, "available", lambda: False)
    for backend in ("pocketsphinx", "whisper"):
        settings = Settings(_env_file=None, speech_backend=backend)  # type: ignore[call-arg]
        with pytest.raises(RuntimeError, match=r"sevamitra\[voice\]"):
            speech_to_text(settings, catalogue)
