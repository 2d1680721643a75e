"""`sevamitra log audit` and `sevamitra log monitor`: check a transparency log from the outside."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import httpx

from sevamitra.adapters.chain.evm import EvmChain
from sevamitra.adapters.tlog.audit import AuditError, AuditReport, audit, monitor
from sevamitra.core.anchors import ChainError
from sevamitra.core.checkpoints import b64encode

DEFAULT_STATE = "~/.cache/sevamitra/audit"
DEFAULT_INTERVAL = 300.0
MAX_PROBLEMS_SHOWN = 50
TIMEOUT_SECONDS = 30.0
_HASH_HEX = re.compile(r"[0-9a-f]{64}")


class UsageError(Exception):
    """Arguments or files the command cannot use."""


def add_log_audit_commands(log_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `audit` and `monitor` under the `log` command group."""
    audit_parser = log_commands.add_parser("audit", help="check a served log: signatures, tiles, entries, history")
    _common(audit_parser)
    audit_parser.add_argument("--min-witnesses", type=int, default=0, metavar="N", help="cosignatures required")
    audit_parser.add_argument("--json", action="store_true", help="answer in JSON")
    audit_parser.add_argument(
        "--chain-rpc",
        metavar="URL",
        help="an EVM node's JSON-RPC URL, to read each anchor's transaction from the chain",
    )
    audit_parser.add_argument(
        "--chain-account", metavar="ADDRESS", help="the account the state publishes anchors from (0x...)"
    )
    audit_parser.set_defaults(log_audit_command="audit")

    monitor_parser = log_commands.add_parser(
        "monitor", help="audit each new part of a log; alert on certificates an office did not expect"
    )
    _common(monitor_parser)
    monitor_parser.add_argument(
        "--watch-office", action="append", required=True, metavar="TEXT", help="an office to watch (repeatable)"
    )
    monitor_parser.add_argument(
        "--expect", type=Path, metavar="FILE", help="certificate hashes the office expects, one hex hash per line"
    )
    monitor_parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS")
    monitor_parser.add_argument("--once", action="store_true", help="one pass, then exit")
    monitor_parser.add_argument("--min-witnesses", type=int, default=0, metavar="N", help="cosignatures required")
    monitor_parser.set_defaults(log_audit_command="monitor")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base_url", metavar="BASE_URL", help="where the log is served: BASE_URL/log/checkpoint")
    parser.add_argument("--vkey", required=True, help="the log's verifier key")
    parser.add_argument(
        "--witness", action="append", default=[], metavar="VKEY", help="a witness's verifier key (repeatable)"
    )
    parser.add_argument("--state", default=DEFAULT_STATE, metavar="DIR", help="where the last checkpoint is kept")
    parser.add_argument(
        "--max-backdate", type=int, default=3600, metavar="SECONDS", help="how far an entry may predate earlier ones"
    )


def run_log_audit_command(
    args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None, chain: EvmChain | None = None
) -> int:
    """Run `log audit` or `log monitor`: 0 when all is well, 1 on a problem or an alert, 2 when it cannot run."""
    command = args.log_audit_command
    try:
        if args.min_witnesses < 0 or args.max_backdate < 0:
            raise UsageError("--min-witnesses and --max-backdate must not be negative")
        if command == "audit":
            return asyncio.run(_audit(args, transport, chain))
        if args.interval <= 0:
            raise UsageError("--interval must be positive")
        return asyncio.run(_monitor(args, transport))
    except (AuditError, UsageError) as error:
        print(f"sevamitra log {command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _client(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=TIMEOUT_SECONDS, follow_redirects=True)


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state).expanduser()


async def _audit(
    args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None, chain: EvmChain | None = None
) -> int:
    async with _client(transport) as http:
        report = await audit(
            http,
            args.base_url,
            log_vkey=args.vkey,
            witness_vkeys=args.witness,
            min_witnesses=args.min_witnesses,
            state_dir=_state_dir(args),
            max_backdate_seconds=args.max_backdate,
            keep_entries=False,
        )
    chain_problems = []
    if chain is not None:
        chain_problems = await check_on_chain(report, chain, args.chain_account)
    elif args.chain_rpc:
        chain = EvmChain.at(args.chain_rpc)
        try:
            chain_problems = await check_on_chain(report, chain, args.chain_account)
        finally:
            await chain.aclose()
    if chain_problems:
        report = replace(report, problems=[*report.problems, *chain_problems])
    if args.json:
        print(json.dumps(_report_json(report), ensure_ascii=False, indent=1))
    else:
        _print_report(report)
    return 0 if report.ok else 1


