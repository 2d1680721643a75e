"""`sevamitra qr sync`: one WhatsApp message QR code per service, its prefilled text the service's
name and `#CODE` marker, kept in step with the catalogue.

A QR code is ours when its text carries a `#CODE` marker; codes without one belong to someone else
and are never touched. Running it again after a failure finishes the job: every step is decided
afresh from what the Graph API lists.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.whatsapp.graph import GraphApiError
from sevamitra.adapters.whatsapp.qrcodes import MessageQrCodes
from sevamitra.core.catalogue import Service
from sevamitra.core.links import closing_marker, prefilled
from sevamitra.settings import Settings

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Create:
    service_code: str
    text: str


@dataclass(frozen=True, slots=True)
class Update:
    qr_code: str
    service_code: str
    text: str  # the new text


@dataclass(frozen=True, slots=True)
class Delete:
    qr_code: str
    text: str  # the text it had


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    creates: tuple[Create, ...] = ()
    updates: tuple[Update, ...] = ()
    deletes: tuple[Delete, ...] = ()
    kept: tuple[str, ...] = ()  # QR codes already right

    def summary(self, *, dry_run: bool = False) -> str:
        counts = (
            f"created {len(self.creates)}, updated {len(self.updates)}, "
            f"deleted {len(self.deletes)}, kept {len(self.kept)}"
        )
        return f"dry run, nothing changed: would have {counts}" if dry_run else counts

    def lines(self) -> list[str]:
        """The changes, one line each."""
        return [
            *(f"create  #{c.service_code}: {c.text}" for c in self.creates),
            *(f"update  {u.qr_code} #{u.service_code}: {u.text}" for u in self.updates),
            *(f"delete  {d.qr_code}: {d.text}" for d in self.deletes),
        ]


def wanted_texts(services: Iterable[Service], language: str) -> dict[str, str]:
    """Service code → the prefilled text its QR code should carry (no source tag)."""
    return {service.code: prefilled(service, language) for service in services if service.code}


def plan(existing: Sequence[tuple[str, str]], wanted: Mapping[str, str]) -> Plan:
    """What to change so that each wanted service code has exactly one QR code with its text.

    `existing` is (QR code, prefilled text) pairs. Of several codes with the same marker, one whose
    text is already right is kept, else the first listed; the others are deleted.
    """
    ours: dict[str, list[tuple[str, str]]] = {}
    for qr_code, text in existing:
        if (marker := closing_marker(text)) is not None:
            ours.setdefault(marker.code, []).append((qr_code, text))
    creates = tuple(Create(service_code, text) for service_code, text in wanted.items() if service_code not in ours)
    updates: list[Update] = []
    deletes: list[Delete] = []
    kept: list[str] = []
    for service_code, copies in ours.items():
        wanted_text = wanted.get(service_code)
        if wanted_text is None:  # a service no longer in the catalogue
            deletes.extend(Delete(qr_code, text) for qr_code, text in copies)
            continue
        keep_code, keep_text = next((copy for copy in copies if copy[1] == wanted_text), copies[0])
        deletes.extend(Delete(qr_code, text) for qr_code, text in copies if qr_code != keep_code)
        if keep_text == wanted_text:
            kept.append(keep_code)
        else:
            updates.append(Update(keep_code, service_code, wanted_text))
    return Plan(creates=creates, updates=tuple(updates), deletes=tuple(deletes), kept=tuple(kept))


async def sync(codes: MessageQrCodes, wanted: Mapping[str, str], *, dry_run: bool = False) -> Plan:
    """List the number's QR codes, plan, and (unless a dry run) apply: deletions first, then the rest."""
    # The API lists newest first; the oldest of duplicates has been out longest, so it is the one kept.
    existing = [(qr.code, qr.prefilled_message) for qr in reversed(await codes.list_all())]
    changes = plan(existing, wanted)
    if dry_run:
        return changes
    for deletion in changes.deletes:
        await codes.delete(deletion.qr_code)
    for update in changes.updates:
        await codes.update(update.qr_code, update.text)
    for creation in changes.creates:
        await codes.create(creation.text)
    return changes


def run_sync(args: argparse.Namespace, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`sevamitra qr sync`: 0 when the QR codes match the catalogue (or, dry, the plan is printed), 1 on a
    Graph API error. `transport` lets tests reach an in-process emulator."""
    catalogue = load_catalogue(settings.catalogue_root, cache_dir=settings.cache_dir)
    wanted = wanted_texts(catalogue.services, args.language)
    try:
        changes = asyncio.run(_sync(settings, wanted, dry_run=args.dry_run, transport=transport))
    except GraphApiError as error:
        print(f"sevamitra qr sync: {error}; changes made before it stand, run it again to finish", file=sys.stderr)
        return 1
    for line in changes.lines() if args.dry_run else ():
        print(line)
    print(changes.summary(dry_run=args.dry_run))
    return 0


async def _sync(
    settings: Settings, wanted: Mapping[str, str], *, dry_run: bool, transport: httpx.AsyncBaseTransport | None
) -> Plan:
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT_SECONDS) as http:
        codes = MessageQrCodes(
            http,
            base_url=settings.graph_api_url,
            version=settings.graph_api_version,
            phone_number_id=settings.whatsapp_phone_number_id,
            access_token=settings.whatsapp_access_token.get_secret_value(),
        )
        return await sync(codes, wanted, dry_run=dry_run)
