"""Holders' notes on verification, in the database: only the holder turns them on, one note per interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.certificates import SqlCertificates
from sevamitra.adapters.sql.stores import SqlConversations, certificate_row
from sevamitra.adapters.sql.tables import certificates, conversations, outbox
from sevamitra.core.certificates import CertificateStatement
from sevamitra.core.ports import IssuedCertificate
from tests.adapters.test_sql_spine import SEALER

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
HOLDER = "919800000001"
NUMBER = "AP-REV-ADG-2026-000001"


def certificate(number: str = NUMBER, address: str = HOLDER) -> IssuedCertificate:
    statement = CertificateStatement(
        number=number,
        kind="land-record-extract",
        service_id="revenue.adangal-extract",
        issuer="Government of Andhra Pradesh",
        issued_at=NOW,
        valid_until=None,
        holder={},
        masked_ids={},
        facts=(),
        record_hash=bytes(32),
    )
    return IssuedCertificate(
        statement=statement,
        reference=number,
        address=address,
        language="te",
        kid=bytes(8),
        cose=b"cose",
        pdf=b"%PDF",
        download_token=f"token-{number}",
        log_salt=bytes(16),
    )


async def seed(engine: AsyncEngine) -> None:
    async with engine.begin() as c:
        await c.execute(insert(certificates).values(certificate_row(certificate())))
        await c.execute(
            insert(conversations).values(
                address=HOLDER, wa_id=HOLDER, user_id=None, state=SEALER.seal(b"{}"), created_at=NOW, updated_at=NOW
            )
        )


async def watch(engine: AsyncEngine, address: str, number: str, on: bool) -> bool:
    async with SqlConversations(engine, SEALER).turn(address, NOW) as turn:
        assert turn is not None
        return await turn.watch(number, on)


def note(language: str) -> dict[str, object]:
    return {"type": "text", "body": f"checked ({language})"}


async def notes(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as c:
        return [(r.wa_id, r.payload) for r in await c.execute(select(outbox))]


async def test_only_the_holder_can_turn_on_notes_for_a_certificate(engine: AsyncEngine) -> None:
    await seed(engine)
    assert not await watch(engine, "919800000002", NUMBER, True)  # someone else's certificate
    assert not await watch(engine, HOLDER, "AP-REV-ADG-2026-999999", True)  # no such certificate
    assert await watch(engine, HOLDER, NUMBER, True)


async def test_no_note_unless_the_holder_asked(engine: AsyncEngine) -> None:
    await seed(engine)
    store = SqlCertificates(engine)
    assert not await store.alert(NUMBER, now=NOW, since=NOW - timedelta(minutes=10), compose=note)
    assert await notes(engine) == []


async def test_one_note_per_interval_in_the_holders_language(engine: AsyncEngine) -> None:
    await seed(engine)
    await watch(engine, HOLDER, NUMBER, True)
    store = SqlCertificates(engine)
    interval = timedelta(minutes=10)
    assert await store.alert(NUMBER, now=NOW, since=NOW - interval, compose=note)
    later = NOW + timedelta(minutes=3)
    assert not await store.alert(NUMBER, now=later, since=later - interval, compose=note)
    after = NOW + timedelta(minutes=11)
    assert await store.alert(NUMBER, now=after, since=after - interval, compose=note)
    assert await notes(engine) == [(HOLDER, note("te")), (HOLDER, note("te"))]


async def test_no_note_after_the_holder_turns_them_off(engine: AsyncEngine) -> None:
    await seed(engine)
    await watch(engine, HOLDER, NUMBER, True)
    await watch(engine, HOLDER, NUMBER, False)
    store = SqlCertificates(engine)
    assert not await store.alert(NUMBER, now=NOW, since=NOW - timedelta(minutes=10), compose=note)