async def check_on_chain(report: AuditReport, chain: EvmChain, account: str | None) -> list[str]:
    """Problems found reading each anchor's transaction from the chain: its sender (`account`, else the
    one the log names), its calldata (this anchor's size and hash), its success, block and block hash."""
    if not report.anchors:
        return []
    expected = account or report.chain_account
    if expected is None:
        return ["--chain-account is needed: the log names no account for its anchors"]
    try:
        expected = EvmChain.checksum(expected)
        chain_id = await chain.chain_id()
    except (ValueError, ChainError) as error:
        raise UsageError(f"--chain-rpc: {error}") from None
    problems = []
    if report.chain_id is not None and chain_id != report.chain_id:
        problems.append(f"the node at --chain-rpc serves chain {chain_id}, the anchors name chain {report.chain_id}")
    for anchor in report.anchors:
        where = f"the anchor of size {anchor.size} (transaction {anchor.transaction})"
        try:
            found = await chain.read_anchor(bytes.fromhex(anchor.transaction.removeprefix("0x")))
        except ChainError as error:
            problems.append(f"{where} could not be read from the chain: {error}")
            continue
        if found is None or found.inclusion is None:
            problems.append(f"{where} is not in the chain")
            continue
        mined = found.inclusion
        if found.sender != expected:
            problems.append(f"{where} was sent by {found.sender}, not {expected}")
        if (found.size, found.checkpoint_hash) != (anchor.size, anchor.checkpoint_sha256):
            problems.append(f"{where} does not carry anchor({anchor.size}, 0x{anchor.checkpoint_sha256.hex()})")
        if not mined.succeeded:
            problems.append(f"{where} failed in block {mined.block}")
        block_hash = "0x" + mined.block_hash.hex()
        if not found.canonical or mined.block != anchor.block or block_hash != anchor.block_hash.lower():
            problems.append(f"{where} is in block {mined.block}, not block {anchor.block} as the log says")
    return problems


def _report_json(report: AuditReport) -> dict[str, object]:
    return {
        "origin": report.origin,
        "size": report.size,
        "root": b64encode(report.root),
        "witnesses_ok": report.witnesses_ok,
        "ok": report.ok,
        "forked": report.forked,
        "problems": report.problems,
        "anchors": {
            "chain": report.chain,
            "chain_id": report.chain_id,
            "account": report.chain_account,
            "matched": report.anchors_matched,
            "ahead": report.anchors_ahead,
            "list": [
                {
                    "size": anchor.size,
                    "checkpoint_sha256": anchor.checkpoint_sha256.hex(),
                    "state": anchor.state,
                    "transaction": anchor.transaction,
                    "block": anchor.block,
                    "block_hash": anchor.block_hash,
                }
                for anchor in report.anchors
            ],
        },
    }


def _chain_name(report: AuditReport) -> str:
    if report.chain:
        return report.chain
    return f"chain {report.chain_id}" if report.chain_id is not None else "an unnamed chain"


def _anchors_line(report: AuditReport) -> str | None:
    """One line about the anchors, e.g. `3 anchors in Polygon PoS match the log (latest: size 120 in block 123)`."""
    if not report.anchors:
        return None
    chain = _chain_name(report)
    ahead = report.anchors_ahead
    checkable = [anchor for anchor in report.anchors if anchor.size <= report.size]
    if not checkable:
        noun = "anchor" if ahead == 1 else "anchors"
        return f"{ahead} {noun} in {chain}, of trees larger than this checkpoint: not checked yet"
    matched = report.anchors_matched
    noun = "anchor" if len(checkable) == 1 else "anchors"
    verb = "matches" if matched == 1 else "match"
    if matched == len(checkable):
        latest = max(checkable, key=lambda anchor: anchor.size)
        line = f"{matched} {noun} in {chain} {verb} the log (latest: size {latest.size} in block {latest.block})"
    else:
        line = f"{matched} of {len(checkable)} {noun} in {chain} {verb} the log"
    if ahead:
        line += f"; {ahead} more of {'a tree' if ahead == 1 else 'trees'} larger than this checkpoint, not checked yet"
    return line


def _print_report(report: AuditReport) -> None:
    summary = f"log {report.origin}: {report.size} entries, root {b64encode(report.root)}"
    summary += f", cosigned by {report.witnesses_ok} witness{'' if report.witnesses_ok == 1 else 'es'}"
    anchors = _anchors_line(report)
    if report.ok:
        if anchors is not None:
            print(anchors)
        print(f"{summary}: OK")
        return
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        print(f"PROBLEM: {problem}")
    hidden = len(report.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        print(f"... and {hidden} more problems (--json lists them all)")
    if anchors is not None:
        print(anchors)
    count = len(report.problems)
    print(f"{summary}: {count} problem{'' if count == 1 else 's'}")


def read_expected(path: Path | None) -> set[str]:
    """Certificate hashes from a file, one lower-case or upper-case hex SHA-256 per line; `#` starts a comment."""
    if path is None:
        return set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    hashes: set[str] = set()
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip().lower()
        if not text:
            continue
        if not _HASH_HEX.fullmatch(text):
            raise UsageError(f"{path}:{number} is not a 64-digit hex certificate hash")
        hashes.add(text)
    return hashes


def _alert(message: str) -> None:
    print(f"ALERT: {message}", file=sys.stderr, flush=True)


def _progress(report: AuditReport) -> None:
    new = report.size - report.start
    print(f"log {report.origin}: {report.size} entries ({new} new), root {b64encode(report.root)}", flush=True)


async def _monitor(args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None) -> int:
    expected = read_expected(args.expect)
    async with _client(transport) as http:
        outcome = await monitor(
            http,
            args.base_url,
            log_vkey=args.vkey,
            witness_vkeys=args.witness,
            state_dir=_state_dir(args),
            watch_offices=args.watch_office,
            expected=expected,
            interval=args.interval,
            once=args.once,
            alert=_alert,
            min_witnesses=args.min_witnesses,
            max_backdate_seconds=args.max_backdate,
            on_pass=_progress,
        )
    return 1 if outcome.forked or outcome.alerts else 0
