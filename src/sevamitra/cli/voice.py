"""`sevamitra voice transcribe | eval`: voice notes from the command line, and how well they are understood."""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
import sys
from pathlib import Path
from typing import Any

from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon
from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings, available
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.adapters.speech.build import speech_to_text
from sevamitra.adapters.speech.evaluation import (
    LANGUAGES,
    VOICE_NOTE_MIME,
    evaluate,
    read_manifest,
    recorded_clips,
)
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.speech import SpeechError, SpeechToText
from sevamitra.settings import Settings

DEFAULT_SET = Path("evaluation/voice/set.tsv")
BACKENDS = ("whisper", "pocketsphinx", "remote", "none")


def add_voice_commands(commands: Any) -> None:
    voice = commands.add_parser("voice", help="voice notes: transcribe and route them, measure recognition")
    voice_commands = voice.add_subparsers(dest="voice_command", required=True)
    transcribe = voice_commands.add_parser("transcribe", help="what each voice note says, and the service it asks for")
    transcribe.add_argument("files", nargs="+", type=Path)
    transcribe.add_argument("--language", choices=LANGUAGES, default="en", help="the speaker's language (default en)")
    transcribe.add_argument("--json", action="store_true", help="JSON lines (the default too; kept for scripts)")
    evaluation = voice_commands.add_parser("eval", help="word error rate, routing accuracy, speed and memory")
    evaluation.add_argument("--set", dest="manifest", type=Path, default=DEFAULT_SET, help="the set's manifest")
    evaluation.add_argument("--language", choices=LANGUAGES, default=None, help="one language only (default all)")
    evaluation.add_argument("--json", action="store_true")
    evaluation.add_argument("--misses", type=int, default=0, help="print this many misrouted clips")
    for command in (transcribe, evaluation):
        command.add_argument("--backend", choices=BACKENDS, default=None, help="default: SEVAMITRA_SPEECH_BACKEND")


def run_voice_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.backend:
        settings = settings.model_copy(update={"speech_backend": args.backend})
    catalogue = load_catalogue(settings.catalogue_root, cache_dir=settings.cache_dir)
    try:
        speech = speech_to_text(settings, catalogue)
    except RuntimeError as error:  # the backend's extra or settings are missing
        print(f"sevamitra voice: {error}", file=sys.stderr)
        return 2
    assistant = _assistant(settings, catalogue)
    if args.voice_command == "transcribe":
        return asyncio.run(_transcribe(args.files, args.language, speech, assistant))
    clips = [c for c in read_manifest(args.manifest) if args.language in (None, c.language)]
    if args.language in (None, "en"):
        clips += recorded_clips()
    report = asyncio.run(evaluate(speech, clips, lambda text: assistant.route(text).best))
    router = "lexical router with embeddings" if assistant.embeddings else "lexical router alone"
    if args.json:
        print(
            json.dumps(
                {
                    "backend": report.backend,
                    "router": router,
                    "languages": report.table(),
                    "real_time_factor": report.real_time_factor(),
                    "peak_rss_mb": report.peak_rss_mb,
                }
            )
        )
    else:
        print(report.render())
        print(f"routed by the assistant's {router}")
    for miss in report.misses[: args.misses]:
        print(f"miss\t{miss.clip.path.name}\t{miss.clip.expected}\t{miss.clip.variation}\t{miss.heard}\t→ {miss.got}")
    return 0


def _assistant(settings: Settings, catalogue: Catalogue) -> Assistant:
    """The assistant as the platform runs it: with embeddings when configured, or when installed and unset."""
    wanted = settings.assistant_embeddings
    fused = wanted or (wanted is None and available())
    embeddings = ServiceEmbeddings(catalogue, cache_dir=settings.cache_dir) if fused and available() else None
    return Assistant(catalogue, load_lexicon(settings.catalogue_root), embeddings=embeddings)


async def _transcribe(files: list[Path], language: str, speech: SpeechToText, assistant: Assistant) -> int:
    failed = 0
    for path in files:
        answer = await _transcribed(path, language, speech, assistant)
        failed += "error" in answer
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    return 1 if failed else 0


async def _transcribed(path: Path, language: str, speech: SpeechToText, assistant: Assistant) -> dict[str, Any]:
    try:
        audio = path.read_bytes()
    except OSError as error:
        return {"file": str(path), "error": "unreadable", "detail": error.strerror}
    mime_type = VOICE_NOTE_MIME if path.suffix.lower() in (".ogg", ".opus") else mimetypes.guess_type(path.name)[0]
    try:
        transcript = await speech.transcribe(audio, mime_type or "application/octet-stream", language)
    except SpeechError as error:
        return {"file": str(path), "error": error.problem}
    service_id = assistant.route(transcript.text).best
    service = assistant.catalogue.service(service_id) if service_id else None
    return {
        "file": str(path),
        "transcript": transcript.text,
        "language": transcript.language,
        "confidence": round(transcript.confidence, 3),
        "service_id": service_id,
        "name_en": service.name("en") if service else None,
    }
