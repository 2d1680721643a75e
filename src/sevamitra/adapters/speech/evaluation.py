"""Speech recognition measured on voice notes: word error rate, routing accuracy, speed and memory.

The set (`evaluation/voice/set.tsv`: file, language, text, expected, variation) is synthetic: what
citizens say, spoken by espeak-ng with varied speed, pitch and noise (`scripts/make_voice_set.py`).
Each transcript is routed by the caller's `route` (the assistant, passed in: adapters never import
each other) and counts as right when it names the expected service.

Real English recordings with transcripts (Debian's `pocketsphinx-testdata`: LibriVox readings and
spoken card names) join when installed, for word error rate only: they name no services. They are
re-encoded as WhatsApp voice notes first, so every clip goes through the same decoder.

Routing accuracy counts a clip the backend could not transcribe (any problem but "unavailable") as
a miss; "unavailable" (the backend does not speak that language, or is off) is counted apart.
"""

from __future__ import annotations

import csv
import io
import re
import resource
import time
import unicodedata
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sevamitra.adapters.speech.audio import encode_voice_note
from sevamitra.core.speech import SpeechError, SpeechToText

LANGUAGES = ("en", "hi", "te")
VOICE_NOTE_MIME = "audio/ogg; codecs=opus"  # as WhatsApp sends voice notes
POCKETSPHINX_TESTDATA = Path("/usr/share/pocketsphinx/test/data")
RECORDED_SETS = ("librivox/transcription", "cards/cards.transcription")  # Sphinx format: "<s> text </s> (id)"
_SPHINX_LINE = re.compile(r"^\s*(?:<s>)?(?P<text>.*?)(?:</s>)?\s*\((?P<id>[^()]+)\)\s*$")
_DROPPED = frozenset("'’")  # apostrophes join a word ("don't" = "dont"); other punctuation parts words
_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceClip:
    path: Path
    language: str  # en, hi or te: the citizen's chosen language, given to the backend
    text: str  # what was said
    expected: str | None  # the service id it asks for; None for recordings that name none
    variation: str  # how it was spoken: voice, speed, pitch, noise


def read_manifest(path: Path) -> list[VoiceClip]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            VoiceClip(
                path=path.parent / row["file"],
                language=row["language"],
                text=row["text"],
                expected=row["expected"],
                variation=row["variation"],
            )
            for row in csv.DictReader(f, delimiter="\t")
        ]


def recorded_clips(root: Path = POCKETSPHINX_TESTDATA) -> list[VoiceClip]:
    """The real English recordings with transcripts under `root`; none when they are not installed."""
    found: list[VoiceClip] = []
    for name in RECORDED_SETS:
        transcription = root / name
        if not transcription.is_file():
            continue
        for line in transcription.read_text(encoding="utf-8").splitlines():
            match = _SPHINX_LINE.match(line)
            recording = transcription.parent / f"{match['id']}.wav" if match else None
            if match and recording and recording.is_file():
                text = " ".join(match["text"].split())
                found.append(VoiceClip(path=recording, language="en", text=text, expected=None, variation="recorded"))
    return found


def voice_note(clip: VoiceClip) -> bytes:
    """The clip as a WhatsApp voice note: set clips already are; WAV recordings are encoded."""
    data = clip.path.read_bytes()
    if clip.path.suffix.lower() != ".wav":
        return data
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2:
            raise SpeechError("corrupt", f"{clip.path.name}: only 16-bit WAV")
        rate, channels, frames = w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).mean(axis=1).astype(np.float32) / 32768
    return encode_voice_note(samples, rate)


