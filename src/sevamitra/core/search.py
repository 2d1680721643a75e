"""Finding a service by what a citizen types: its names and aliases, in any language or script."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sevamitra.core.catalogue import Catalogue, Service

_STOP = frozenset(
    {
        "i",
        "want",
        "need",
        "apply",
        "for",
        "a",
        "an",
        "the",
        "to",
        "of",
        "my",
        "get",
        "kavali",
        "kaavali",
        "naaku",
        "ki",
        "ka",
        "ke",
        "chahiye",
        "mujhe",
        "please",
        "pls",
        "certificate?",
    }
)


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).casefold()
    return [w for w in re.split(r"[^\w\u0900-\u0d7f]+", text) if w and w not in _STOP]


@dataclass(frozen=True, slots=True)
class ServiceIndex:
    """Words of every service's names and aliases, built once per catalogue."""

    catalogue: Catalogue
    _entries: tuple[tuple[Service, frozenset[str], tuple[str, ...]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        entries = []
        for service in self.catalogue.services:
            phrases = [*service.names.values(), *(a for group in service.aliases.values() for a in group)]
            words = frozenset(w for p in phrases for w in _words(p))
            entries.append((service, words, tuple(" ".join(_words(p)) for p in phrases)))
        object.__setattr__(self, "_entries", tuple(entries))

    def exact(self, text: str) -> Service | None:
        """The one service whose name or alias is exactly what was typed (ignoring filler words)."""
        phrase = " ".join(_words(text))
        matches = [service for service, _, phrases in self._entries if phrase and phrase in phrases]
        return matches[0] if len(matches) == 1 else None

    def search(self, text: str, limit: int = 8) -> list[Service]:
        """Services ranked by how well `text` matches a name or alias; empty when nothing does."""
        query = _words(text)
        if not query:
            return []
        phrase = " ".join(query)
        scored: list[tuple[float, str, Service]] = []
        for service, words, phrases in self._entries:
            hits = sum(1 for w in query if w in words or _prefix_hit(w, words))
            if not hits:
                continue
            score = hits / len(query) + (1.0 if phrase in phrases else 0.0)
            scored.append((-score, service.id, service))
        scored.sort()
        if not scored:
            return []
        best = -scored[0][0]
        return [s for score, _, s in scored if -score >= best * 0.5][:limit]


def _prefix_hit(word: str, words: Iterable[str]) -> bool:
    return len(word) >= 4 and any(w.startswith(word) for w in words)
