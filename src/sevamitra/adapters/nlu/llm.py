"""An optional large language model behind any OpenAI-compatible chat API (`/chat/completions`),
used only to pick among the candidates the router found when none is clear.

The model sees the message and the candidates (ids, names, one-line summaries) and must answer with
JSON `{"service_id": <one of the ids> | null}`; anything else (other keys, an id it was not offered,
a timeout, an error) leaves the router's own order. It never supplies fees, documents or decisions:
those always come from the catalogue. Without it the platform works the same.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import httpx

from sevamitra.core.catalogue import Catalogue
from sevamitra.core.understanding import Understanding

log = logging.getLogger(__name__)

SYSTEM = (
    "You route a citizen's message to one government service of Andhra Pradesh. Choose only among the "
    'candidates given. Answer with JSON only: {"service_id": "<one candidate id>"} or {"service_id": null} '
    "when none fits."
)


class ChatReranker:
    """`await rerank(text, understood)`: the model's pick moved first, offered directly."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        catalogue: Catalogue,
        *,
        url: str,
        key: str,
        model: str,
        timeout: float = 4.0,
    ) -> None:
        self.http, self.catalogue = http, catalogue
        self.url, self.key, self.model, self.timeout = url.rstrip("/"), key, model, timeout

    async def __call__(self, text: str, understood: Understanding) -> Understanding:
        offered = [c.service_id for c in understood.candidates]
        try:
            response = await self.http.post(
                f"{self.url}/chat/completions",
                headers={"Authorization": f"Bearer {self.key}"} if self.key else {},
                json=self._request(text, offered),
                timeout=self.timeout,
            )
            response.raise_for_status()
            chosen = _choice(response.json(), offered)
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as error:
            log.warning("the language model gave no usable answer (%s); the router's order stands", error)
            return understood
        if chosen is None:
            return understood
        first = next(c for c in understood.candidates if c.service_id == chosen)
        rest = tuple(c for c in understood.candidates if c.service_id != chosen)
        return replace(understood, candidates=(first, *rest), clear=True)

    def _request(self, text: str, offered: list[str]) -> dict[str, Any]:
        lines = []
        for service_id in offered:
            service = self.catalogue.service(service_id)
            if service is not None:
                lines.append(f"- {service_id}: {service.name('en')} — {service.summaries.get('en', '')}")
        return {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Message: {text[:500]}\nCandidates:\n" + "\n".join(lines)},
            ],
        }


def _choice(body: Any, offered: list[str]) -> str | None:
    """The id the model chose, checked against its schema: one key, an offered id or null."""
    content = body["choices"][0]["message"]["content"]
    answer = json.loads(content)
    if not isinstance(answer, dict) or set(answer) != {"service_id"}:
        raise ValueError(f"not the answer asked for: {content[:200]!r}")
    chosen = answer["service_id"]
    if chosen is not None and chosen not in offered:
        raise ValueError(f"{chosen!r} was not offered")
    return chosen if isinstance(chosen, str) else None
