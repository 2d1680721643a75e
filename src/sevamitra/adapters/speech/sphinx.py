"""Offline English keyword recognition with pocketsphinx (its wheel carries the US English model).

It cannot take dictation: it hears only a grammar (JSGF) made from the catalogue's English service
names and aliases, and their first two words ("property tax" of "property tax payment"), optionally
after an opening ("i want to") and an action ("pay my"). Phrases with a word missing from the
pronunciation dictionary (most Telugu place and scheme names) are left out. The phrases are written
as a tree (shared first words once) because pocketsphinx searches every alternative of a flat list
in parallel: eight times slower on two thousand phrases.

Speech outside the grammar is still heard as its nearest phrase, and pocketsphinx's own posterior
probability does not tell the two apart (0.02 to 0.3 either way, shared among the many paths that
spell the same words). What does is coverage: a free phone loop finds where speech is, and a phrase
truly said spans it all (0.94 to 1.1 of those frames on the clips tried), while an off-grammar
sentence forced onto a phrase leaves much of it to silence and noise (0.3 to 0.74).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib.util import find_spec
from typing import Any

import numpy as np

from sevamitra.adapters.speech.audio import decode
from sevamitra.core.speech import SpeechError, Transcript

OPENINGS = ("i want to", "i would like to", "i need to", "i need", "i want", "please", "can i", "how do i", "how to")
ACTIONS = (
    "apply for", "apply for a", "pay my", "pay", "pay the", "get", "get a", "get my", "check my", "check",
    "renew my", "book", "register", "a", "my", "the",
)  # fmt: skip
FILLER_WORDS = frozenset(w for phrase in OPENINGS + ACTIONS for w in phrase.split())
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
SEPARATORS = re.compile(r"[\s/,;:()\-–]+")
END = ""  # marks, in a phrase tree, that a phrase may end here
NOT_WORDS = ("<", "[", "+")  # <s>, <sil>, [NOISE], +SPN+ ... (and the phone loop's SIL)
UNFIT_COVERAGE = 0.6  # a phrase spanning this share of the speech, or less, is no match (confidence 0)


def available() -> bool:
    """Whether the `voice` extra's pocketsphinx is installed (found, not imported: that waits)."""
    return find_spec("pocketsphinx") is not None


def spoken_phrases(phrases: Iterable[str], known: Callable[[str], bool]) -> list[str]:
    """The phrases in lower case whose every word the dictionary can pronounce, each once."""
    kept: dict[str, None] = {}
    for phrase in phrases:
        words = [w for w in SEPARATORS.split(phrase.lower().replace("’", "'")) if w]
        if words and all(WORD.fullmatch(w) and known(w) for w in words):
            kept[" ".join(words)] = None
    return list(kept)


def with_heads(phrases: Iterable[str]) -> list[str]:
    """The phrases and the first two words of the longer ones, unless those are only filler."""
    phrases = list(phrases)
    heads = (" ".join(p.split()[:2]) for p in phrases if len(p.split()) > 2)
    return list(dict.fromkeys([*phrases, *(h for h in heads if not FILLER_WORDS.issuperset(h.split()))]))


def alternatives(phrases: Iterable[str]) -> str:
    """JSGF alternatives with shared first words written once: "tax (payment | dues)"."""
    tree: dict[str, Any] = {}
    for phrase in phrases:
        node = tree
        for word in phrase.split():
            node = node.setdefault(word, {})
        node[END] = {}
    return _branches(tree)


def _branches(node: Mapping[str, Any]) -> str:
    return " | ".join(f"{word} {_rest(child)}".rstrip() for word, child in sorted(node.items()) if word != END)


def _rest(node: Mapping[str, Any]) -> str:
    if all(word == END for word in node):
        return ""
    return f"[{_branches(node)}]" if END in node else f"({_branches(node)})"


def grammar(phrases: Iterable[str], known: Callable[[str], bool]) -> str:
    """A JSGF grammar: [opening] [action] service [please]."""
    return "\n".join(
        (
            "#JSGF V1.0;",
            "grammar services;",
            "public <request> = [<opening>] [<action>] <service> [please];",
            f"<opening> = {alternatives(spoken_phrases(OPENINGS, known))};",
            f"<action> = {alternatives(spoken_phrases(ACTIONS, known))};",
            f"<service> = {alternatives(with_heads(spoken_phrases(phrases, known)))};",
        )
    )


class SphinxSpeech:
    """`SpeechToText` with pocketsphinx, offline; English service names only."""

    name = "pocketsphinx"
    languages = frozenset({"en"})

    def __init__(self, *, phrases: Iterable[str], max_seconds: float, workers: int = 1) -> None:
        self.phrases, self.max_seconds = tuple(phrases), max_seconds
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pocketsphinx")
        self._decoders = threading.local()  # a decoder is not thread-safe: one per worker

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        if language not in self.languages:
            raise SpeechError("unavailable", f"pocketsphinx hears English only, not {language!r}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(self._transcribe, audio))

    def decoder(self) -> Any:
        decoder = getattr(self._decoders, "decoder", None)
        if decoder is None:
            from pocketsphinx import Decoder, get_model_path  # an optional extra, imported only when asked for

            decoder = Decoder(lm=None, loglevel="FATAL")
            decoder.add_jsgf_string("services", grammar(self.phrases, lambda w: decoder.lookup_word(w) is not None))
            decoder.add_allphone_file("phones", get_model_path("en-us/en-us-phone.lm.bin"))
            self._decoders.decoder = decoder
        return decoder

    def _transcribe(self, audio: bytes) -> Transcript:
        clip = decode(audio, max_seconds=self.max_seconds)
        pcm = (np.clip(clip.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        decoder = self.decoder()
        heard, phrase_frames = _search(decoder, "services", pcm)
        if not heard:
            return Transcript(text="", language="en", confidence=0.0, seconds=clip.seconds)
        _, speech_frames = _search(decoder, "phones", pcm)
        return Transcript(
            text=heard, language="en", confidence=sureness(phrase_frames, speech_frames), seconds=clip.seconds
        )


def sureness(phrase_frames: int, speech_frames: int) -> float:
    """0..1 from the share of the speech that the phrase heard spans (see the module's note)."""
    if speech_frames <= 0:
        return 0.0
    return min(1.0, max(0.0, (phrase_frames / speech_frames - UNFIT_COVERAGE) / (1.0 - UNFIT_COVERAGE)))


def _search(decoder: Any, search: str, pcm: bytes) -> tuple[str, int]:
    """What one search hears in the clip, and how many frames its words (not silence or noise) span."""
    decoder.activate_search(search)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    spoken = [s for s in decoder.seg() or () if not s.word.startswith(NOT_WORDS) and s.word != "SIL"]
    return (hypothesis.hypstr if hypothesis else ""), sum(s.end_frame - s.start_frame + 1 for s in spoken)
