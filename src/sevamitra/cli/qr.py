"""`sevamitra qr sync | poster | links`: every service's click-to-chat link, WhatsApp's own QR codes
kept in step with the catalogue, and printable posters."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sevamitra.settings import Settings


def add_qr_commands(commands: Any) -> None:
    qr = commands.add_parser("qr", help="service QR codes and click-to-chat links: sync, posters, links")
    qr_commands = qr.add_subparsers(dest="qr_command", required=True)
    sync = qr_commands.add_parser("sync", help="create, update and delete WhatsApp message QR codes to match")
    sync.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    sync.add_argument("--language", choices=("te", "en", "hi"), default="te", help="the prefilled text's language")
    poster = qr_commands.add_parser("poster", help="printable A4/A5 posters, Telugu and English, one PDF a service")
    which = poster.add_mutually_exclusive_group(required=True)
    which.add_argument("--service", help="one service id")
    which.add_argument("--department", help="every service of one department")
    poster.add_argument("--out", type=Path, required=True, help="the folder for the PDFs")
    poster.add_argument("--size", choices=("A4", "A5"), default="A4")
    poster.add_argument("--source", help="a tag for scans of these posters (a poster id or place)")
    links = qr_commands.add_parser("links", help="every service's link, as JSON lines")
    links.add_argument("--language", choices=("te", "en", "hi"), default="te")
    links.add_argument("--source", help="a tag for arrivals through these links")


def run_qr_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.qr_command == "sync":
        from sevamitra.cli.qr_sync import run_sync

        return run_sync(args, settings)
    if args.qr_command == "poster":
        from sevamitra.cli.qr_poster import run_poster

        return run_poster(args, settings)
    from sevamitra.cli.qr_links import run_links

    return run_links(args, settings)
