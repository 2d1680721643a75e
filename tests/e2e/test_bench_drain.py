"""`sevamitra bench drain` at a tiny size: the burst acknowledged, worked off by `sevamitra worker`, and every
message answered once, in order; and the stub-side checks that decide it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sevamitra.cli.bench_drain import REPLY, Burst, check, startup
from sevamitra.cli.main import main
from tests.conftest import POSTGRES_URL

MESSAGES, CITIZENS = 100, 20


def drain(tmp_path: Path, *options: str) -> dict[str, Any]:
    path = tmp_path / "drain.json"
    main(["bench", "drain", "--messages", str(MESSAGES), "--citizens", str(CITIZENS), "--json", str(path), *options])
    figures: dict[str, Any] = json.loads(path.read_text())
    ET.fromstring(path.with_suffix(".svg").read_text())  # noqa: S314 (our own output): the plot is well-formed
    return figures


def assert_drained(target: dict[str, Any], workers: int) -> None:
    assert target["workers"] == workers
    assert target["burst"]["acknowledged"] == MESSAGES
    assert target["burst"]["errors"] == 0
    assert target["drained"]
    checks = {"unanswered": 0, "answered_twice": 0, "out_of_order": 0, "without_reply": 0, "stray": 0, "ok": True}
    assert target["checks"] == checks
    assert target["receipts"] == MESSAGES  # one read receipt per message: none answered twice
    assert target["replies"] >= MESSAGES
    assert target["samples"][0][1] == MESSAGES  # the whole burst waited when the workers started
    assert target["samples"][-1][1:] == [0, 0]
    assert 0 < target["startup_seconds"] <= target["inbox_seconds"] <= target["seconds"]
    assert len(target["peak_rss_kib"]) == 1 + workers
    assert all(kib and kib > 10_000 for kib in target["peak_rss_kib"].values())


def test_a_burst_on_sqlite_is_worked_off_by_one_worker_each_message_answered_once_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = drain(tmp_path)
    [target] = figures["targets"]
    assert_drained(target, workers=1)
    assert figures["ok"]
    printed = capsys.readouterr().out
    assert "1 worker" in printed and "0 answered twice" in printed and "FAIL" not in printed


@pytest.mark.skipif(not POSTGRES_URL, reason="SEVAMITRA_TEST_POSTGRES_URL is not set")
def test_a_burst_on_postgresql_is_worked_off_by_two_workers_each_message_answered_once_in_order(
    tmp_path: Path,
) -> None:
    assert POSTGRES_URL is not None
    figures = drain(tmp_path, "--database-url", POSTGRES_URL, "--workers", "2")
    [target] = figures["targets"]
    assert_drained(target, workers=2)


# ------------------------------------------------------------------ the parts, without processes


def test_each_citizen_sends_in_order_on_one_connection_and_the_burst_splits_evenly() -> None:
    burst = Burst(messages=23, citizens=5)
    assert burst.counts == [5, 5, 5, 4, 4]
    lanes = burst.lanes(2)
    assert sorted(pair for lane in lanes for pair in lane) == [(c, j) for c in range(5) for j in range(burst.counts[c])]
    for lane in lanes:
        for citizen in {c for c, _ in lane}:
            assert [j for c, j in lane if c == citizen] == list(range(burst.counts[citizen]))
        assert all(c % len(lanes) == lanes.index(lane) for c, _ in lane)


def test_the_checks_find_messages_unanswered_answered_twice_out_of_order_or_without_a_reply() -> None:
    acked = [[0, 1, 2], [0, 1]]
    good = [[0, REPLY, REPLY, 1, REPLY, 2, REPLY], [0, REPLY, 1, REPLY]]
    assert check(acked, good).ok
    assert check(acked, [[0, REPLY, 1, REPLY], good[1]]).unanswered == 1
    twice = check(acked, [[0, REPLY, 1, REPLY, 1, REPLY, 2, REPLY], good[1]])
    assert twice.answered_twice == 1 and not twice.ok
    assert check(acked, [[1, REPLY, 0, REPLY, 2, REPLY], good[1]]).out_of_order == 1
    assert check(acked, [good[0], [REPLY, 0, REPLY, 1]]).out_of_order == 1  # a reply before any receipt
    assert check(acked, [[0, 1, REPLY, 2, REPLY], good[1]]).without_reply == 1
    assert check(acked, [good[0], [0, REPLY, 1]]).without_reply == 1
    assert not check(acked, good, stray=1).ok


def test_start_up_ends_at_the_first_poll_that_finds_a_message_worked_off() -> None:
    assert startup([(0.0, 10, 0), (0.2, 10, 0), (0.4, 8, 3), (0.6, 0, 0)]) == 0.4
    assert startup([(0.0, 10, 0), (0.2, 10, 2)]) == 0.2
    assert startup([(0.0, 10, 0)]) is None
    assert startup([]) is None
