"""`sevamitra`: serve, worker, migrate, emulator, chat, catalogue, verify, certificates, keys, log, witness, bench."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from sevamitra.adapters.logformat import configure_logging
from sevamitra.cli.backup import add_backup_commands, run_backup_command
from sevamitra.cli.log_audit import add_log_audit_commands, run_log_audit_command
from sevamitra.cli.nlu import add_nlu_commands, run_nlu_command
from sevamitra.cli.officers import add_officer_commands, run_officer_command
from sevamitra.cli.qr import add_qr_commands, run_qr_command
from sevamitra.cli.voice import add_voice_commands, run_voice_command
from sevamitra.cli.witness import add_witness_commands, run_witness_command
from sevamitra.settings import Settings, log_format

T = TypeVar("T")


def _settings() -> Settings:
    return _checked(Settings)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _checked(read: Callable[[], T]) -> T:
    """Settings read from the environment, or the command ends saying what is wrong with them."""
    try:
        return read()
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        print(f"sevamitra: {reasons}", file=sys.stderr)
        raise SystemExit(2) from error


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sevamitra", description="Citizen services over WhatsApp.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="the web app, with the worker and sender in-process")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="only accept webhooks; run `worker` elsewhere")
    serve.add_argument(
        "--processes", type=_positive, default=1, help="web processes sharing the port (more than 1: web only)"
    )

    commands.add_parser("worker", help="the turn worker and outbound sender only")
    commands.add_parser("migrate", help="create or upgrade the database schema")

    emulator = commands.add_parser("emulator", help="a local WhatsApp Cloud API, standalone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8001)
    emulator.add_argument("--webhook-url", default="http://127.0.0.1:8000/webhooks/whatsapp")

    chat = commands.add_parser("chat", help="a conversation in this terminal, through the same engine")
    chat.add_argument("--wa-id", default="919000000000")

    catalogue = commands.add_parser("catalogue", help="check or export the service catalogue")
    catalogue_commands = catalogue.add_subparsers(dest="catalogue_command", required=True)
    catalogue_commands.add_parser("lint", help="check every service file; non-zero exit on any problem")
    export = catalogue_commands.add_parser("export", help="the whole catalogue as one JSON document")
    export.add_argument("--format", choices=["json"], default="json")
    flows = catalogue_commands.add_parser("flows", help="every service's form as WhatsApp Flow JSON")
    flows.add_argument("--out", type=Path, required=True)

    verify = commands.add_parser("verify", help="verify a certificate: a PDF, a photo of its QR, or the QR text")
    verify.add_argument("target")
    verify.add_argument("--json", action="store_true", help="answer in JSON")

    certificates = commands.add_parser("certificates", help="issue sample certificates, or revoke one")
    certificate_commands = certificates.add_subparsers(dest="certificates_command", required=True)
    sample = certificate_commands.add_parser(
        "sample", help="certificates for synthetic applicants, through the real action"
    )
    sample.add_argument("--service", required=True)
    sample.add_argument("--count", type=int, default=1)
    sample.add_argument("--out", type=Path, required=True)
    revoke = certificate_commands.add_parser("revoke", help="revoke a certificate by its number")
    revoke.add_argument("number")
    revoke.add_argument("--reason", required=True)

    keys = commands.add_parser("keys", help="the certificate signing keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_commands.add_parser("rotate", help="a new signing key; earlier ones keep verifying")
    rotate.add_argument("--valid-days", type=int, default=None)
    keys_commands.add_parser("rotate-data", help="reseal personal data under the current SEVAMITRA_DATA_KEY")

    log = commands.add_parser("log", help="the transparency log: its key, proofs, publishing, auditing")
    log_commands = log.add_subparsers(dest="log_command", required=True)
    log_commands.add_parser("vkey", help="the log's verifier key (C2SP note key)")
    proof = log_commands.add_parser("proof", help="an inclusion proof (C2SP tlog-proof) for a certificate")
    proof.add_argument("number")
    log_commands.add_parser("publish", help="integrate waiting entries now and print the checkpoint")
    anchors = log_commands.add_parser("anchors", help="the checkpoints anchored in a public chain, and their state")
    anchors.add_argument("--json", action="store_true", help="answer in JSON")
    add_log_audit_commands(log_commands)

    add_witness_commands(commands)
    add_officer_commands(commands)
    add_nlu_commands(commands)
    add_voice_commands(commands)
    add_qr_commands(commands)
    add_backup_commands(commands)

    seed = commands.add_parser("seed", help="synthetic data for demos and benchmarks")
    seed_commands = seed.add_subparsers(dest="seed_command", required=True)
    seed_apps = seed_commands.add_parser("applications", help="realistic applications across services and districts")
    seed_apps.add_argument("--count", type=int, required=True)
    seed_apps.add_argument("--force", action="store_true", help="seed even if the database holds that many already")
    seed_apps.add_argument("--seed", type=int, default=1, help="the random seed (same seed, same data)")
    seed_apps.add_argument("--workers", type=int, default=None, help="processes generating rows (default: CPUs)")

    bench = commands.add_parser("bench", help="benchmarks that print measured figures")
    bench.add_argument(
        "what", choices=["ingest", "turns", "drain", "catalogue", "certificates", "log", "dashboard", "suite"]
    )
    bench.add_argument("--count", type=int, default=None, help="certificates (400) or log entries (100,000)")
    bench.add_argument("--proof-sizes", default="1000000,10000000", help="log: tree sizes to time inclusion proofs at")
    bench.add_argument("--services", type=int, default=5000, help="catalogue: how many synthetic services")
    bench.add_argument("--seconds", type=float, default=10.0)
    bench.add_argument("--concurrency", type=int, default=32)
    bench.add_argument("--processes", type=_positive, default=1, help="ingest: the platform's web processes")
    bench.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each timed window")
    bench.add_argument("--database-url", default=None, help="the platform on this database, not a fresh SQLite file")
    bench.add_argument("--requests", type=int, default=200, help="dashboard: timed requests per page and officer")
    bench.add_argument("--schema", default=None, help="dashboard: reuse (or keep) this PostgreSQL schema")
    bench.add_argument("--keep", action="store_true", help="dashboard: keep the seeded schema for the next run")
    bench.add_argument("--rates", default="100,250,500,1000", help="turns: offered loads, messages per second")
    bench.add_argument("--citizens", type=int, default=None, help="turns: citizens (default: half the offered load)")
    bench.add_argument("--messages", type=int, default=None, help="drain: the burst (100,000)")
    bench.add_argument("--workers", default=None, help="drain: worker processes, e.g. 1,2 (PostgreSQL)")
    bench.add_argument("--quick", action="store_true", help="suite: every benchmark scaled down, a smoke run")
    bench.add_argument("--skip", default="", help="suite: benchmarks to leave out, e.g. dashboard,log")
    bench.add_argument("--out", default=None, help="suite: where the table, figures and plots go")
    bench.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="also write the figures as JSON")

    args = parser.parse_args(argv)
    configure_logging(_checked(log_format))

    if args.command == "migrate":
        from sevamitra.bootstrap import migrate

        migrate(_settings())
        print("database is up to date")
    elif args.command == "serve":
        from sevamitra.cli.serve import serve as run_serve

        run_serve(_settings(), args.host, args.port, worker=not args.no_worker, processes=args.processes)
    elif args.command == "worker":
        from sevamitra.cli.serve import worker

        asyncio.run(worker(_settings()))
    elif args.command == "emulator":
        from sevamitra.cli.serve import emulator_only

        emulator_only(_settings(), args.host, args.port, args.webhook_url)
    elif args.command == "chat":
        from sevamitra.cli.chat import chat as run_chat

        run_chat(_settings(), args.wa_id)
    elif args.command == "catalogue":
        from sevamitra.cli import catalogue as catalogue_cli

        root = _settings().catalogue_root
        if args.catalogue_command == "flows":
            raise SystemExit(catalogue_cli.flows(root, args.out))
        run = catalogue_cli.lint if args.catalogue_command == "lint" else catalogue_cli.export
        raise SystemExit(run(root))
    elif args.command == "keys" and args.keys_command == "rotate-data":
        from sevamitra.cli.data_keys import rotate_data

        raise SystemExit(asyncio.run(rotate_data(_settings())))
    elif args.command in ("backup", "restore"):
        raise SystemExit(run_backup_command(args, _settings()))
    elif args.command in ("verify", "certificates", "keys"):
        from sevamitra.cli import certificates as certificates_cli

        settings = _settings()
        if args.command == "verify":
            code = asyncio.run(certificates_cli.verify(settings, args.target, as_json=args.json))
        elif args.command == "keys":
            code = asyncio.run(certificates_cli.rotate_keys(settings, args.valid_days))
        elif args.certificates_command == "sample":
            code = asyncio.run(certificates_cli.sample(settings, args.service, args.count, args.out))
        else:
            code = asyncio.run(certificates_cli.revoke(settings, args.number, args.reason))
        raise SystemExit(code)
    elif args.command == "seed":
        from sevamitra.cli.seed import SeedRefused, seed_applications

        try:
            seed_applications(_settings(), args.count, seed=args.seed, force=args.force, workers=args.workers)
        except SeedRefused as error:
            print(f"sevamitra seed applications: {error}", file=sys.stderr)
            raise SystemExit(1) from error
    elif args.command == "officers":
        raise SystemExit(run_officer_command(args, _settings()))
    elif args.command == "nlu":
        raise SystemExit(run_nlu_command(args, _settings()))
    elif args.command == "voice":
        raise SystemExit(run_voice_command(args, _settings()))
    elif args.command == "qr":
        raise SystemExit(run_qr_command(args, _settings()))
    elif args.command == "witness":
        raise SystemExit(run_witness_command(args))
    elif args.command == "log" and getattr(args, "log_audit_command", None):
        raise SystemExit(run_log_audit_command(args))
    elif args.command == "log":
        from sevamitra.cli import log as log_cli

        settings = _settings()
        if args.log_command == "vkey":
            raise SystemExit(log_cli.vkey(settings))
        if args.log_command == "proof":
            raise SystemExit(asyncio.run(log_cli.proof(settings, args.number)))
        if args.log_command == "anchors":
            raise SystemExit(asyncio.run(log_cli.anchors(settings, as_json=args.json)))
        raise SystemExit(asyncio.run(log_cli.publish(settings)))
    elif args.command == "bench" and args.what == "certificates":
        from sevamitra.cli.bench_certificates import certificates as bench_certificates

        bench_certificates(args.count or 400, database_url=args.database_url)
    elif args.command == "bench" and args.what == "dashboard":
        from sevamitra.cli.bench_dashboard import dashboard as bench_dashboard

        if not args.database_url:
            print("sevamitra bench dashboard: give --database-url postgresql://...", file=sys.stderr)
            raise SystemExit(2)
        bench_dashboard(
            args.count or 1_000_000,
            database_url=args.database_url,
            requests=args.requests,
            schema=args.schema,
            keep=args.keep,
        )
    elif args.command == "bench" and args.what == "log":
        from sevamitra.cli.bench_log import log as bench_log

        sizes = tuple(int(size) for size in args.proof_sizes.split(",") if size.strip())
        bench_log(args.count or 100_000, proof_sizes=sizes, database_url=args.database_url)
    elif args.command == "bench" and args.what == "turns":
        from sevamitra.cli.bench_turns import turns as bench_turns

        bench_turns(
            rates=[float(rate) for rate in args.rates.split(",") if rate.strip()],
            seconds=args.seconds,
            warmup=args.warmup,
            citizens=args.citizens,
            database_url=args.database_url,
            json_path=args.json_path,
        )
    elif args.command == "bench" and args.what == "drain":
        from sevamitra.cli.bench_drain import run_from_args as bench_drain

        bench_drain(args)
    elif args.command == "bench" and args.what == "suite":
        from sevamitra.cli.bench_suite import run_from_args as bench_suite

        bench_suite(args)
    elif args.command == "bench" and args.what == "catalogue":
        from sevamitra.cli.bench_catalogue import catalogue as bench_catalogue

        bench_catalogue(services=args.services)
    elif args.command == "bench":
        from sevamitra.cli.bench import ingest

        ingest(
            seconds=args.seconds,
            concurrency=args.concurrency,
            warmup=args.warmup,
            database_url=args.database_url,
            json_path=args.json_path,
            processes=args.processes,
        )
