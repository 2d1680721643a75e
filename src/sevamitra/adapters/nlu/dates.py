"""Dates as citizens write them: "repu", "రేపు", "कल", "next Monday", "15 August", via `dateparser`.

Romanised Telugu day words, which no date library knows, are read first; the rest goes to
dateparser in English, Telugu and Hindi. Which way an ambiguous date leans ("कल" is yesterday or
tomorrow, "15 August" this year or next) follows the field: a visit leans to the future, a birth to
the past.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dateparser

from sevamitra.core.understanding import Lean

# Day words of romanised Telugu (and their Telugu forms dateparser does not know), as days from today.
_DAY_WORDS = {
    "ivala": 0,
    "ivvala": 0,
    "eroju": 0,
    "ee roju": 0,
    "ఈరోజు": 0,
    "ఈ రోజు": 0,
    "repu": 1,
    "reppu": 1,
    "ellundi": 2,
    "ఎల్లుండి": 2,
    "ninna": -1,
    "monna": -2,
}
_AMBIGUOUS = {"kal": 1, "कल": 1, "parso": 2, "parson": 2, "परसों": 2}  # forward or back, by the field's lean
LANGUAGES = ["en", "te", "hi"]
MAX_LENGTH = 40  # longer texts are no date


def read_date(text: str, today: date, lean: Lean = "future") -> date | None:
    """The day a short text names, or None."""
    key = " ".join(text.casefold().split()).strip(".!")
    if not key or len(key) > MAX_LENGTH:
        return None
    if key in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[key])
    if key in _AMBIGUOUS:
        days = _AMBIGUOUS[key]
        return today + timedelta(days=days if lean == "future" else -days)
    settings = {
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),  # noqa: DTZ001 (a calendar day, no zone)
        "PREFER_DATES_FROM": lean,
        "DATE_ORDER": "DMY",
    }
    found = dateparser.parse(key, languages=LANGUAGES, settings=settings)
    return found.date() if found is not None else None
