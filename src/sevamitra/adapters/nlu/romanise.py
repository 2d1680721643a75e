"""One spelling for what citizens write in three scripts: Telugu and Devanagari are romanised with
`indic-transliteration` (IAST, diacritics dropped), then every Latin word is folded phonetically so
that "aadaayam", "adayam" and "ఆదాయం" meet, as do "dhruvikarana" and "druveekarana".
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

from indic_transliteration import sanscript

from sevamitra.core.understanding import script_of as script_of  # the router and its tests read it here

_TELUGU = re.compile(r"[\u0c00-\u0c7f]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_WORD = re.compile(r"[a-z0-9]+")
_ANUSVARA_BEFORE_CONSONANT = re.compile(r"ṃ(?=[kgcjṭḍtdpbnmyrlvśṣsh])")
# Folds, in order: aspirates and sibilants to their plain letters, long vowels to short, look-alikes.
_FOLDS = (
    ("ph", "f"),
    ("f", "p"),
    ("kh", "k"),
    ("gh", "g"),
    ("ch", "c"),
    ("jh", "j"),
    ("th", "t"),
    ("dh", "d"),
    ("bh", "b"),
    ("sh", "s"),
    ("w", "v"),
    ("z", "j"),
    ("q", "k"),
    ("x", "ks"),
    ("ee", "i"),
    ("ii", "i"),
    ("oo", "u"),
    ("uu", "u"),
    ("aa", "a"),
    ("ou", "au"),
)
_SOFT_C = re.compile(r"c(?=[eiy])")
_REPEATS = re.compile(r"([a-z])\1+")


@functools.lru_cache(maxsize=65536)
def _romanised_word(word: str, scheme: str) -> str:
    iast = sanscript.transliterate(word, scheme, sanscript.IAST)
    iast = _ANUSVARA_BEFORE_CONSONANT.sub("n", iast).replace("ṛ", "ru").replace("ṝ", "ru")
    return "".join(ch for ch in unicodedata.normalize("NFD", iast) if not unicodedata.combining(ch))


def _recited(token: str) -> bool:
    """A run of the alphabet as it is learnt ("కఖగఘ", "अआइई"): letters in code-point order, no word."""
    points = [ord(ch) for ch in token]
    return len(points) >= 3 and all(b - a == 1 for a, b in itertools.pairwise(points))


def romanise(text: str) -> str:
    """Telugu and Devanagari runs in Latin letters (lower case, no diacritics); Latin kept."""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for token in re.split(r"(\s+)", text):
        if (_TELUGU.search(token) or _DEVANAGARI.search(token)) and _recited(token):
            out.append(" ")
        elif _TELUGU.search(token):
            out.append(_romanised_word(token, sanscript.TELUGU))
        elif _DEVANAGARI.search(token):
            out.append(_romanised_word(token, sanscript.DEVANAGARI))
        else:
            out.append(token)
    return "".join(out).casefold()


@functools.lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """A Latin word folded phonetically: "certificate" → "sertipikat", a key that spellings share."""
    for old, new in _FOLDS:
        word = word.replace(old, new)
    word = _SOFT_C.sub("s", word).replace("c", "k")
    word = _REPEATS.sub(r"\1", word)
    # Telugu -u and Hindi -a endings come and go in spelling, as does English's silent e.
    if len(word) > 4 and (word[-1] in "au" or (word[-1] == "e" and word[-2] not in "aeiou")):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """The folded words of a text in any of the three scripts."""
    return [fold(w) for w in _WORD.findall(romanise(text))]
