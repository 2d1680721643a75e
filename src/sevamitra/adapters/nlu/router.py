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
GENERAL_AT = 2  # where a department's general grievance joins the list, when not already this high


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
        self.general_grievance = self._general_grievances(catalogue, lexicon.get("general_grievance", {}))

    @staticmethod
    def _general_grievances(catalogue: Catalogue, named: Mapping[str, str]) -> dict[str, str]:
        """The general grievance for each specific complaint service's department (where the catalogue
        offers it: a state may leave some out)."""
        offered = {s.id for s in catalogue.services}
        general = {department: s for department, s in named.items() if s in offered}
        return {
            s.id: general.get(s.department_id, general.get("*", ""))
            for s in catalogue.services
            if s.output.kind == "grievance_ticket" and s.id not in named.values()
        }

    def add_phrasings(self, extra: Mapping[str, Iterable[str]]) -> None:
        """Rebuild the index with the phrasings citizens confirmed and the state team accepted."""
        if extra:
            self.lexical = LexicalRouter(self.catalogue, self.lexicon, extra)

    def route(self, text: str) -> Understanding:
        text = text[:MAX_TEXT]
        understood = self.lexical.route(text)
        if understood.intent not in ("apply", "ask"):
            return understood
        if self.embeddings is not None and self.embeddings.ready:  # until then, the lexical router alone
            understood = self._fused(text, understood)
        return replace(understood, candidates=self._with_general(understood.candidates)[:LISTED])

    def _with_general(self, candidates: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        """A specific complaint first: its department's general grievance among the best three."""
        general = self.general_grievance.get(candidates[0].service_id) if candidates else None
        if not general or general in (c.service_id for c in candidates[: GENERAL_AT + 1]):
            return candidates
        rest = [c for c in candidates if c.service_id != general]
        below = rest[GENERAL_AT - 1].score if len(rest) >= GENERAL_AT else rest[-1].score
        return (*rest[:GENERAL_AT], Candidate(service_id=general, score=below), *rest[GENERAL_AT:])

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
