"""`sevamitra log audit | monitor`: arguments, what they print, and their exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest

from sevamitra.cli.log_audit import DEFAULT_STATE, add_log_audit_commands, run_log_audit_command
from tests.adapters.test_tlog_audit import BASE_URL, LOG, ORIGIN, WITNESS, ServedLog, certificate_hex, issuances


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sevamitra")
    commands = parser.add_subparsers(dest="command", required=True)
    log = commands.add_parser("log")
    add_log_audit_commands(log.add_subparsers(dest="log_command", required=True))
    return parser.parse_args(["log", *argv])


@pytest.fixture
def served(tmp_path: Path) -> ServedLog:
    served = ServedLog(tmp_path / "site")
    served.publish(issuances(300))
    return served


def run(served: ServedLog, *argv: str) -> int:
    return run_log_audit_command(parse(*argv), transport=httpx.MockTransport(served.handler))


def test_audit_arguments_and_their_defaults() -> None:
    args = parse("audit", BASE_URL, "--vkey", LOG.vkey, "--witness", "w1", "--witness", "w2")
    assert args.log_audit_command == "audit"
    assert (args.base_url, args.vkey, args.witness) == (BASE_URL, LOG.vkey, ["w1", "w2"])
    assert (args.min_witnesses, args.state, args.json, args.max_backdate) == (0, DEFAULT_STATE, False, 3600)


def test_monitor_needs_an_office_to_watch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse("monitor", BASE_URL, "--vkey", LOG.vkey)
    assert stopped.value.code == 2
    assert "--watch-office" in capsys.readouterr().err
    args = parse("monitor", BASE_URL, "--vkey", LOG.vkey, "--watch-office", "A", "--watch-office", "B", "--once")
    assert (args.log_audit_command, args.watch_office, args.once, args.expect) == ("monitor", ["A", "B"], True, None)


def test_a_clean_audit_prints_one_line_and_exits_0(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(served, "audit", BASE_URL, "--vkey", LOG.vkey, "--witness", WITNESS.vkey, "--state", str(tmp_path))
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"log {ORIGIN}: 300 entries, root ") and out.endswith(", cosigned by 1 witness: OK\n")


def test_an_audit_with_problems_prints_each_and_exits_1(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served.path("tile/0/000").unlink()
    code = run(served, "audit", BASE_URL, "--vkey", LOG.vkey, "--min-witnesses", "1", "--state", str(tmp_path))
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "PROBLEM: the checkpoint is cosigned by 0 of the given witnesses, not the 1 required" in lines
    assert "PROBLEM: level-0 tile 0 (log/tile/0/000) is missing (HTTP 404)" in lines
    assert lines[-1].endswith("cosigned by 0 witnesses: 3 problems")


def test_the_audit_answers_in_json(served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(served, "audit", BASE_URL, "--vkey", LOG.vkey, "--json", "--state", str(tmp_path)) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["origin"], answer["size"], answer["ok"], answer["problems"]) == (ORIGIN, 300, True, [])


def test_an_unreachable_log_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    args = parse("audit", BASE_URL, "--vkey", LOG.vkey, "--state", str(tmp_path))
    assert run_log_audit_command(args, transport=httpx.MockTransport(refuse)) == 2
    err = capsys.readouterr().err
    assert err.startswith("sevamitra log audit: GET https://log.example/log/checkpoint failed") and err.count("\n") == 1


def test_a_malformed_key_exits_2(served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(served, "audit", BASE_URL, "--vkey", "not-a-key", "--state", str(tmp_path)) == 2
    assert "the log key is not a verifier key" in capsys.readouterr().err


def test_monitor_once_alerts_on_stderr_and_exits_1(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect = tmp_path / "expected.txt"
    expect.write_text("# issued at the counter\n" + "".join(f"{certificate_hex(n)}\n" for n in range(300) if n != 9))
    argv = ["monitor", BASE_URL, "--vkey", LOG.vkey, "--watch-office", "Revenue, Vijayawada Rural", "--once"]
    code = run(served, *argv, "--expect", str(expect), "--state", str(tmp_path / "state"))
    captured = capsys.readouterr()
    assert code == 1
    [alert] = captured.err.splitlines()
    assert alert.startswith(f"ALERT: log {ORIGIN}: entry 9 issues a certificate")
    assert "300 entries (300 new)" in captured.out
    assert run(served, *argv, "--expect", str(expect), "--state", str(tmp_path / "state")) == 0


def test_monitor_refuses_an_expect_file_with_a_bad_line(
    served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect = tmp_path / "expected.txt"
    expect.write_text(f"{certificate_hex(1)}\nAP-REV-000002\n")
    argv = ["monitor", BASE_URL, "--vkey", LOG.vkey, "--watch-office", "X", "--once", "--expect", str(expect)]
    assert run(served, *argv, "--state", str(tmp_path)) == 2
    assert f"{expect}:2 is not a 64-digit hex certificate hash" in capsys.readouterr().err


def test_monitor_exits_1_after_a_fork(served: ServedLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["monitor", BASE_URL, "--vkey", LOG.vkey, "--watch-office", "X", "--state", str(tmp_path)]
    assert run(served, *argv, "--once") == 0
    served.publish(issuances(200))
    assert run(served, *argv, "--interval", "0.01") == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith("ALERT: log ")
