"""`sevamitra bench suite`: every benchmark in one run, and one table of its figures next to their comparisons.

In order: ingest, turns, drain, certificates, log, dashboard (PostgreSQL only) and the assistant's
routing latency, each measured by the functions its own command calls (`bench ingest`, `bench
turns`, `bench drain`, `bench certificates`, `bench log`, `bench dashboard`, `nlu eval`). A
benchmark that fails is reported as failed and the rest still run.

Into `out`: `results.json` (every figure of every benchmark, and the table's rows), `benchmarks.md`
(the table: one row per figure, its comparison measured in the same run, the ratio, the goal and
whether it is met), `ratios.svg`, `turns.svg` and `drain.svg`. Nothing in them is a constant: the
rows are computed from the figures (`rows`), the markdown and the plots from the rows and figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sevamitra.cli.bench import machine

NAMES = ("ingest", "turns", "drain", "certificates", "log", "dashboard", "routing")
INGEST_GOAL = 10_000.0  # deliveries acknowledged durably per second
TURNS_GOAL = 1_000.0  # turns per second, every one durable
TURNS_P99_AT = 500.0  # offered messages per second at which ...
TURNS_P99_GOAL_MS = 250.0  # ... p99 stays under this
TURNS_RATIO_GOAL = 2.0  # highest sustained load over the pywa bot's
CERTIFICATES_GOAL = 100.0  # per second, full action
CERTIFICATES_RATIO_GOAL = 5.0  # over the naive pipeline
VERIFY_GOAL = 5_000.0  # QR-text verifications per second
DASHBOARD_GOAL_MS = 300.0  # the first page's p99 ...
DASHBOARD_AT = 1_000_000  # ... with this many applications
ROUTING_GOAL_MS = 10.0  # the assistant's p95 (docs/design/0005-assistant.md)
INGEST_PROCESSES = 2  # `serve --processes`: one per core of this machine
INGEST_CONNECTIONS = 128  # Meta delivers on many connections at once


@dataclass(frozen=True, slots=True)
class Scale:
    """How big each benchmark runs."""

    ingest_seconds: float = 10.0
    ingest_warmup: float = 1.0
    turns_rates: tuple[float, ...] = (100, 250, 500, 1000)
    turns_seconds: float = 10.0
    turns_warmup: float = 1.0
    drain_messages: int = 100_000
    drain_citizens: int = 10_000
    certificates: int = 400
    verifications: int = 20_000
    log_count: int = 100_000
    log_proof_sizes: tuple[int, ...] = (1_000_000, 10_000_000)
    log_proofs: int = 2_000
    dashboard_count: int = DASHBOARD_AT
    dashboard_requests: int = 200
    routing_texts: int | None = None  # None: the whole evaluation set
    routing_embeddings: bool = True  # measure the fused router too, where the extra is installed


FULL = Scale()
QUICK = Scale(
    ingest_seconds=2.0,
    ingest_warmup=0.5,
    turns_rates=(50, 100),
    turns_seconds=2.0,
    turns_warmup=0.5,
    drain_messages=300,
    drain_citizens=30,
    certificates=40,
    verifications=2_000,
    log_count=5_000,
    log_proof_sizes=(10_000,),
    log_proofs=200,
    dashboard_count=10_000,
    dashboard_requests=30,
    routing_texts=300,
    routing_embeddings=False,
)


# ------------------------------------------------------------------ the table, from the figures


@dataclass(frozen=True, slots=True)
class Row:
    benchmark: str
    figure: str  # what was measured
    value: float | None
    unit: str
    comparison: str = ""  # what it is compared with, measured in the same run
    compared: float | None = None
    goal: str = ""
    met: bool | None = None  # None: no goal, or not decided at this scale
    lower_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times better than the comparison (above 1: better)."""
        if self.value is None or self.compared is None or not self.value or not self.compared:
            return None
        return self.compared / self.value if self.lower_is_better else self.value / self.compared


