"""`sevamitra bench suite`'s report without a benchmark run: the rows from a fixture of figures, the
markdown table, the ratio plot and the command that measures it all again."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sevamitra.cli.bench_drain import svg as drain_svg
from sevamitra.cli.bench_suite import Options, Row, command, fmt, main, markdown, ratio_svg, rows


def load(offered: float, turns_per_second: float, p99_ms: float, *, sustained: bool) -> dict[str, Any]:
    return {"offered": offered, "turns_per_second": turns_per_second, "p99_ms": p99_ms, "sustained": sustained}


def drain_target(workers: int, seconds: float, per_second: float, *, ok: bool = True) -> dict[str, Any]:
    return {
        "name": f"{workers} worker{'s' if workers > 1 else ''}",
        "workers": workers,
        "messages": 100_000,
        "citizens": 10_000,
        "burst": {"acknowledged": 100_000, "per_second": 4_000.0},
        "drained": True,
        "seconds": seconds,
        "startup_seconds": 3.0,
        "inbox_seconds": seconds - 10,
        "per_second": per_second,
        "budget_floor_seconds": 230.0,
        "checks": {"ok": ok},
        "peak_rss_kib": {"serve": 250 * 1024, **{f"worker {n + 1}": 300 * 1024 for n in range(workers)}},
        "samples": [[0.0, 100_000, 0], [seconds / 2, 40_000, 900], [seconds, 0, 0]],
    }


def figures() -> dict[str, Any]:
    """What a run on PostgreSQL at full size writes, cut to the keys the table reads."""
    return {
        "suite": {
            "command": ".venv/bin/sevamitra bench suite --database-url 'postgresql://postgres@db/test' --out out",
            "quick": False,
            "database": "PostgreSQL",
            "finished": "2026-01-02 03:04 UTC",
            "seconds": 1234.5,
            "machine": {"cpus": 2, "cpus_usable": 2, "python": "CPython 3.11.7", "platform": "Linux"},
            "plots": ["ratios.svg", "turns.svg", "drain.svg"],
        },
        "benchmarks": {
            "ingest": {
                "targets": {
                    "platform": {"timed": {"per_second": 12_500.0}},
                    "baseline": {"timed": {"per_second": 25_000.0}},
                },
                "durability": {"acknowledged": 130_000, "stored": 130_000, "ok": True},
            },
            "turns": {
                "systems": [
                    {
                        "name": "platform",
                        "highest_sustained": 750.0,
                        "durability": {"acknowledged": 9_000, "stored": 9_000},
                        "peak_rss_kib": {"web": 259 * 1024},
                        "loads": [load(500, 499.0, 120.0, sustained=True), load(1000, 800.0, 900.0, sustained=False)],
                    },
                    {"name": "platform, 1 worker", "loads": [load(1000, 600.0, 400.0, sustained=False)]},
                    {"name": "platform, 2 workers", "loads": [load(1000, 900.0, 200.0, sustained=True)]},
                    {
                        "name": "baseline",
                        "highest_sustained": 250.0,
                        "peak_rss_kib": {"web": 70 * 1024},
                        "loads": [load(500, 300.0, 3000.0, sustained=False)],
                    },
                ],
                "ratio_platform_baseline": 3.0,
            },
            "drain": {"targets": [drain_target(1, 400.0, 250.0), drain_target(2, 250.0, 400.0)]},
            "certificates": {"full_per_second": 104.0, "naive_per_second": 8.9, "verify_per_second": 6_085.0},
            "log": {
                "end_to_end_per_s": 17_455.0,
                "root_check_passed": 1.0,
                "proof_1000000_cold_p99_ms": 0.5,
                "proof_1000000_warm_p99_ms": 0.62,
                "proof_10000000_cold_p99_ms": 0.76,
                "proof_10000000_warm_p99_ms": 0.66,
            },
            "dashboard": {
                "applications": 1_000_000,
                "figures": {
                    "inbox.tahsildar.p99_ms": 10.1,
                    "inbox.district_admin.p99_ms": 15.6,
                    "inbox.state_admin.p99_ms": 49.4,
                },
            },
            "routing": {
                "router": "lexical + embeddings",
                "texts": 2381,
                "p95_ms": 8.2,
                "top1": 91.0,
                "lexical": {"p95_ms": 2.05},
            },
        },
        "skipped": {},
        "failed": {},
    }


def by_figure(table: list[Row], start: str) -> Row:
    return next(row for row in table if row.figure.startswith(start))


def test_every_figure_sits_next_to_its_comparison_from_the_same_run_with_the_goal_decided() -> None:
    table = rows(figures())
    assert [row.benchmark for row in table] == [
        *["ingest"],
        *["turns"] * 4,
        *["drain"] * 4,
        *["certificates"] * 2,
        *["log"] * 2,
        *["dashboard"],
        *["routing"],
        *["memory"] * 3,
    ]
    ingest = by_figure(table, "webhook deliveries")
    assert (ingest.value, ingest.compared, ingest.ratio, ingest.met) == (12_500.0, 25_000.0, 0.5, True)
    best = by_figure(table, "conversation turns")
    assert (best.value, best.compared, best.met) == (900.0, 300.0, False)  # the best of every platform target
    p99 = by_figure(table, "p99 reply latency at 500")
    assert (p99.value, p99.compared, p99.ratio, p99.met) == (120.0, 3000.0, 25.0, True)  # lower is better
    highest = by_figure(table, "highest load")
    assert (highest.ratio, highest.met) == (3.0, True)
    assert by_figure(table, "turns/s, serve --no-worker").ratio == 1.5
    burst = by_figure(table, "burst of 100,000")
    assert (burst.value, burst.met) == (4_000.0, False)
    one = by_figure(table, "100,000 messages worked off, 1 worker")
    assert (one.value, one.compared, one.met) == (400.0, 230.0, True)
    assert by_figure(table, "messages drained per second, 2").ratio == pytest.approx(1.6)
    certificates = by_figure(table, "certificates issued")
    assert certificates.met is True and certificates.ratio == pytest.approx(104 / 8.9)
    assert by_figure(table, "QR-text").met is True
    assert by_figure(table, "transparency-log appends").met is True
    proof = by_figure(table, "inclusion proof")
    assert "10,000,000" in proof.figure and (proof.value, proof.compared, proof.met) == (0.76, 0.66, True)
    dashboard = by_figure(table, "officers' first page")
    assert "state_admin" in dashboard.figure and (dashboard.value, dashboard.met) == (49.4, True)
    routing = by_figure(table, "assistant routing")
    assert (routing.value, routing.compared, routing.met) == (8.2, 2.05, True)
    memory = by_figure(table, "peak RSS, `sevamitra serve`")
    assert (memory.value, memory.compared) == (259.0, 70.0)
    assert by_figure(table, "peak RSS, one").value == 300.0


def test_what_a_run_did_not_measure_or_measured_below_the_goals_scale_is_not_judged() -> None:
    data = figures()
    benchmarks = data["benchmarks"]
    benchmarks["turns"]["systems"] = [s for s in benchmarks["turns"]["systems"] if s["name"] == "platform"]
    benchmarks["turns"]["systems"][0]["loads"] = [load(100, 99.0, 40.0, sustained=True)]
    benchmarks["turns"]["ratio_platform_baseline"] = None
    benchmarks["dashboard"]["applications"] = 10_000
    benchmarks["drain"]["targets"] = [drain_target(1, 400.0, 250.0, ok=False)]
    del benchmarks["certificates"], benchmarks["log"], benchmarks["routing"]
    table = rows(data)
    assert by_figure(table, "conversation turns").compared is None
    p99 = by_figure(table, "p99 reply latency at 500")
    assert (p99.value, p99.met, p99.note) == (None, None, "500/s not offered in this run")
    assert by_figure(table, "highest load").met is None
    dashboard = by_figure(table, "officers' first page")
    assert dashboard.met is None and "not judged" in dashboard.note
    assert by_figure(table, "100,000 messages worked off").met is False
    assert not any(row.benchmark in ("certificates", "log", "routing") for row in table)
    assert rows({"benchmarks": {}}) == []


def test_the_markdown_has_one_table_row_per_figure_the_plots_and_the_command_that_regenerates_it() -> None:
    data = figures()
    data["skipped"] = {"routing": "--skip"}
    data["failed"] = {"log": "Traceback ...\nBenchFailed: the root did not check"}
    table = rows(data)
    text = markdown(data, table)
    lines = text.splitlines()
    assert "| benchmark | figure | measured | comparison (same run) | ratio | goal | met |" in lines
    body = [line for line in lines if line.startswith("| ") and not line.startswith(("| benchmark", "| ---"))]
    assert len(body) == len(table)
    ingest = "| ingest | webhook deliveries acknowledged durably | 12,500/s | "
    assert ingest + "bare ASGI app answering 200, one process: 25,000/s | 0.50× " in text
    assert data["suite"]["command"] in lines
    assert "Measured 2026-01-02 03:04 UTC" in text
    for plot in ("ratios.svg", "turns.svg", "drain.svg"):
        assert f"]({plot})" in text
    assert "- routing: skipped (--skip)" in text
    assert "- log: **failed**: BenchFailed: the root did not check" in text
    assert "**no**" in by_line(lines, "| turns | conversation turns")


def by_line(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_the_ratio_plot_draws_a_bar_for_each_ratio_right_of_one_when_better() -> None:
    table = rows(figures())
    plot = ET.fromstring(ratio_svg(table))  # noqa: S314 (our own output)
    bars = plot.findall("{http://www.w3.org/2000/svg}rect")
    with_ratio = [row for row in table if row.ratio is not None]
    assert len(bars) == len(with_ratio)
    centre = float(plot.findall("{http://www.w3.org/2000/svg}line")[0].get("x1", "0"))
    for bar, row in zip(bars, with_ratio, strict=True):
        assert row.ratio is not None
        assert (float(bar.get("x", "0")) >= centre) == (row.ratio >= 1)
        assert bar.get("fill") == ("#2ca02c" if row.ratio >= 1 else "#d62728")
    ET.fromstring(ratio_svg([]))  # noqa: S314 (our own output): no ratios, still a picture


def test_the_drain_plot_draws_both_queues_for_each_target() -> None:
    plot = ET.fromstring(drain_svg(figures()["benchmarks"]["drain"]))  # noqa: S314 (our own output)
    lines = plot.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4
    assert sum(1 for line in lines if line.get("stroke-dasharray")) == 2


def test_figures_read_in_their_units() -> None:
    assert fmt(12_500.0, "/s") == "12,500/s"
    assert fmt(8.94, "/s") == "8.9/s"
    assert fmt(0.756, "ms") == "0.76 ms"
    assert fmt(49.44, "ms") == "49.4 ms"
    assert fmt(400.0, "s") == "400 s"
    assert fmt(259.4, "MiB") == "259 MiB"
    assert fmt(900.0, "turns/s") == "900 turns/s"
    assert fmt(None, "ms") == "–"


def test_the_command_says_how_to_measure_it_all_again_without_the_password() -> None:
    options = Options(
        quick=True,
        skip=("dashboard",),
        database_url="postgresql://bench:s3cret@db:5432/test",
        out=Path("out"),
        messages=1000,
    )
    said = command(options)
    assert "s3cret" not in said
    assert said == (
        ".venv/bin/sevamitra bench suite --quick --database-url 'postgresql://bench:***@db:5432/test' "
        "--skip dashboard --messages 1000 --out out"
    )
    assert options.scale.drain_messages == 1000 and options.scale.ingest_seconds < 10


def test_the_report_is_written_again_from_a_results_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(figures()))
    main(["report", str(path)])
    assert (tmp_path / "benchmarks.md").read_text() == capsys.readouterr().out
    ET.fromstring((tmp_path / "ratios.svg").read_text())  # noqa: S314 (our own output)
