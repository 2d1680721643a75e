"""Number words as menu choices: "okati", "రెండు", "तीन", "four" pick a row as "1", "2", "3", "4" do."""

from __future__ import annotations

import unicodedata
from typing import Final

_NUMBERS: Final = {
    1: ("one", "first", "okati", "okkati", "ఒకటి", "ఒకటో", "एक", "ek", "pehla"),
    2: ("two", "second", "rendu", "రెండు", "రెండో", "दो", "do", "doosra", "dusra"),
    3: ("three", "third", "moodu", "mudu", "moodo", "మూడు", "మూడో", "तीन", "teen", "tin"),
    4: ("four", "fourth", "nalugu", "naalugu", "నాలుగు", "నాలుగో", "चार", "char", "chaar"),
    5: ("five", "fifth", "aidu", "ayidu", "aidhu", "ఐదు", "అయిదు", "पाँच", "पांच", "panch", "paanch"),
    6: ("six", "sixth", "aaru", "aru", "ఆరు", "छह", "छः", "chhe", "chah"),
    7: ("seven", "seventh", "edu", "yedu", "aedu", "ఏడు", "सात", "saat", "sat"),
    8: ("eight", "eighth", "enimidi", "enimdi", "ఎనిమిది", "आठ", "aath", "ath"),
    9: ("nine", "ninth", "tommidi", "thommidi", "తొమ్మిది", "नौ", "nau"),
    10: ("ten", "tenth", "padi", "padhi", "పది", "दस", "das"),
}
_BY_WORD: Final = {unicodedata.normalize("NFC", w): n for n, words in _NUMBERS.items() for w in words}


def number_word(text: str) -> int | None:
    """The number a one-word message names (1–10), in English, Telugu or Hindi, either script."""
    key = unicodedata.normalize("NFC", text.strip().strip(".!").casefold())
    return _BY_WORD.get(key)