def _get(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None where any step is missing."""
    for key in path:
        found = isinstance(data, dict) and key in data
        if found or (isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data)):
            data = data[key]
        else:
            return None
    return data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


def _below(value: float | None, goal: float) -> bool | None:
    return None if value is None else value < goal


def _all(*verdicts: bool | None) -> bool | None:
    if any(v is False for v in verdicts):
        return False
    return None if any(v is None for v in verdicts) else True


def _ingest_rows(r: dict[str, Any]) -> list[Row]:
    ours = _num(_get(r, "targets", "platform", "timed", "per_second"))
    theirs = _num(_get(r, "targets", "baseline", "timed", "per_second"))
    durable = _get(r, "durability", "ok")
    processes = _get(r, "platform_processes") or 1
    return [
        Row(
            "ingest",
            "webhook deliveries acknowledged durably" + (f", {processes} web processes" if processes > 1 else ""),
            ours,
            "/s",
            "bare ASGI app answering 200, one process",
            theirs,
            f"≥ {INGEST_GOAL:,.0f}/s, every 200 stored",
            _all(_at_least(ours, INGEST_GOAL), durable is not False),
            note="" if durable is not None else "stored rows not counted on this database",
        )
    ]


def _best(system: dict[str, Any] | None) -> float | None:
    loads = _get(system, "loads") or []
    return max((float(load["turns_per_second"]) for load in loads), default=None)


def _load(system: dict[str, Any] | None, offered: float) -> dict[str, Any] | None:
    return next((load for load in _get(system, "loads") or [] if load.get("offered") == offered), None)


def _turns_rows(r: dict[str, Any]) -> list[Row]:
    systems = {s["name"]: s for s in r.get("systems", [])}
    platform, baseline = systems.get("platform"), systems.get("baseline")
    best = max(
        (b for n, s in systems.items() if n.startswith("platform") and (b := _best(s)) is not None), default=None
    )
    durable = _get(platform, "durability") or {}
    stored, acknowledged = durable.get("stored"), durable.get("acknowledged")
    durable_ok = stored is None or acknowledged is None or stored >= acknowledged
    missing = "" if baseline else "baseline not measured (pip install 'sevamitra[bench]')"
    rows = [
        Row(
            "turns",
            "conversation turns answered per second, best load",
            best,
            "turns/s",
            "pywa + FastAPI bot, best load",
            _best(baseline),
            f"≥ {TURNS_GOAL:,.0f}/s, every turn durable",
            _all(_at_least(best, TURNS_GOAL), durable_ok),
            note=missing,
        )
    ]
    ours, theirs = _load(platform, TURNS_P99_AT), _load(baseline, TURNS_P99_AT)
    rows.append(
        Row(
            "turns",
            f"p99 reply latency at {TURNS_P99_AT:g} messages/s",
            _num(_get(ours, "p99_ms")),
            "ms",
            f"pywa bot at {TURNS_P99_AT:g}/s",
            _num(_get(theirs, "p99_ms")),
            f"< {TURNS_P99_GOAL_MS:g} ms, sustained",
            None if ours is None else bool(ours.get("sustained")),
            lower_is_better=True,
            note="" if ours else f"{TURNS_P99_AT:g}/s not offered in this run",
        )
    )
    ratio = _num(r.get("ratio_platform_baseline"))
    rows.append(
        Row(
            "turns",
            "highest load sustained",
            _num(_get(platform, "highest_sustained")),
            "messages/s",
            "pywa bot's highest sustained",
            _num(_get(baseline, "highest_sustained")),
            f"≥ {TURNS_RATIO_GOAL:g}× the pywa bot",
            _at_least(ratio, TURNS_RATIO_GOAL),
            note=missing,
        )
    )
    one, two = systems.get("platform, 1 worker"), systems.get("platform, 2 workers")
    if one and two:
        rows.append(
            Row(
                "turns",
                "turns/s, serve --no-worker + 2 worker processes",
                _num(_get(two, "loads", 0, "turns_per_second")),
                "turns/s",
                "the same with 1 worker process",
                _num(_get(one, "loads", 0, "turns_per_second")),
            )
        )
    return rows


def _drain_rows(r: dict[str, Any]) -> list[Row]:
    targets = r.get("targets", [])
    rows: list[Row] = []
    first = targets[0] if targets else None
    if first is not None:
        burst = _num(_get(first, "burst", "per_second"))
        rows.append(
            Row(
                "drain",
                f"burst of {first['messages']:,} messages acknowledged per second",
                burst,
                "/s",
                goal=f"≥ {INGEST_GOAL:,.0f}/s (ingest's)",
                met=_at_least(burst, INGEST_GOAL),
            )
        )
    for t in targets:
        ok = bool(t.get("drained")) and bool(_get(t, "checks", "ok"))
        rows.append(
            Row(
                "drain",
                f"{t['messages']:,} messages worked off, {t['name']}",
                _num(t.get("seconds")),
                "s",
                "least time the sends take at the send budget",
                _num(t.get("budget_floor_seconds")),
                "every message answered once, in order",
                ok,
                lower_is_better=True,
                note=f"{_num(t.get('per_second')) or 0:,.0f} messages/s",
            )
        )
    one = next((t for t in targets if t.get("workers") == 1), None)
    two = next((t for t in targets if t.get("workers") == 2), None)
    if one and two:
        rows.append(
            Row(
                "drain",
                "messages drained per second, 2 worker processes",
                _num(two.get("per_second")),
                "messages/s",
                "1 worker process",
                _num(one.get("per_second")),
            )
        )
    return rows


def _certificate_rows(r: dict[str, Any]) -> list[Row]:
    full, naive, verify = (
        _num(r.get("full_per_second")),
        _num(r.get("naive_per_second")),
        _num(r.get("verify_per_second")),
    )
    ratio = full / naive if full is not None and naive else None
    return [
        Row(
            "certificates",
            "certificates issued per second, full action",
            full,
            "/s",
            "naive fpdf2 + segno pipeline (nothing signed or stored)",
            naive,
            f"≥ {CERTIFICATES_GOAL:g}/s and ≥ {CERTIFICATES_RATIO_GOAL:g}× naive",
            _all(_at_least(full, CERTIFICATES_GOAL), _at_least(ratio, CERTIFICATES_RATIO_GOAL)),
        ),
        Row(
            "certificates",
            "QR-text verifications per second, one process",
            verify,
            "/s",
            goal=f"≥ {VERIFY_GOAL:,.0f}/s",
            met=_at_least(verify, VERIFY_GOAL),
        ),
    ]


def _log_rows(r: dict[str, Any]) -> list[Row]:
    from sevamitra.cli.bench_log import APPEND_TARGET, PROOF_TARGET_MS

    appends = _num(r.get("end_to_end_per_s"))
    root_ok = r.get("root_check_passed")
    rows = [
        Row(
            "log",
            "transparency-log appends per second, end to end",
            appends,
            "entries/s",
            goal=f"≥ {APPEND_TARGET:,.0f}/s, roots check",
            met=_all(_at_least(appends, APPEND_TARGET), root_ok is None or bool(root_ok)),
        )
    ]
    sizes = sorted(int(m.group(1)) for key in r if (m := re.fullmatch(r"proof_(\d+)_cold_p99_ms", key)))
    if sizes:
        size = sizes[-1]
        cold = _num(r.get(f"proof_{size}_cold_p99_ms"))
        rows.append(
            Row(
                "log",
                f"inclusion proof p99 at {size:,} entries, cold reader",
                cold,
                "ms",
                "warm server (shared tile cache)",
                _num(r.get(f"proof_{size}_warm_p99_ms")),
                f"< {PROOF_TARGET_MS:g} ms",
                _below(cold, PROOF_TARGET_MS),
                lower_is_better=True,
            )
        )
    return rows


def _dashboard_rows(r: dict[str, Any]) -> list[Row]:
    count = int(r.get("applications") or 0)
    figures = r.get("figures") or {}
    p99s = {m.group(1): float(v) for k, v in figures.items() if (m := re.fullmatch(r"inbox\.(\w+)\.p99_ms", k))}
    if not p99s:
        return [Row("dashboard", "officers' first page p99", None, "ms", note="not measured")]
    who, worst = max(p99s.items(), key=lambda item: item[1])
    judged = count >= DASHBOARD_AT
    return [
        Row(
            "dashboard",
            f"officers' first page p99, the slowest officer ({who}), {count:,} applications",
            worst,
            "ms",
            goal=f"< {DASHBOARD_GOAL_MS:g} ms at {DASHBOARD_AT:,} applications",
            met=_below(worst, DASHBOARD_GOAL_MS) if judged else None,
            lower_is_better=True,
            note="" if judged else f"not judged: {count:,} applications, not {DASHBOARD_AT:,}",
        )
    ]


def _routing_rows(r: dict[str, Any]) -> list[Row]:
    p95 = _num(r.get("p95_ms"))
    lexical = r.get("lexical")
    return [
        Row(
            "routing",
            f"assistant routing p95, {r.get('router', '?')}, {r.get('texts', 0):,} texts",
            p95,
            "ms",
            "the lexical router alone" if lexical else "",
            _num(_get(lexical, "p95_ms")),
            f"< {ROUTING_GOAL_MS:g} ms",
            _below(p95, ROUTING_GOAL_MS),
            lower_is_better=True,
            note=f"top-1 {r['top1']}%" if r.get("top1") is not None else "",
        )
    ]


def _mib(kib: Any) -> float | None:
    value = _num(kib)
    return None if value is None else value / 1024


def _memory_rows(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    systems = {s["name"]: s for s in _get(results, "turns", "systems") or []}
    if "platform" in systems:
        rows.append(
            Row(
                "memory",
                "peak RSS, `sevamitra serve` with its worker, through bench turns",
                _mib(_get(systems["platform"], "peak_rss_kib", "web")),
                "MiB",
                "the pywa bot's process",
                _mib(_get(systems.get("baseline"), "peak_rss_kib", "web")),
                lower_is_better=True,
            )
        )
    drain = _get(results, "drain", "targets", 0)
    if drain:
        rows.append(
            Row(
                "memory",
                f"peak RSS, `serve --no-worker` taking the burst of {drain['messages']:,}",
                _mib(_get(drain, "peak_rss_kib", "serve")),
                "MiB",
                lower_is_better=True,
            )
        )
        rows.append(
            Row(
                "memory",
                "peak RSS, one `sevamitra worker` working it off",
                _mib(_get(drain, "peak_rss_kib", "worker 1")),
                "MiB",
                lower_is_better=True,
            )
        )
    return rows


_ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "ingest": _ingest_rows,
    "turns": _turns_rows,
    "drain": _drain_rows,
    "certificates": _certificate_rows,
    "log": _log_rows,
    "dashboard": _dashboard_rows,
    "routing": _routing_rows,
}


def rows(results: dict[str, Any]) -> list[Row]:
    """The table's rows from the benchmarks' figures (`results["benchmarks"][name]`), in the suite's order."""
    benchmarks = results.get("benchmarks", {})
    found = [row for name in NAMES if isinstance(benchmarks.get(name), dict) for row in _ROWS[name](benchmarks[name])]
    return found + _memory_rows(benchmarks)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.1f} s" if value < 100 else f"{value:,.0f} s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit.startswith("/"):
        return f"{value:,.0f}{unit}" if value >= 100 else f"{value:,.1f}{unit}"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def _verdict(met: bool | None, goal: str) -> str:
    if not goal:
        return ""
    return {True: "yes", False: "**no**", None: "–"}[met]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(results: dict[str, Any], table: Sequence[Row]) -> str:
    """The suite's report: the table, the plots, and how to measure it again."""
    suite = results.get("suite", {})
    where = suite.get("machine", {})
    lines = [
        "# Benchmark suite",
        "",
        f"Measured {suite.get('finished', '?')} in {suite.get('seconds', 0):,.0f} s"
        f"{' (--quick: every benchmark scaled down, a smoke run)' if suite.get('quick') else ''}, on "
        f"{where.get('cpus', '?')} CPUs ({where.get('cpus_usable', '?')} usable), {where.get('python', '?')}, "
        f"{where.get('platform', '?')}; database: {suite.get('database', '?')}. Every figure was measured in this "
        "run, each next to its comparison from the same run.",
        "",
        "Regenerate everything:",
        "",
        "```sh",
        suite.get("command", ""),
        "```",
        "",
        "| benchmark | figure | measured | comparison (same run) | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in table:
        comparison = f"{row.comparison}: {fmt(row.compared, row.unit)}" if row.comparison else ""
        ratio = "" if row.ratio is None else _times(row.ratio)
        measured = fmt(row.value, row.unit) + (f" ({row.note})" if row.note else "")
        cells = (row.benchmark, row.figure, measured, comparison, ratio, row.goal, _verdict(row.met, row.goal))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += [
        "",
        "Ratio: how many times better the figure is than its comparison, above 1 better (for times and memory",
        "lower is better, so it is the comparison over the figure). Met: – where a figure has a goal but this",
        "run did not decide it (not measured, or measured below the goal's scale).",
        "",
    ]
    plots = suite.get("plots", [])
    captions = {
        "ratios.svg": "Each figure over its comparison",
        "turns.svg": "bench turns: turns per second and p99 reply latency against the offered load",
        "drain.svg": "bench drain: messages waiting in the inbox and the outbox while the workers drain the burst",
    }
    for plot in plots:
        lines += [f"![{captions.get(plot, plot)}]({plot})", ""]
    for name, why in (results.get("skipped") or {}).items():
        lines.append(f"- {name}: skipped ({why})")
    for name, why in (results.get("failed") or {}).items():
        lines.append(f"- {name}: **failed**: {why.strip().splitlines()[-1] if why.strip() else '?'}")
    return "\n".join(lines).rstrip() + "\n"


def ratio_svg(table: Sequence[Row]) -> str:
    """A bar per row with a ratio, on a log scale around 1 (right: better than the comparison)."""
    bars = [(f"{row.benchmark}: {row.figure}", row.ratio) for row in table if row.ratio is not None]
    span = max([2.0, *(abs(math.log10(r)) for _, r in bars if r is not None and r > 0)])
    span = math.ceil(span * 2) / 2
    left, width, bar_h, gap = 360, 360, 16, 8
    height = 40 + len(bars) * (bar_h + gap)
    centre = left + width / 2

    def x(ratio: float) -> float:
        return centre + (width / 2) * max(-span, min(span, math.log10(ratio))) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height + 20}" font-size="11">',
        '<text x="8" y="16" font-weight="bold">figure / comparison, log scale (right of 1: better)</text>',
        f'<line x1="{centre}" y1="26" x2="{centre}" y2="{height}" stroke="black"/>',
        f'<text x="{centre}" y="{height + 14}" text-anchor="middle">1×</text>',
        f'<text x="{left}" y="{height + 14}" text-anchor="start">{10**-span:.2g}×</text>',
        f'<text x="{left + width}" y="{height + 14}" text-anchor="end">{10**span:.3g}×</text>',
    ]
    for n, (label, ratio) in enumerate(bars):
        assert ratio is not None
        y = 30 + n * (bar_h + gap)
        end = x(ratio)
        colour = "#2ca02c" if ratio >= 1 else "#d62728"
        shown = label if len(label) <= 58 else label[:57] + "…"
        parts += [
            f'<text x="{left - 6}" y="{y + bar_h - 4}" text-anchor="end">{_escape(shown)}</text>',
            f'<rect x="{min(centre, end):.1f}" y="{y}" width="{abs(end - centre):.1f}" height="{bar_h}" '
            f'fill="{colour}"/>',
            f'<text x="{max(centre, end) + 4:.1f}" y="{y + bar_h - 4}">{_times(ratio)}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _times(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------ measuring


@dataclass(frozen=True, slots=True)
class Options:
    quick: bool = False
    skip: tuple[str, ...] = ()
    database_url: str | None = None
    out: Path = Path("benchmarks/results")
    json_path: Path | None = None
    messages: int | None = None
    citizens: int | None = None

    @property
    def scale(self) -> Scale:
        scale = QUICK if self.quick else FULL
        if self.messages:
            scale = replace(scale, drain_messages=self.messages)
        if self.citizens:
            scale = replace(scale, drain_citizens=self.citizens)
        return scale

    @property
    def postgres(self) -> bool:
        return bool(self.database_url and self.database_url.startswith("postgres"))


def command(options: Options) -> str:
    """The command line that measures it all again (a database URL's password hidden)."""
    words = [".venv/bin/sevamitra", "bench", "suite"]
    if options.quick:
        words.append("--quick")
    if options.database_url:
        words += ["--database-url", _hidden(options.database_url)]
    if options.skip:
        words += ["--skip", ",".join(options.skip)]
    if options.messages:
        words += ["--messages", str(options.messages)]
    if options.citizens:
        words += ["--citizens", str(options.citizens)]
    words += ["--out", str(options.out)]
    if options.json_path is not None:
        words += ["--json", str(options.json_path)]
    return shlex.join(words)


def _hidden(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _database_kind(options: Options) -> str:
    if options.postgres:
        return "PostgreSQL (a fresh schema per target where the benchmark makes one)"
    return "SQLite (fresh files)" if options.database_url is None else options.database_url.partition("://")[0]


def _ingest(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    from sevamitra.cli.bench import as_json, measure_ingest, render

    scale = options.scale
    figures = measure_ingest(
        seconds=scale.ingest_seconds,
        concurrency=INGEST_CONNECTIONS,
        database_url=options.database_url,
        warmup=scale.ingest_warmup,
        processes=INGEST_PROCESSES,
    )
    print(render(figures))
    return as_json(figures)


def _turns(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    from sevamitra.cli.bench_turns import measure_turns
    from sevamitra.cli.bench_turns_report import as_json, render, svg

    scale = options.scale
    suite = measure_turns(
        rates=sorted(scale.turns_rates),
        seconds=scale.turns_seconds,
        warmup=scale.turns_warmup,
        citizens=None,
        database_url=options.database_url,
    )
    print(render(suite))
    (out / "turns.svg").write_text(svg(suite))
    plots.append("turns.svg")
    return as_json(suite)


def _drain(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    from sevamitra.cli.bench_drain import as_json, measure_drain, render, svg

    scale = options.scale
    run = measure_drain(messages=scale.drain_messages, citizens=scale.drain_citizens, database_url=options.database_url)
    print(render(run))
    figures = as_json(run)
    (out / "drain.svg").write_text(svg(figures))
    plots.append("drain.svg")
    return figures


def _certificates(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    from sevamitra.cli.bench_certificates import SERVICE, measure_full, measure_naive, measure_verify

    scale = options.scale
    processes = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="sevamitra-bench-suite-") as workdir:
        full, latencies = measure_full(Path(workdir), options.database_url, scale.certificates, processes)
    naive = measure_naive(max(20, scale.certificates // 10))
    verify = measure_verify(scale.verifications)
    ordered = sorted(latencies)
    figures = {
        "service": SERVICE,
        "count": scale.certificates,
        "processes": processes,
        "full_per_second": full,
        "naive_per_second": naive,
        "verify_per_second": verify,
        "p50_ms": 1000 * ordered[len(ordered) // 2] if ordered else None,
        "p99_ms": 1000 * ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else None,
    }
    print(
        f"certificates: {full:.1f}/s full action ({processes} processes), naive {naive:.1f} PDFs/s, "
        f"{verify:,.0f} verifications/s"
    )
    return figures


def _log(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    from sevamitra.cli.bench_log import log

    scale = options.scale
    return dict(
        log(
            scale.log_count,
            proof_sizes=scale.log_proof_sizes,
            proofs=scale.log_proofs,
            database_url=options.database_url,
        )
    )


def _dashboard(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    from sevamitra.cli.bench_dashboard import dashboard

    scale = options.scale
    assert options.database_url is not None
    figures = dashboard(scale.dashboard_count, database_url=options.database_url, requests=scale.dashboard_requests)
    return {"applications": scale.dashboard_count, "requests": scale.dashboard_requests, "figures": figures}


def _routing(options: Options, out: Path, plots: list[str]) -> dict[str, Any]:
    """`sevamitra nlu eval`'s measurement: the platform's router, and the lexical router alone beside it."""
    from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
    from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings, available
    from sevamitra.adapters.nlu.evaluation import evaluate, read_set
    from sevamitra.adapters.nlu.router import Assistant
    from sevamitra.cli.nlu import DEFAULT_SET
    from sevamitra.settings import Settings

    scale = options.scale
    settings = Settings()
    catalogue = load_catalogue(settings.catalogue_root, cache_dir=settings.cache_dir)
    lexicon = load_lexicon(settings.catalogue_root)
    utterances = read_set(sorted(DEFAULT_SET.glob("*.tsv")))
    if scale.routing_texts is not None:
        utterances = utterances[: scale.routing_texts]

    def measured(assistant: Assistant) -> dict[str, Any]:
        report = evaluate(assistant, utterances)
        ordered = sorted(report.latencies_ms)
        services = sum(t.services for t in report.by_style.values())
        top1 = sum(t.top1 for t in report.by_style.values())
        return {
            "texts": len(ordered),
            "p50_ms": ordered[len(ordered) // 2] if ordered else None,
            "p95_ms": report.p95_ms(),
            "top1": round(100 * top1 / services, 1) if services else None,
        }

    lexical = measured(Assistant(catalogue, lexicon))
    if scale.routing_embeddings and available():
        fused = measured(
            Assistant(catalogue, lexicon, embeddings=ServiceEmbeddings(catalogue, cache_dir=settings.cache_dir))
        )
        result = {"router": "lexical + embeddings", **fused, "lexical": lexical}
    else:
        result = {"router": "lexical", **lexical}
    print(f"routing: p95 {result['p95_ms']} ms ({result['router']}) over {result['texts']} texts")
    return result


_MEASURE: dict[str, Callable[[Options, Path, list[str]], dict[str, Any]]] = {
    "ingest": _ingest,
    "turns": _turns,
    "drain": _drain,
    "certificates": _certificates,
    "log": _log,
    "dashboard": _dashboard,
    "routing": _routing,
}


def suite(options: Options) -> dict[str, Any]:
    """Measure every benchmark not skipped, in order; write the figures, the table and the plots into `out`."""
    unknown = [name for name in options.skip if name not in NAMES]
    if unknown:
        raise SystemExit(f"sevamitra bench suite: unknown benchmarks {', '.join(unknown)}; known: {', '.join(NAMES)}")
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    json_path = options.json_path or out / "results.json"
    began = time.perf_counter()
    benchmarks: dict[str, Any] = {}
    skipped: dict[str, str] = dict.fromkeys(options.skip, "--skip")
    failed: dict[str, str] = {}
    plots: list[str] = []
    for name in NAMES:
        if name in skipped:
            continue
        if name == "dashboard" and not options.postgres:
            skipped[name] = "needs PostgreSQL: give --database-url postgresql://..."
            continue
        print(f"\n=== bench {name} ===", flush=True)
        started = time.perf_counter()
        try:
            benchmarks[name] = _MEASURE[name](options, out, plots)
        except (Exception, SystemExit) as error:  # one benchmark failing must not lose the others' figures
            failed[name] = "".join(traceback.format_exception_only(error)).strip() or type(error).__name__
            print(f"bench {name} FAILED: {failed[name]}", file=sys.stderr)
        else:
            benchmarks[name]["suite_seconds"] = round(time.perf_counter() - started, 1)
            if benchmarks[name].get("ok") is False:
                failed[name] = "its checks failed: see its figures and the table"
    results: dict[str, Any] = {
        "suite": {
            "command": command(options),
            "quick": options.quick,
            "scale": asdict(options.scale),
            "database": _database_kind(options),
            "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": round(time.perf_counter() - began, 1),
            "machine": machine(),
            "plots": ["ratios.svg", *plots],
        },
        "benchmarks": benchmarks,
        "skipped": skipped,
        "failed": failed,
    }
    table = rows(results)
    results["rows"] = [{**asdict(row), "ratio": row.ratio} for row in table]
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out / "ratios.svg").write_text(ratio_svg(table))
    (out / "benchmarks.md").write_text(markdown(results, table))
    print("\n" + markdown(results, table))
    print(f"figures in {json_path}; table in {out / 'benchmarks.md'}; plots in {out}")
    print(f"regenerate everything with: {results['suite']['command']}")
    return results


def run_from_args(args: argparse.Namespace) -> None:
    """`sevamitra bench suite`, from the options of `sevamitra bench`; exits 1 when a benchmark failed."""
    options = Options(
        quick=args.quick,
        skip=tuple(name.strip() for name in (args.skip or "").split(",") if name.strip()),
        database_url=args.database_url,
        out=Path(args.out or "benchmarks/results"),
        json_path=Path(args.json_path) if args.json_path else None,
        messages=args.messages,
        citizens=args.citizens,
    )
    results = suite(options)
    if results["failed"]:
        raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m sevamitra.cli.bench_suite report results.json --out DIR`: the table and ratio plot again."""
    parser = argparse.ArgumentParser(prog="python -m sevamitra.cli.bench_suite")
    parser.add_argument("what", choices=["report"])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    out = args.out or args.results.parent
    table = rows(results)
    (out / "ratios.svg").write_text(ratio_svg(table))
    text = markdown(results, table)
    (out / "benchmarks.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
