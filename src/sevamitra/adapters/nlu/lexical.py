"""The lexical router: which services a message names, over the whole catalogue, in any script.

Every name and alias of every service becomes a phrase; a phrase is indexed by its folded words
(`romanise.words`) and their character 3- and 4-grams, weighted by how rare they are among phrases
(IDF) and normalised. A message is folded the same way, its filler words dropped, and each service
scores the best cosine of its phrases; the few best are re-ranked with `rapidfuzz` so that a
misspelt word still finds its alias. Intent and question words come from the lexicon
(`catalogue/nlu/lexicon.yaml`). Everything is built once; routing is pure computation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from rapidfuzz import fuzz

from sevamitra.adapters.nlu.romanise import script_of, words
from sevamitra.core.applications import normalise_reference
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.understanding import ASKS, Ask, Candidate, Intent, Understanding

K = TypeVar("K", bound=str)
GRAMS = (3, 4)
WORD_WEIGHT = 1.5  # a whole word matched counts more than its grams
SHORTLIST = 12  # services re-ranked with fuzzy matching
FUZZ_SHARE = 0.25  # the fuzzy score's part in the final score
FLOOR = 0.34  # below this the best service is not plausible: not understood
CLEAR = 0.62  # at least this, and MARGIN ahead of the next: offered directly
MARGIN = 0.12
LISTED = 5  # candidates returned when none is clear
PHRASE_INTENTS: tuple[Intent, ...] = ("track", "human", "language", "thanks", "greeting")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lexicon:
    """Folded words and phrases: fillers, the questions about a service, the intents without one."""

    filler: frozenset[str]
    asks: Mapping[Ask, tuple[tuple[str, ...], ...]]
    intents: Mapping[Intent, tuple[tuple[str, ...], ...]]
    romanised_telugu: frozenset[str]  # words that mark Latin text as Telugu rather than English

    @staticmethod
    def from_data(data: Mapping[str, Mapping[str, Any]]) -> Lexicon:
        """From `catalogue/nlu/lexicon.yaml` as loaded: {filler: {lang: [...]}, ask|intent: {kind: {lang: [...]}}}."""

        def phrases(by_language: Mapping[str, Sequence[str]]) -> tuple[tuple[str, ...], ...]:
            found = {tuple(words(p)) for group in by_language.values() for p in group}
            return tuple(sorted((p for p in found if p), key=len, reverse=True))  # longest first

        def words_in(language: str) -> set[str]:
            groups = [data["filler"], *data["ask"].values(), *data["intent"].values()]
            return {w for group in groups for p in group.get(language, ()) for w in words(p)}

        return Lexicon(
            filler=frozenset(w for group in data["filler"].values() for p in group for w in words(p)),
            asks={ask: phrases(data["ask"][ask]) for ask in ASKS if ask in data["ask"]},
            intents={intent: phrases(data["intent"][intent]) for intent in PHRASE_INTENTS if intent in data["intent"]},
            romanised_telugu=frozenset(words_in("te_latn") - words_in("en")),
        )


def _features(folded: Sequence[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for word in folded:
        found[f"w:{word}"] = WORD_WEIGHT
        padded = f"#{word}#"
        for n in GRAMS:
            for i in range(len(padded) - n + 1):
                found.setdefault(f"g:{padded[i : i + n]}", 1.0)
    return found


def _find(folded: Sequence[str], phrase: Sequence[str]) -> int:
    """Where `phrase` occurs in `folded` as consecutive words; -1 when it does not."""
    n = len(phrase)
    for i in range(len(folded) - n + 1):
        if tuple(folded[i : i + n]) == tuple(phrase):
            return i
    return -1


class LexicalRouter:
    """Services by their names and aliases; intents and questions by the lexicon."""

    def __init__(self, catalogue: Catalogue, lexicon: Lexicon, extra: Mapping[str, Iterable[str]] | None = None):
        self.lexicon = lexicon
        self.service_ids = tuple(s.id for s in catalogue.services)
        index = {service_id: i for i, service_id in enumerate(self.service_ids)}
        texts: list[tuple[int, tuple[str, ...]]] = []
        for service in catalogue.services:
            said = [*service.names.values(), *(a for group in service.aliases.values() for a in group)]
            said += list((extra or {}).get(service.id, ()))  # phrasings confirmed by citizens, after review
            for text in said:
                folded = tuple(w for w in words(text) if w not in lexicon.filler) or tuple(words(text))
                if folded:
                    texts.append((index[service.id], folded))
        unique = sorted(set(texts))
        self._phrase_service = np.array([s for s, _ in unique], dtype=np.int32)
        self._phrase_text = [" ".join(p) for _, p in unique]
        self._by_service: dict[int, list[int]] = defaultdict(list)
        for i, (service_index, _) in enumerate(unique):
            self._by_service[service_index].append(i)
        vectors = [_features(p) for _, p in unique]
        document_frequency: dict[str, int] = defaultdict(int)
        for vector in vectors:
            for feature in vector:
                document_frequency[feature] += 1
        count = len(vectors)
        self._idf = {f: math.log(1 + count / df) for f, df in document_frequency.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, vector in enumerate(vectors):
            weighted = {f: w * self._idf[f] for f, w in vector.items()}
            norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
            for feature, value in weighted.items():
                postings[feature].append((i, value / norm))
        self._postings = {
            f: (np.array([i for i, _ in items], dtype=np.int32), np.array([v for _, v in items], dtype=np.float32))
            for f, items in postings.items()
        }

    # ------------------------------------------------------------------ routing

    def route(self, text: str) -> Understanding:
        folded = words(text)
        language = self.language_of(text, folded)
        reference = next((r for token in text.split() if (r := normalise_reference(token.strip(".,;:!?")))), None)
        content = list(folded)
        ask = self._take(content, self.lexicon.asks)
        said = self._take(content, self.lexicon.intents)
        content = [w for w in content if w not in self.lexicon.filler]
        candidates = self.candidates(content) if content else ()
        plausible = tuple(c for c in candidates if c.score >= FLOOR)
        if reference is not None or said == "track":
            return Understanding(language=language, intent="track", reference=reference, candidates=plausible[:1])
        if plausible:
            clear = plausible[0].score >= CLEAR and (
                len(plausible) == 1 or plausible[0].score - plausible[1].score >= MARGIN
            )
            return Understanding(
                language=language,
                intent="ask" if ask else "apply",
                ask=ask,
                candidates=plausible[:LISTED],
                clear=clear,
            )
        if said is not None:
            return Understanding(language=language, intent=said)
        return Understanding(language=language, intent="not_understood")

    def language_of(self, text: str, folded: Sequence[str]) -> str:
        script = script_of(text)
        if script != "latin":
            return script
        return "te_latn" if any(w in self.lexicon.romanised_telugu for w in folded) else "en"

    @staticmethod
    def _take(content: list[str], phrases: Mapping[K, tuple[tuple[str, ...], ...]]) -> K | None:
        """The first kind whose phrase occurs in `content` (longest phrases first), its words removed."""
        best: tuple[int, K, tuple[str, ...]] | None = None
        for kind, group in phrases.items():
            for phrase in group:
                if _find(content, phrase) >= 0 and (best is None or len(phrase) > best[0]):
                    best = (len(phrase), kind, phrase)
                    break
        if best is None:
            return None
        at = _find(content, best[2])
        del content[at : at + len(best[2])]
        return best[1]

    def candidates(self, content: Sequence[str]) -> tuple[Candidate, ...]:
        """Services by score, best first (only those with any feature in common)."""
        query = {f: w * self._idf[f] for f, w in _features(content).items() if f in self._idf}
        if not query:
            return ()
        norm = math.sqrt(sum(v * v for v in query.values()))
        scores = np.zeros(len(self._phrase_service), dtype=np.float32)
        for feature, weight in query.items():
            ids, values = self._postings[feature]
            scores[ids] += values * (weight / norm)
        best = np.zeros(len(self.service_ids), dtype=np.float32)
        np.maximum.at(best, self._phrase_service, scores)
        top = np.argsort(-best)[:SHORTLIST]
        top = top[best[top] > 0]
        joined = " ".join(content)
        ranked = []
        for service_index in top:
            fuzzy = max(
                fuzz.token_set_ratio(joined, self._phrase_text[i]) for i in self._by_service[int(service_index)]
            )
            score = (1 - FUZZ_SHARE) * float(best[service_index]) + FUZZ_SHARE * fuzzy / 100
            ranked.append(Candidate(service_id=self.service_ids[int(service_index)], score=round(score, 4)))
        ranked.sort(key=lambda c: (-c.score, c.service_id))
        return tuple(ranked)
