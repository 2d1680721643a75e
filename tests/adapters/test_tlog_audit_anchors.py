"""The auditor checks the log's anchors (`B/log/anchors`) against the checkpoints it computes from the tiles."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from sevamitra.adapters.tlog.audit import Anchor, audit, monitor
from sevamitra.cli.log_audit import add_log_audit_commands, run_log_audit_command
from sevamitra.core.checkpoints import Checkpoint
from sevamitra.core.merkle import MemoryTree, leaf_hash
from tests.adapters.test_tlog_audit import (
    BASE_URL,
    LOG,
    ORIGIN,
    WITNESS,
    ServedLog,
    issuance,
    issuances,
    problems_with,
    run_audit,
    saved_size,
)

CHAIN = "Polygon PoS"
CHAIN_ID = 137
ACCOUNT = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
ANCHORS_URL = "https://log.example/log/anchors"


def checkpoint_sha256(entries: Sequence[bytes]) -> str:
    """SHA-256 of the checkpoint body of `entries`, as the worker anchors it."""
    root = MemoryTree(leaf_hash(entry) for entry in entries).root()
    return hashlib.sha256(Checkpoint(origin=ORIGIN, size=len(entries), root=root).body()).hexdigest()


def transaction(block: int) -> str:
    return "0x" + hashlib.sha256(b"transaction in block %d" % block).hexdigest()


def block_hash(block: int) -> str:
    return "0x" + hashlib.sha256(b"block %d" % block).hexdigest()


def anchor(size: int, digest: str, block: int, *, state: str = "confirmed") -> dict[str, Any]:
    return {
        "size": size,
        "checkpoint_sha256": digest,
        "state": state,
        "transaction": transaction(block),
        "block": block,
        "block_hash": block_hash(block),
        "anchored_at": "2026-11-30T10:00:00+00:00",
    }


def serve_anchors(served: ServedLog, anchors: list[dict[str, Any]]) -> None:
    document = {"chain": CHAIN, "chain_id": CHAIN_ID, "account": ACCOUNT, "anchors": anchors}
    served.write("anchors", json.dumps(document).encode())


def anchored(entries: Sequence[bytes], sizes_and_blocks: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    return [anchor(size, checkpoint_sha256(entries[:size]), block) for size, block in sizes_and_blocks]


@pytest.fixture
def served(tmp_path: Path) -> ServedLog:
    return ServedLog(tmp_path / "site")


# Anchors that match, and anchors ahead of the checkpoint


async def test_anchors_of_the_checkpoints_the_tiles_give_match(served: ServedLog) -> None:
    entries = issuances(600)
    served.publish(entries)
    serve_anchors(served, anchored(entries, [(0, 90), (100, 100), (256, 130), (300, 131), (600, 170)]))
    report = await run_audit(served)
    assert report.problems == []
    assert (report.chain, report.chain_id, report.chain_account) == (CHAIN, CHAIN_ID, ACCOUNT)
    assert (report.anchors_matched, report.anchors_ahead) == (5, 0)
    assert report.anchors[1] == Anchor(
        size=100,
        checkpoint_sha256=bytes.fromhex(checkpoint_sha256(entries[:100])),
        state="confirmed",
        transaction=transaction(100),
        block=100,
        block_hash=block_hash(100),
    )
    assert "/log/anchors" in served.requested


async def test_an_anchor_of_a_larger_tree_than_the_checkpoint_is_counted_ahead(served: ServedLog) -> None:
    entries = issuances(700)
    served.publish(entries[:600])
    serve_anchors(served, anchored(entries, [(300, 10), (700, 20)]))
    report = await run_audit(served)
    assert report.ok
    assert (report.anchors_matched, report.anchors_ahead, len(report.anchors)) == (1, 1, 2)


async def test_included_anchors_are_checked_like_confirmed_ones(served: ServedLog) -> None:
    entries = issuances(50)
    served.publish(entries)
    serve_anchors(served, [anchor(50, checkpoint_sha256(entries), 7, state="included")])
    report = await run_audit(served)
    assert report.ok and report.anchors_matched == 1 and report.anchors[0].state == "included"


# Anchors that contradict the log


async def test_an_anchored_hash_of_another_root_is_a_problem(served: ServedLog) -> None:
    entries = issuances(600)
    served.publish(entries)
    rewritten = [*entries[:5], issuance(5, variant=b" rewritten"), *entries[6:300]]
    other = checkpoint_sha256(rewritten)
    serve_anchors(served, [*anchored(entries, [(100, 40)]), anchor(300, other, 50)])
    report = await run_audit(served)
    assert report.problems == [
        f"the anchor of size 300 in block 50 (transaction {transaction(50)}) publishes checkpoint hash {other}, "
        f"but the checkpoint of 300 entries computed from the tiles hashes to {checkpoint_sha256(entries[:300])}"
    ]
    assert (report.anchors_matched, report.anchors_ahead) == (1, 0)


async def test_an_anchor_whose_root_cannot_be_recomputed_is_a_problem(served: ServedLog) -> None:
    entries = issuances(600)
    served.publish(entries)
    served.path("tile/0/001").unlink()
    serve_anchors(served, anchored(entries, [(100, 40), (300, 50)]))
    report = await run_audit(served)
    assert problems_with(report, "the anchor of size 300 in block 50")
    assert problems_with(report, "cannot be checked: the root of 300 entries cannot be recomputed")
    assert report.anchors_matched == 1


async def test_a_larger_tree_anchored_in_an_earlier_block_is_out_of_order(served: ServedLog) -> None:
    entries = issuances(300)
    served.publish(entries)
    serve_anchors(served, anchored(entries, [(100, 60), (200, 50), (300, 70)]))
    report = await run_audit(served)
    assert report.problems == [
        "anchors out of order: size 200 is anchored in block 50, before the smaller size 100 in block 60"
    ]
    assert report.anchors_matched == 3


async def test_one_size_anchored_twice_is_out_of_order(served: ServedLog) -> None:
    entries = issuances(300)
    served.publish(entries)
    serve_anchors(served, anchored(entries, [(100, 60), (100, 61)]))
    report = await run_audit(served)
    assert report.problems == ["anchors out of order: size 100 is anchored twice, in blocks 60 and 61"]


# A log without anchors, and anchors the auditor cannot use


async def test_a_log_that_serves_no_anchors_audits_ok(served: ServedLog) -> None:
    served.publish(issuances(300))
    report = await run_audit(served)
    assert report.ok and "/log/anchors" in served.requested
    assert (report.anchors, report.chain, report.chain_id, report.chain_account) == ([], None, None, None)


async def test_a_log_that_never_anchored_audits_ok(served: ServedLog) -> None:
    served.publish(issuances(300))
    served.write("anchors", json.dumps({"chain": None, "chain_id": None, "account": None, "anchors": []}).encode())
    report = await run_audit(served)
    assert report.ok and report.anchors == []


def good_anchor() -> dict[str, Any]:
    return anchor(10, checkpoint_sha256(issuances(10)), 5)


def with_anchor(**changes: Any) -> bytes:
    item = {key: value for key, value in {**good_anchor(), **changes}.items() if value is not ...}
    return json.dumps({"chain": CHAIN, "chain_id": CHAIN_ID, "account": ACCOUNT, "anchors": [item]}).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"<html>", "it is not JSON", id="not-json"),
        pytest.param(b"[]", "it is not a JSON object", id="a-list"),
        pytest.param(b'{"chain": null, "chain_id": null, "account": null}', "it has no 'anchors'", id="no-anchors"),
        pytest.param(
            b'{"chain": null, "chain_id": null, "account": null, "anchors": {}}', "'anchors' is not a list", id="dict"
        ),
        pytest.param(with_anchor(checkpoint_sha256="zz" * 32), "checkpoint_sha256 of anchor 0 is", id="bad-hex"),
        pytest.param(with_anchor(size=-1), "the size of anchor 0 is -1, not a whole number", id="negative-size"),
        pytest.param(with_anchor(size=True), "the size of anchor 0 is True", id="boolean-size"),
        pytest.param(with_anchor(block=1.5), "the block of anchor 0 is 1.5", id="fractional-block"),
        pytest.param(with_anchor(transaction="0x1234"), "the transaction of anchor 0 is '0x1234'", id="short-hash"),
        pytest.param(with_anchor(block_hash=...), "anchor 0 has no 'block_hash'", id="missing-key"),
        pytest.param(with_anchor(state="sending"), "anchor 0 has state 'sending'", id="unsent-state"),
        pytest.param(
            json.dumps({"chain": CHAIN, "chain_id": None, "account": ACCOUNT, "anchors": [good_anchor()]}).encode(),
            "its chain_id is None",
            id="no-chain-id",
        ),
        pytest.param(
            json.dumps({"chain": CHAIN, "chain_id": 137, "account": "0xabc", "anchors": [good_anchor()]}).encode(),
            "its account is '0xabc'",
            id="bad-account",
        ),
    ],
)
async def test_malformed_anchors_are_a_problem(served: ServedLog, data: bytes, reason: str) -> None:
    served.publish(issuances(10))
    served.write("anchors", data)
    report = await run_audit(served)
    assert len(report.problems) == 1, report.problems
    assert report.problems[0].startswith(f"the anchors at {ANCHORS_URL} are malformed: ")
    assert reason in report.problems[0]
    assert report.anchors == []


async def test_anchors_over_16_mib_are_a_problem(served: ServedLog) -> None:
    served.publish(issuances(10))
    served.write("anchors", b" " * ((16 << 20) + 1))
    report = await run_audit(served)
    assert report.problems == [f"the anchors at {ANCHORS_URL} are larger than {16 << 20} bytes"]


async def test_anchors_the_server_fails_to_answer_are_a_problem_after_the_tree_is_checked(
    served: ServedLog, tmp_path: Path
) -> None:
    served.publish(issuances(10))

    def failing_anchors(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/log/anchors":
            return httpx.Response(503)
        return served.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(failing_anchors)) as http:
        report = await audit(http, BASE_URL, log_vkey=LOG.vkey, state_dir=tmp_path)
    assert report.problems == [f"the anchors could not be read: GET {ANCHORS_URL} answered HTTP 503"]
    assert saved_size(tmp_path) == 10


async def test_the_monitor_does_not_read_anchors(served: ServedLog, tmp_path: Path) -> None:
    served.publish(issuances(10))
    served.write("anchors", b"not json")
    alerts: list[str] = []
    async with served.client() as http:
        await monitor(
            http,
            BASE_URL,
            log_vkey=LOG.vkey,
            state_dir=tmp_path,
            watch_offices=[],
            expected=set(),
            interval=1,
            once=True,
            alert=alerts.append,
        )
    assert alerts == [] and "/log/anchors" not in served.requested


# The command line


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sevamitra")
    commands = parser.add_subparsers(dest="command", required=True)
    log = commands.add_parser("log")
    add_log_audit_commands(log.add_subparsers(dest="log_command", required=True))
    return parser.parse_args(["log", *argv])


def run_cli(served: ServedLog, state: Path, *argv: str) -> int:
    args = parse("audit", BASE_URL, "--vkey", LOG.vkey, "--witness", WITNESS.vkey, "--state", str(state), *argv)
    return run_log_audit_command(args, transport=httpx.MockTransport(served.handler))


def test_the_text_report_has_one_line_about_the_anchors(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = issuances(130)
    served.publish(entries[:120])
    serve_anchors(served, anchored(entries, [(50, 100), (80, 110), (120, 123)]))
    assert run_cli(served, tmp_path) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "3 anchors in Polygon PoS match the log (latest: size 120 in block 123)"
    assert lines[1].startswith(f"log {ORIGIN}: 120 entries") and lines[1].endswith(": OK")
    serve_anchors(served, anchored(entries, [(50, 100), (130, 140)]))
    assert run_cli(served, tmp_path) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "1 anchor in Polygon PoS matches the log (latest: size 50 in block 100); "
        "1 more of a tree larger than this checkpoint, not checked yet"
    )


def test_a_text_report_with_a_mismatched_anchor_exits_1(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = issuances(120)
    served.publish(entries)
    serve_anchors(served, [*anchored(entries, [(50, 100)]), anchor(120, checkpoint_sha256(entries[:119]), 123)])
    assert run_cli(served, tmp_path) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("PROBLEM: the anchor of size 120 in block 123")
    assert lines[1] == "1 of 2 anchors in Polygon PoS matches the log"
    assert lines[2].endswith("cosigned by 1 witness: 1 problem")


def test_the_json_report_has_an_anchors_object(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = issuances(130)
    served.publish(entries[:120])
    serve_anchors(served, anchored(entries, [(120, 123), (130, 140)]))
    assert run_cli(served, tmp_path, "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["ok"] is True
    assert answer["anchors"] == {
        "chain": CHAIN,
        "chain_id": CHAIN_ID,
        "account": ACCOUNT,
        "matched": 1,
        "ahead": 1,
        "list": [
            {key: value for key, value in item.items() if key != "anchored_at"}
            for item in anchored(entries, [(120, 123), (130, 140)])
        ],
    }


def test_the_json_report_of_a_log_without_anchors_has_an_empty_anchors_object(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served.publish(issuances(10))
    assert run_cli(served, tmp_path, "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["anchors"] == {
        "chain": None,
        "chain_id": None,
        "account": None,
        "matched": 0,
        "ahead": 0,
        "list": [],
    }


def test_chain_arguments_belong_to_audit(served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("audit", BASE_URL, "--vkey", LOG.vkey, "--chain-rpc", "http://node:8545", "--chain-account", ACCOUNT)
    assert (args.chain_rpc, args.chain_account) == ("http://node:8545", ACCOUNT)
    assert parse("audit", BASE_URL, "--vkey", LOG.vkey).chain_rpc is None
    with pytest.raises(SystemExit):
        parse("monitor", BASE_URL, "--vkey", LOG.vkey, "--watch-office", "A", "--chain-rpc", "http://node:8545")
    capsys.readouterr()
    entries = issuances(10)
    served.publish(entries)
    assert run_cli(served, tmp_path, "--chain-rpc", "http://127.0.0.1:9") == 0  # no anchors: nothing to read
    serve_anchors(served, anchored(entries, [(10, 100)]))
    assert run_cli(served, tmp_path, "--chain-rpc", "http://127.0.0.1:9") == 2  # a closed port: the audit cannot run
    assert "--chain-rpc" in capsys.readouterr().err