def words(text: str, language: str = "en") -> list[str]:
    """Words to compare: case and punctuation dropped, each script kept as written (NFC)."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text).casefold():
        category = unicodedata.category(char)
        if char in _DROPPED or category == "Cf":  # Cf: zero-width joiners inside Telugu and Hindi words
            continue
        kept.append(" " if category[0] in "PSZ" else char)
    found = "".join(kept).split()
    return [w for token in found for w in _spelled(token)] if language == "en" else found


def _spelled(token: str) -> list[str]:
    """English numbers under a hundred as words: "10" and "ten" are the same word heard."""
    if not token.isascii() or not token.isdigit() or int(token) >= 100:
        return [token]
    number = int(token)
    if number < 20:
        return [_ONES[number]]
    return [_TENS[number // 10]] + ([_ONES[number % 10]] if number % 10 else [])


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, deletions and insertions that turn the reference into the hypothesis (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, said in enumerate(reference, start=1):
        current = [i]
        for j, heard in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (said != heard)))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str, language: str = "en") -> float:
    said = words(reference, language)
    if not said:
        raise ValueError("the reference has no words")
    return word_errors(said, words(hypothesis, language)) / len(said)


@dataclass(slots=True)
class Tally:
    clips: int = 0
    transcribed: int = 0
    unsupported: int = 0  # SpeechError "unavailable"
    failed: int = 0  # any other SpeechError: a routing miss
    routed: int = 0  # clips that name a service, less the unsupported
    routed_right: int = 0
    errors: int = 0  # word errors over the transcribed clips
    reference_words: int = 0

    def wer(self) -> float | None:
        return round(100 * self.errors / self.reference_words, 1) if self.reference_words else None

    def routing(self) -> float | None:
        return round(100 * self.routed_right / self.routed, 1) if self.routed else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Miss:
    clip: VoiceClip
    heard: str  # the transcript, or the problem in brackets
    got: str | None  # the service it was routed to


@dataclass(slots=True)
class VoiceReport:
    backend: str
    by_language: dict[str, Tally] = field(default_factory=dict)
    recorded: Tally = field(default_factory=Tally)  # real recordings: word error rate only
    processing_seconds: float = 0.0
    audio_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    misses: list[Miss] = field(default_factory=list)

    def real_time_factor(self) -> float | None:
        return round(self.processing_seconds / self.audio_seconds, 3) if self.audio_seconds else None

    def table(self) -> list[dict[str, object]]:
        rows = [_row(language, t) for language, t in sorted(self.by_language.items(), key=_in_order)]
        if self.recorded.clips:
            rows.append(_row("en_recorded", self.recorded))
        return rows

    def render(self) -> str:
        header = ("clips", "WER %", "routed %", "unsupported", "failed")
        lines = [f"backend {self.backend}", f"{'language':12}" + "".join(f"{h:>12}" for h in header)]
        for row in self.table():
            cells = (row["clips"], _shown(row["wer"]), _shown(row["routing"]), row["unsupported"], row["failed"])
            lines.append(f"{row['language']!s:12}" + "".join(f"{c!s:>12}" for c in cells))
        if self.recorded.clips:
            lines.append(
                "en_recorded: real recordings (pocketsphinx-testdata), for word error rate: they name no service"
            )
        else:
            lines.append("no real recordings here (apt-get install pocketsphinx-testdata adds some, for WER)")
        rtf = _shown(self.real_time_factor())
        lines.append(
            f"real-time factor {rtf} ({self.processing_seconds:.1f} s for {self.audio_seconds:.1f} s of audio); "
            f"peak RSS {self.peak_rss_mb} MB"
        )
        return "\n".join(lines)


def _row(language: str, t: Tally) -> dict[str, object]:
    return {
        "language": language,
        "clips": t.clips,
        "wer": t.wer(),
        "routing": t.routing(),
        "unsupported": t.unsupported,
        "failed": t.failed,
    }


def _in_order(item: tuple[str, Tally]) -> tuple[int, str]:
    return (LANGUAGES.index(item[0]) if item[0] in LANGUAGES else len(LANGUAGES), item[0])


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


async def evaluate(
    speech: SpeechToText,
    clips: Iterable[VoiceClip],
    route: Callable[[str], str | None],
) -> VoiceReport:
    """Transcribe every clip, in its language; route those that name a service."""
    report = VoiceReport(backend=speech.name)
    for clip in clips:
        tally = report.by_language.setdefault(clip.language, Tally()) if clip.expected else report.recorded
        tally.clips += 1
        started = time.perf_counter()
        try:
            transcript = await speech.transcribe(voice_note(clip), VOICE_NOTE_MIME, clip.language)
        except SpeechError as error:
            if error.problem == "unavailable":
                tally.unsupported += 1
                continue
            tally.failed += 1
            tally.routed += clip.expected is not None
            if clip.expected:
                report.misses.append(Miss(clip=clip, heard=f"[{error.problem}]", got=None))
            continue
        report.processing_seconds += time.perf_counter() - started
        report.audio_seconds += transcript.seconds
        tally.transcribed += 1
        said = words(clip.text, clip.language)
        tally.errors += word_errors(said, words(transcript.text, clip.language))
        tally.reference_words += len(said)
        if clip.expected:
            got = route(transcript.text)
            tally.routed += 1
            tally.routed_right += got == clip.expected
            if got != clip.expected:
                report.misses.append(Miss(clip=clip, heard=transcript.text, got=got))
    report.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report
