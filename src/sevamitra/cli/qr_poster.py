"""`sevamitra qr poster`: printable posters, one PDF a service, named `<service-id>.pdf`."""

from __future__ import annotations

import argparse
import sys

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.pdf.poster import render_poster
from sevamitra.core.catalogue import Service
from sevamitra.core.links import SOURCE
from sevamitra.settings import Settings


def run_poster(args: argparse.Namespace, settings: Settings) -> int:
    """Writes the posters of `--service` or of every service of `--department` into `--out`."""
    catalogue = load_catalogue(settings.catalogue_root, cache_dir=settings.cache_dir)
    services: tuple[Service, ...]
    if args.service:
        service = catalogue.service(args.service)
        if service is None:
            print(f"no service {args.service!r} in the catalogue (`sevamitra qr links` lists them)", file=sys.stderr)
            return 2
        services = (service,)
    else:
        if catalogue.department(args.department) is None:
            known = ", ".join(d.id for d in catalogue.departments)
            print(f"no department {args.department!r} in the catalogue; there are: {known}", file=sys.stderr)
            return 2
        services = catalogue.services_of(args.department)
    if args.source is not None and not SOURCE.match(args.source):
        print(f"a source tag is 1-40 letters, digits, '-' or '_', not {args.source!r}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    number = settings.whatsapp_display_phone_number
    for service in services:
        path = args.out / f"{service.id}.pdf"
        path.write_bytes(render_poster(service, number=number, size=args.size, source=args.source))
        print(path)
    return 0
