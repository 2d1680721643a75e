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
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from rapidfuzz import fuzz, process

from sevamitra.adapters.nlu.romanise import script_of, words
from sevamitra.core.applications import normalise_reference
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.understanding import ASKS, Ask, Candidate, Intent, Understanding

K = TypeVar("K", bound=str)
GRAMS = (3, 4)
WORD_WEIGHT = 1.5  # a whole word matched counts more than its grams
SHORTLIST = 12  # services re-ranked with fuzzy matching
FUZZ_SHARE = 0.25
DOCUMENT_SHARE = 0.35  # the whole-service document's part in the ranking score
FLOOR = 0.34  # a best phrase's cosine below this is no plausible service: not understood
KNOWN = 0.5  # nor is one when fewer of the message's words than this share are words of some service
SURE = 0.7  # a cosine this high is plausible whatever else the message says
EXACT = 0.9  # ... and this high even beside an off-topic word ("book cinema tickets" is no bus ticket)
CLEAR = 0.56  # a final score of at least this, and MARGIN ahead of the next: offered directly
MARGIN = 0.07
NEAR_WORD = 82  # rapidfuzz ratio at which a misspelt word counts as a known word
MIN_STEM = 4  # a place name this long is found with a case ending attached
REGION_BONUS, REGION_PENALTY = 0.05, 0.15  # a place named in the message picks its region's variant
SETTLEMENT_PENALTY = 0.1  # a village named sets back a town's services, and a ward or town a village's
LISTED = 5  # candidates returned when none is clear
PHRASE_INTENTS: tuple[Intent, ...] = ("track", "human", "language", "thanks", "greeting")
STATUS_SERVICE = re.compile(r"(status|track)")  # services that look up where something stands
OUTWEIGHING = frozenset({"greeting", "thanks", "human", "language"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Lexicon:
    """Folded words and phrases: fillers, the questions about a service, the intents without one."""

    filler: frozenset[str]
    asks: Mapping[Ask, tuple[tuple[str, ...], ...]]
    intents: Mapping[Intent, tuple[tuple[str, ...], ...]]
    romanised_telugu: frozenset[str]  # words that mark Latin text as Telugu rather than English
    regions: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)  # tag -> its place names
    outside: tuple[tuple[str, ...], ...] = ()  # topics no service covers (films, cricket, recharges)
    # village or town: the departments serving that kind of place, and the words that name one
    settlements: Mapping[str, tuple[frozenset[str], tuple[tuple[str, ...], ...]]] = field(default_factory=dict)

    @staticmethod
    def from_data(data: Mapping[str, Mapping[str, Any]]) -> Lexicon:
        """From `catalogue/nlu/lexicon.yaml` as loaded: {filler: {lang: [...]}, ask|intent: {kind: {lang: [...]}}}."""

        filler = frozenset(w for group in data["filler"].values() for p in group for w in words(p))

        def phrases(by_language: Mapping[str, Sequence[str]]) -> tuple[tuple[str, ...], ...]:
            """Each phrase as written and without its filler words (for messages that drop or add them)."""
            found = {tuple(words(p)) for group in by_language.values() for p in group}
            stripped = {tuple(w for w in p if w not in filler) for p in found}
            found |= {p for p in stripped if len(p) >= 2}  # "much" alone is no question about a fee
            return tuple(sorted((p for p in found if p), key=len, reverse=True))  # longest first

        def words_in(language: str) -> set[str]:
            groups = [data["filler"], *data["ask"].values(), *data["intent"].values()]
            return {w for group in groups for p in group.get(language, ()) for w in words(p)}

        return Lexicon(
            filler=filler,
            asks={ask: phrases(data["ask"][ask]) for ask in ASKS if ask in data["ask"]},
            intents={intent: phrases(data["intent"][intent]) for intent in PHRASE_INTENTS if intent in data["intent"]},
            romanised_telugu=frozenset(words_in("te_latn") - words_in("en")),
            outside=phrases(data.get("outside", {})),
            regions={
                tag: tuple(sorted({tuple(words(p)) for p in places if words(p)}, key=len, reverse=True))
                for tag, places in data.get("region", {}).items()
            },
            settlements={
                kind: (frozenset(entry["departments"]), phrases(entry["words"]))
                for kind, entry in data.get("settlement", {}).items()
            },
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


def _names(folded: Sequence[str], place: Sequence[str]) -> bool:
    """Whether the words name `place`; a one-word place also with a suffix ("గుంటూరులో", "kurnoolki")."""
    if len(place) == 1 and len(place[0]) >= MIN_STEM:
        return any(w.startswith(place[0]) for w in folded)
    return _find(folded, place) >= 0


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
        # One pass gathers each feature's phrases with raw weights (no per-phrase copies kept: the
        # index of thousands of phrases is built within a few tens of megabytes), a second weights them.
        raw: dict[str, list[tuple[int, float]]] = defaultdict(list)
        service_features: dict[int, set[str]] = defaultdict(set)
        for i, (service_index, phrase) in enumerate(unique):
            features = _features(phrase)
            service_features[service_index].update(features)
            for feature, weight in features.items():
                raw[feature].append((i, weight))
        count = len(unique)
        self._idf = {f: math.log(1 + count / len(items)) for f, items in raw.items()}
        squares = np.zeros(count, dtype=np.float64)
        for feature, items in raw.items():
            idf = self._idf[feature]
            for i, weight in items:
                squares[i] += (weight * idf) ** 2
        norms = np.sqrt(squares)
        norms[norms == 0] = 1.0
        self._postings = {}
        for feature, items in raw.items():
            ids = np.fromiter((i for i, _ in items), dtype=np.int32, count=len(items))
            weights = np.fromiter((w for _, w in items), dtype=np.float32, count=len(items))
            self._postings[feature] = (ids, (weights * self._idf[feature] / norms[ids]).astype(np.float32))
        del raw
        self._vocabulary = sorted({w for _, p in unique for w in p})
        self._known = frozenset(self._vocabulary)
        self._region = np.array(
            [next((t for t in lexicon.regions if sid.rsplit("-", 1)[-1] == t), "") for sid in self.service_ids]
        )
        body = {department: kind for kind, (served, _) in lexicon.settlements.items() for department in served}
        self._settlement = np.array([body.get(s.department_id, "") for s in catalogue.services])
        self._documents = self._service_documents(service_features)

    def _service_documents(self, features: Mapping[int, set[str]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each service as one document of all its phrases' features, weighted by rarity among services:
        a message that mixes words of two aliases of one service ("add wife name in rice card")."""
        frequency: dict[str, int] = defaultdict(int)
        for found in features.values():
            for feature in found:
                frequency[feature] += 1
        count = len(self.service_ids)
        self._service_idf = {f: math.log(1 + count / df) for f, df in frequency.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for owner, found in features.items():
            norm = math.sqrt(sum(self._service_idf[f] ** 2 for f in found)) or 1.0
            for feature in found:
                postings[feature].append((owner, self._service_idf[feature] / norm))
        return {
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
        unsaid = [w for w in content if w not in self.lexicon.filler]  # before an intent's words go
        said = self._take(content, self.lexicon.intents)
        if said is None:  # "talk to an officer": the phrase may have fillers in between
            kept = [w for w in content if w not in self.lexicon.filler]
            if (said := self._take(kept, self.lexicon.intents)) is not None:
                content = kept
        content = [w for w in content if w not in self.lexicon.filler]
        candidates, cosine = self.scored(content, folded) if content else ((), 0.0)
        if said in OUTWEIGHING and content and unsaid != content:  # "suprabhata seva" is a service, no greeting
            whole, whole_cosine = self.scored(unsaid, folded)
            if whole_cosine >= SURE and whole_cosine > cosine:
                candidates, cosine, content, said = whole, whole_cosine, unsaid, None
        # a greeting, thanks or an off-topic word outweighs a service matched only loosely
        off_topic = any(_find(folded, p) >= 0 for p in self.lexicon.outside)
        loose = said in OUTWEIGHING or off_topic
        plausible = candidates if candidates and self._plausible(content, cosine, loose=loose) else ()
        if off_topic and not (plausible and cosine >= EXACT):
            return Understanding(language=language, intent="not_understood")
        lookup = next((c for c in plausible[:3] if STATUS_SERVICE.search(c.service_id)), None)
        if said == "track" and reference is None and lookup is not None:  # "rice card status": its own look-up
            return Understanding(language=language, intent="apply", candidates=(lookup,), clear=True)
        if reference is not None or said == "track":
            return Understanding(language=language, intent="track", reference=reference, candidates=plausible[:1])
        if plausible:
            return Understanding(
                language=language,
                intent="ask" if ask else "apply",
                ask=ask,
                candidates=plausible,  # the shortlist: the assistant keeps the best LISTED after fusing
                clear=self._clear(plausible),
            )
        if said is not None:
            return Understanding(language=language, intent=said)
        return Understanding(language=language, intent="not_understood")

    @staticmethod
    def _clear(candidates: Sequence[Candidate]) -> bool:
        first = candidates[0].score
        return first >= CLEAR and (len(candidates) == 1 or first - candidates[1].score >= MARGIN)

    def _plausible(self, content: Sequence[str], cosine: float, *, loose: bool = False) -> bool:
        """A service is meant when its best phrase matches well and most words are words of services
        (a film's or a phone plan's name makes "book tickets" something else)."""
        if cosine >= SURE:
            return True
        if loose:
            return False
        counted = [w for w in content if len(w) > 2 and not w.isdigit()]  # "18", "65", "ki" say nothing
        known = sum(1 for w in counted if self._is_known(w))
        return bool(counted) and cosine >= FLOOR and known >= KNOWN * len(counted)

    def _is_known(self, word: str) -> bool:
        """A word some service uses: as it is, with a case ending ("గుంటూరులో"), or misspelt."""
        if word in self._known or any(word[:k] in self._known for k in range(MIN_STEM, len(word))):
            return True
        if any(_names([word], place) for places in self.lexicon.regions.values() for place in places):
            return True
        return (
            len(word) >= 4
            and process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=NEAR_WORD) is not None
        )

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

    def scored(self, content: Sequence[str], folded: Sequence[str] = ()) -> tuple[tuple[Candidate, ...], float]:
        """Services by score, best first (only those with any feature in common), and the best phrase's
        cosine; a fuzzy match of the words re-ranks the best few, and a place named picks its region's
        variant of a service."""
        query = {f: w * self._idf[f] for f, w in _features(content).items() if f in self._idf}
        if not query:
            return (), 0.0
        norm = math.sqrt(sum(v * v for v in query.values()))
        scores = np.zeros(len(self._phrase_service), dtype=np.float32)
        for feature, weight in query.items():
            ids, values = self._postings[feature]
            scores[ids] += values * (weight / norm)
        best = np.zeros(len(self.service_ids), dtype=np.float32)
        np.maximum.at(best, self._phrase_service, scores)
        cosine = float(best.max())
        if DOCUMENT_SHARE:
            best = ((1 - DOCUMENT_SHARE) * best + DOCUMENT_SHARE * self._document_scores(content)).astype(np.float32)
        top = np.argsort(-best)[:SHORTLIST]
        top = top[best[top] > 0]
        regions = {tag for tag, places in self.lexicon.regions.items() if any(_names(folded, p) for p in places)}
        settled = {k for k, (_, named) in self.lexicon.settlements.items() if any(_names(folded, p) for p in named)}
        joined = " ".join(content)
        ranked = []
        for service_index in top:
            phrases = self._by_service[int(service_index)]
            fuzzy = max(fuzz.token_set_ratio(joined, self._phrase_text[i]) for i in phrases)
            score = (1 - FUZZ_SHARE) * float(best[service_index]) + FUZZ_SHARE * fuzzy / 100
            region = str(self._region[service_index])
            if region and regions:
                score += REGION_BONUS if region in regions else -REGION_PENALTY
            if len(settled) == 1 and (settlement := str(self._settlement[service_index])) and settlement not in settled:
                score -= SETTLEMENT_PENALTY
            ranked.append(Candidate(service_id=self.service_ids[int(service_index)], score=round(score, 4)))
        ranked.sort(key=lambda c: (-c.score, c.service_id))
        return tuple(ranked), cosine

    def _document_scores(self, content: Sequence[str]) -> np.ndarray:
        query = {f: w * self._service_idf[f] for f, w in _features(content).items() if f in self._service_idf}
        scores = np.zeros(len(self.service_ids), dtype=np.float32)
        norm = math.sqrt(sum(v * v for v in query.values())) or 1.0
        for feature, weight in query.items():
            ids, values = self._documents[feature]
            scores[ids] += values * (weight / norm)
        return scores
