"""The assistant measured on a held-out set: accuracy per writing style, latency and memory.

The set (`evaluation/nlu/*.tsv`: style, expected, ask, text) is written for evaluation and kept apart
from the aliases the router learns from. `expected` is a service id, `intent:<name>`, or `none` for
messages outside the platform's services, which must come back "not understood".
"""

from __future__ import annotations

import csv
import resource
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sevamitra.core.understanding import Router

STYLES = ("en", "te", "te_latn", "hi")
SERVICE_INTENTS = frozenset({"apply", "ask", "track"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Utterance:
    style: str
    expected: str  # a service id, "intent:<name>" or "none"
    ask: str  # fee, documents, time, office, eligibility, or "-"
    text: str

    @property
    def names_a_service(self) -> bool:
        return self.expected != "none" and not self.expected.startswith("intent:")


def read_set(paths: Iterable[Path]) -> list[Utterance]:
    found: list[Utterance] = []
    for path in sorted(paths):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                found.append(
                    Utterance(style=row["style"], expected=row["expected"], ask=row["ask"] or "-", text=row["text"])
                )
    return found


@dataclass(slots=True)
class Tally:
    services: int = 0
    top1: int = 0
    top3: int = 0
    asks: int = 0
    asks_right: int = 0
    outside: int = 0
    outside_right: int = 0
    intents: int = 0
    intents_right: int = 0
    clear: int = 0  # offered directly, without a list
    clear_right: int = 0

    def share(self, part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None


@dataclass(slots=True)
class Report:
    by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    latencies_ms: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    misses: list[tuple[Utterance, str]] = field(default_factory=list)

    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return round(ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else 0.0

    def table(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for style in (*STYLES, *(s for s in self.by_style if s not in STYLES)):
            t = self.by_style.get(style)
            if t is None:
                continue
            rows.append(
                {
                    "style": style,
                    "services": t.services,
                    "top1": t.share(t.top1, t.services),
                    "top3": t.share(t.top3, t.services),
                    "ask": t.share(t.asks_right, t.asks),
                    "outside": t.outside,
                    "not_understood": t.share(t.outside_right, t.outside),
                    "intents": t.intents,
                    "intent_right": t.share(t.intents_right, t.intents),
                    "clear": t.share(t.clear, t.services),
                    "clear_right": t.share(t.clear_right, t.clear),
                }
            )
        return rows


def evaluate(router: Router, utterances: Sequence[Utterance]) -> Report:
    report = Report()
    for item in utterances:
        started = time.perf_counter()
        understood = router.route(item.text)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        tally = report.by_style[item.style]
        ids = [c.service_id for c in understood.candidates]
        if item.names_a_service:
            tally.services += 1
            first = understood.intent in SERVICE_INTENTS and ids[:1] == [item.expected]
            tally.top1 += first
            tally.top3 += understood.intent in SERVICE_INTENTS and item.expected in ids[:3]
            tally.clear += understood.clear
            tally.clear_right += understood.clear and first
            if item.ask != "-":
                tally.asks += 1
                tally.asks_right += understood.ask == item.ask
            if not first:
                report.misses.append((item, f"{understood.intent} {ids[:3]}"))
        elif item.expected == "none":
            tally.outside += 1
            right = understood.intent == "not_understood"
            tally.outside_right += right
            if not right:
                report.misses.append((item, f"{understood.intent} {ids[:1]}"))
        else:
            tally.intents += 1
            right = understood.intent == item.expected.removeprefix("intent:")
            tally.intents_right += right
            if not right:
                report.misses.append((item, f"{understood.intent} {ids[:1]}"))
    report.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report
