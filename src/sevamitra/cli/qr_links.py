"""`sevamitra qr links`: each service's click-to-chat link, one JSON line a service."""

from __future__ import annotations

import argparse
import json

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.core.links import prefilled, service_link
from sevamitra.settings import Settings


def run_links(args: argparse.Namespace, settings: Settings) -> int:
    catalogue = load_catalogue(settings.catalogue_root, cache_dir=settings.cache_dir)
    number = settings.whatsapp_display_phone_number
    for service in catalogue.services:
        text = prefilled(service, args.language, args.source)
        link = service_link(number, service, args.language, args.source)
        line = {"service_id": service.id, "code": service.code, "text": text, "link": link}
        print(json.dumps(line, ensure_ascii=False))
    return 0
