"""The assistant's router as the platform uses it: the lexical router, optionally fused with
multilingual embeddings (`embeddings.py`). A language model's re-ranking (`llm.py`) is asynchronous,
so the conversation asks for it as an effect instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings
from sevamitra.adapters.nlu.lexical import CLEAR, LISTED, MARGIN, LexicalRouter, Lexicon
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.understanding import Candidate, Understanding

EMBEDDING_SHARE = 0.3  # the embeddings' part in a fused score
EMBEDDING_EXTRA = 3  # services the embeddings add to the lexical candidates
MAX_TEXT = 500


class Assistant:
    """`route` as the conversation engine calls it; phrasings accepted after review join in place."""

    def __init__(
        self,
        catalogue: Catalogue,
        lexicon: Mapping[str, Any],
        extra: Mapping[str, Iterable[str]] | None = None,
        *,
        embeddings: ServiceEmbeddings | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.lexicon = Lexicon.from_data(lexicon)
        self.lexical = LexicalRouter(catalogue, self.lexicon, extra)
        self.embeddings = embeddings

    def add_phrasings(self, extra: Mapping[str, Iterable[str]]) -> None:
        """Rebuild the index with the phrasings citizens confirmed and the state team accepted."""
        if extra:
            self.lexical = LexicalRouter(self.catalogue, self.lexicon, extra)

    def route(self, text: str) -> Understanding:
        text = text[:MAX_TEXT]
        understood = self.lexical.route(text)
        if understood.intent not in ("apply", "ask"):
            return understood
        if self.embeddings is not None:
            understood = self._fused(text, understood)
        return replace(understood, candidates=understood.candidates[:LISTED])

    def _fused(self, text: str, understood: Understanding) -> Understanding:
        assert self.embeddings is not None
        standing = self.embeddings.standing(text)
        index = {service_id: i for i, service_id in enumerate(self.embeddings.service_ids)}
        scores = {
            c.service_id: (1 - EMBEDDING_SHARE) * c.score + EMBEDDING_SHARE * float(standing[index[c.service_id]])
            for c in understood.candidates
        }
        for service_id, stand in self.embeddings.best(standing, EMBEDDING_EXTRA):
            scores.setdefault(service_id, EMBEDDING_SHARE * stand)
        ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        ranked = tuple(Candidate(service_id=s, score=round(v, 4)) for s, v in ordered)
        first = ranked[0].score
        clear = first >= CLEAR and (len(ranked) == 1 or first - ranked[1].score >= MARGIN)
        return replace(understood, candidates=ranked, clear=clear)
