"""`sevamitra bench log` runs end to end on a small log and reports figures it measured (not a timing test)."""

from __future__ import annotations

import pytest

from sevamitra.cli.bench_log import Frontier, log
from sevamitra.core.merkle import leaf_hash, root


def test_a_small_run_prints_positive_figures_and_passes_its_root_checks() -> None:
    lines: list[str] = []

    figures = log(count=2_000, proof_sizes=(5_000,), proofs=50, echo=lines.append)

    text = "\n".join(lines)
    assert figures["root_check_passed"] == 1.0
    for name in (
        "sequenced_per_s",
        "integrated_per_s",
        "end_to_end_per_s",
        "proof_5000_build_s",
        "proof_5000_cold_p50_ms",
        "proof_5000_cold_p99_ms",
        "proof_5000_cold_max_ms",
        "proof_5000_warm_p50_ms",
        "proof_5000_warm_p99_ms",
        "proof_5000_warm_max_ms",
        "tile_bytes_per_entry",
        "bundle_bytes_per_entry",
        "hash_tile_bytes_per_entry",
        "database_bytes_per_entry",
    ):
        assert figures[name] > 0, name
    assert figures["proof_5000_cold_p50_ms"] <= figures["proof_5000_cold_p99_ms"] <= figures["proof_5000_cold_max_ms"]
    assert figures["hash_tile_bytes_per_entry"] >= 32  # one leaf hash an entry, at least
    assert "FAIL:" not in text  # a failed check prints "FAIL: why"; a goal missed only "(goal: ...: FAIL)"
    assert "root from the tiles = root from the leaves: OK" in text
    assert f"{figures['end_to_end_per_s']:,.0f} entries/s" in text
    assert "entries/s" in text and "bytes/entry" in text and " ms" in text
    assert "CPUs" in text and "CPython" in text and "sqlite" in text


@pytest.mark.parametrize("size", [*range(40), 255, 256, 257, 1000])
def test_the_streaming_root_equals_the_merkle_root(size: int) -> None:
    leaves = [leaf_hash(n.to_bytes(4, "big")) for n in range(size)]
    frontier = Frontier()
    for leaf in leaves:
        frontier.add(leaf)

    assert frontier.root() == root(leaves)


def test_nonsense_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        log(count=0, echo=lambda _: None)
