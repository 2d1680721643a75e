"""Citizens' data rights in their turn: consent kept or withdrawn, "my data" sent back as two WhatsApp
documents (a readable PDF and the complete JSON), "who saw my data" listed from the audit log.

The documents are rendered and uploaded to the channel during the turn (like a voice note fetched for
transcription): nothing of them is stored here, the channel's media id is all the outbox keeps.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sevamitra.core.conversation import Context
from sevamitra.core.messages import DocumentOut, Recipient
from sevamitra.core.ports import CitizenTurn, DataRights
from sevamitra.core.privacy import (
    PURPOSES,
    AccessesListed,
    ConsentKept,
    ConsentRecord,
    ConsentWithdrawn,
    DataExported,
    ExportData,
    ListAccesses,
    PrivacyEffect,
    PrivacyOutcome,
    ReadableDocument,
    RecordConsent,
    WithdrawConsent,
    export_document,
    readable_document,
)

log = logging.getLogger(__name__)

Upload = Callable[[Recipient, bytes, str, str], Awaitable[str]]  # (to whom, data, MIME type, file name) -> media id
Render = Callable[[ReadableDocument], Awaitable[bytes]]  # the readable copy as a PDF, rendered off the event loop
JSON_MIME = "text/plain"  # WhatsApp takes documents of a few types only: JSON goes as text, named .json


@dataclass(frozen=True, slots=True, kw_only=True)
class Rights:
    store: DataRights
    upload: Upload
    render: Render
    accesses_shown: int = 10  # "who saw my data": the latest this many, then a count of the rest
    export_every: timedelta = timedelta(minutes=10)  # one copy of the data in this time; more waits


async def perform(
    rights: Rights, context: Context, turn: CitizenTurn, effect: PrivacyEffect, recipient: Recipient, now: datetime
) -> PrivacyOutcome:
    if isinstance(effect, RecordConsent):
        purposes = tuple(p for p in effect.purposes if p in PURPOSES)
        record = ConsentRecord(notice=effect.notice, language=effect.language, purposes=purposes, given_at=now)
        await rights.store.consent(turn, record)
        return ConsentKept()
    if isinstance(effect, WithdrawConsent):
        return ConsentWithdrawn(kept=await rights.store.withdraw(turn, now))
    if isinstance(effect, ListAccesses):
        accesses, total = await rights.store.accesses(turn, rights.accesses_shown)
        await rights.store.requested(turn, "accesses", now)
        return AccessesListed(accesses=tuple(accesses), more=max(total - len(accesses), 0))
    return await export(rights, context, turn, effect, recipient, now)


async def export(
    rights: Rights, context: Context, turn: CitizenTurn, effect: ExportData, recipient: Recipient, now: datetime
) -> DataExported:
    """The citizen's data as a PDF to read and a JSON file in full, uploaded for this chat; at most one
    copy every `Rights.export_every`."""
    last = await rights.store.last_requested(turn, "export")
    if last is not None and now - last < rights.export_every:
        return DataExported(problem="too_soon")
    holdings = await rights.store.holdings(turn)
    language, texts = effect.language, context.texts
    complete = json.dumps(export_document(holdings, context.catalogue, now), ensure_ascii=False, indent=2)
    readable = readable_document(holdings, context.catalogue, texts, context.places, language, now)
    stem = f"sevamitra-my-data-{now:%Y%m%d-%H%M}"
    try:
        pdf = await rights.render(readable)
        pdf_id = await rights.upload(recipient, pdf, "application/pdf", f"{stem}.pdf")
        json_id = await rights.upload(recipient, complete.encode(), JSON_MIME, f"{stem}.json")
    except Exception:  # the channel's or the renderer's failure: the citizen is asked to try again later
        log.exception("a copy of a citizen's data could not be made or uploaded")
        return DataExported(problem="failed")
    await rights.store.requested(turn, "export", now)
    return DataExported(
        documents=(
            DocumentOut(filename=f"{stem}.pdf", media_id=pdf_id, caption=texts.get(language, "privacy.caption_pdf")),
            DocumentOut(filename=f"{stem}.json", media_id=json_id, caption=texts.get(language, "privacy.caption_json")),
        )
    )
