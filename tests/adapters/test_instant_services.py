"""Instant services decide at once against the shipped registries, through the turn action."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sevamitra.actions.converse import respond
from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, load_texts
from sevamitra.adapters.certs import verify_qr_text
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.qr_scan import qr_texts
from sevamitra.adapters.registry_files import FileRegistry
from sevamitra.bootstrap import migrate
from sevamitra.core.applications import Status
from sevamitra.core.conversation import Context, ConversationState
from sevamitra.core.messages import ChoiceIn, Inbound, Recipient, Sender, TextIn
from sevamitra.core.ports import CertificateMaker
from sevamitra.core.transcript import render
from sevamitra.testing.memory import MemoryTurn

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CITIZEN = Sender(wa_id="919000000001")


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(DEFAULT_CATALOGUE_DIR),
        texts=load_texts(DEFAULT_CATALOGUE_DIR),
        places=load_jurisdictions(DEFAULT_CATALOGUE_DIR / "jurisdictions"),
    )


class Session:
    def __init__(self, context: Context) -> None:
        self.context, self.turn, self.n = context, MemoryTurn(), 0
        self.state = ConversationState(language="en", screen="departments", last_active=NOW)
        self.registry = FileRegistry(DEFAULT_CATALOGUE_DIR / "registries")
        self.maker: CertificateMaker | None = None

    async def send(self, event: Inbound) -> str:
        self.state, replies = await respond(
            self.context, self.registry, self.turn, self.state, event, Recipient.of(CITIZEN), NOW, maker=self.maker
        )
        return "\n".join(render(r) for r in replies)

    async def says(self, text: str) -> str:
        self.n += 1
        return await self.send(TextIn(message_id=f"m{self.n}", sender=CITIZEN, sent_at=NOW, body=text))

    async def taps(self, choice_id: str) -> str:
        self.n += 1
        return await self.send(
            ChoiceIn(message_id=f"m{self.n}", sender=CITIZEN, sent_at=NOW, choice_id=choice_id, title="")
        )


async def test_property_tax_due_is_found_at_once_with_its_amount(context: Context) -> None:
    session = Session(context)
    await session.taps("svc:municipal.property-tax-payment")
    await session.taps("form:start")
    await session.says("1073506411")
    reply = await session.taps("form:submit")
    assert "₹850" in reply and "AP-MUN-" in reply
    ((reference, application),) = session.turn.stored
    assert application.status is Status.DECIDED and application.fee_inr == 850
    assert reference.startswith("AP-MUN-") and reference.endswith("-000001")


async def test_an_unknown_assessment_is_not_found_and_shows_no_reference(context: Context) -> None:
    session = Session(context)
    await session.taps("svc:municipal.property-tax-payment")
    await session.taps("form:start")
    await session.says("1000000000")
    reply = await session.taps("form:submit")
    assert "could not find" in reply and "AP-MUN-" not in reply
    ((_, application),) = session.turn.stored
    assert application.status is Status.NOT_FOUND


async def test_an_adangal_extract_names_the_pattadar_of_the_survey_number(context: Context) -> None:
    session = Session(context)
    await session.taps("svc:revenue.adangal-extract")
    await session.taps("form:start")
    for choice in ("place:ntr", "place:ntr/vijayawada-rural", "place:ntr/vijayawada-rural/nidamanuru"):
        await session.taps(choice)
    await session.says("123/4A")
    reply = await session.taps("form:submit")
    assert "K. Ramaiah (synthetic)" in reply and "2.35" in reply


async def test_an_instant_extract_is_issued_as_a_signed_certificate_document(context: Context, tmp_path: Path) -> None:
    from sevamitra.bootstrap import build
    from sevamitra.settings import Settings
    from sevamitra.testing.clock import FixedClock

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    await asyncio.to_thread(migrate, settings)
    platform = build(settings, clock=FixedClock(NOW))  # the key and the statement share one clock
    await platform.start()
    try:
        session = Session(context)
        session.maker = platform.certifier
        await session.taps("svc:revenue.adangal-extract")
        await session.taps("form:start")
        for choice in ("place:ntr", "place:ntr/vijayawada-rural", "place:ntr/vijayawada-rural/nidamanuru"):
            await session.taps(choice)
        await session.says("123/4A")
        reply = await session.taps("form:submit")
    finally:
        await platform.aclose()
    assert "<DocumentOut" in reply
    (certificate,) = session.turn.certificates
    assert certificate.statement.number.startswith("AP-REV-")
    (text,) = qr_texts(certificate.pdf)
    checked = verify_qr_text(text, platform.keys.trust, {}.get, NOW)
    assert checked.verdict.value == "valid"
    assert ("fact.pattadar", "K. Ramaiah (synthetic)") in checked.statement.facts or any(
        "K. Ramaiah" in value
        for _, value in checked.statement.facts  # type: ignore[union-attr]
    )
