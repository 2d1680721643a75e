"""`sevamitra witness serve | vkey`: a C2SP tlog-witness for the configured logs."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sevamitra.adapters.tlog.witness import Witness, WitnessState, load_witness_key
from sevamitra.core.checkpoints import ED25519_TYPE, parse_vkey


def add_witness_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `witness serve` and `witness vkey` on the top-level subcommands."""
    witness = commands.add_parser("witness", help="a C2SP tlog-witness that cosigns consistent checkpoints")
    witness_commands = witness.add_subparsers(dest="witness_command", required=True)

    serve = witness_commands.add_parser("serve", help="serve POST /add-checkpoint for the given logs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    _key_arguments(serve)
    serve.add_argument("--state", type=Path, required=True, help="directory of the latest cosigned checkpoints")
    serve.add_argument(
        "--log",
        dest="logs",
        action="append",
        required=True,
        metavar="VKEY",
        help="a log's verifier key; its name is the log's origin (repeatable)",
    )

    vkey = witness_commands.add_parser("vkey", help="print the witness's verifier key, creating the key if needed")
    _key_arguments(vkey)


def _key_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="the witness's key name, e.g. witness.example.org/w1")
    parser.add_argument(
        "--key-file", type=Path, required=True, help="32-byte Ed25519 seed; created (mode 0600) if missing"
    )


def log_keys(vkeys: Sequence[str]) -> dict[str, list[str]]:
    """Log verifier keys grouped by origin (each key's name); Ed25519 note keys only."""
    logs: dict[str, list[str]] = {}
    for text in vkeys:
        name, key_type, _, _ = parse_vkey(text)
        if key_type != ED25519_TYPE:
            raise ValueError(f"log key {name!r} has type {key_type:#04x}, not an Ed25519 note key")
        logs.setdefault(name, []).append(text)
    return logs


def run_witness_command(args: argparse.Namespace) -> int:
    """Run `witness serve` or `witness vkey`; the exit status."""
    try:
        signer = load_witness_key(args.key_file, args.name)
        if args.witness_command == "vkey":
            print(signer.vkey)
            return 0
        witness = Witness(signer, log_keys(args.logs), WitnessState(args.state), clock=lambda: int(time.time()))
    except (OSError, ValueError) as error:
        print(f"sevamitra witness: {error}", file=sys.stderr)
        return 2
    return _serve(witness, args.host, args.port)


def _serve(witness: Witness, host: str, port: int) -> int:
    import uvicorn

    from sevamitra.web.witness import create_witness_app

    print(f"Witness {witness.name} on http://{host}:{port}/add-checkpoint")
    print(f"  verifier key  {witness.vkey}")
    for origin in witness.origins:
        print(f"  log           {origin}")
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="warning", access_log=False)
    return 0
