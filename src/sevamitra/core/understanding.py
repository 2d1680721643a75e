"""What a citizen's free text asks for: the types the assistant's router returns, and its port.

The router itself lives in `adapters/nlu` (it romanises Telugu and Hindi and matches fuzzily, with
third-party libraries); the conversation engine sees only this: a language, an intent, the services
that fit best (best first) and, for a question about a service, what it asks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, Protocol

Intent = Literal["apply", "ask", "track", "greeting", "thanks", "language", "human", "not_understood"]
Ask = Literal["fee", "documents", "time", "office", "eligibility"]
ASKS: Final[tuple[Ask, ...]] = ("fee", "documents", "time", "office", "eligibility")
Script = Literal["te", "hi", "latin"]
Lean = Literal["future", "past"]
_TELUGU = re.compile(r"[\u0c00-\u0c7f]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")


def script_of(text: str) -> Script:
    """The script most of the letters are in."""
    telugu, devanagari = len(_TELUGU.findall(text)), len(_DEVANAGARI.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if telugu >= max(devanagari, latin) and telugu:
        return "te"
    if devanagari >= latin and devanagari:
        return "hi"
    return "latin"


DateReader = Callable[[str, date, Lean], date | None]  # a day named in words ("repu", "next Monday"), or None


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    service_id: str
    score: float  # 0..1, comparable within one routing only


@dataclass(frozen=True, slots=True, kw_only=True)
class Understanding:
    language: str  # te, hi, en or te_latn (romanised Telugu): how the text was written
    intent: Intent
    candidates: tuple[Candidate, ...] = ()  # best first; empty unless the intent is apply or ask
    ask: Ask | None = None
    clear: bool = False  # the first candidate wins clearly: offer it directly, not in a list
    reference: str | None = None  # an application reference number in the text (track)

    @property
    def best(self) -> str | None:
        return self.candidates[0].service_id if self.candidates else None


class Router(Protocol):
    def route(self, text: str) -> Understanding:
        """Understand one message; pure computation over indexes built in advance."""
        ...
