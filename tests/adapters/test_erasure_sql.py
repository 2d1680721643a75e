"""Erasure on SQLite and PostgreSQL: a citizen's request recorded in their turn, carried out in one
transaction when due (held back by an open application, undone by a crash, done once), statistics
and other citizens untouched; Aadhaar numbers masked in processed messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.erasure import erase_due, mask_processed_messages
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.erasure import SqlErasures
from sevamitra.adapters.sql.stores import SqlConversations
from sevamitra.adapters.sql.tables import (
    application_events,
    applications,
    attachments,
    certificates,
    conversations,
    erasure_requests,
    inbox,
    outbox,
    payment_events,
    payments,
    ratings,
    subscriptions,
)
from sevamitra.core.idnumbers import verhoeff_digit

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)

NOW = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
MONTH = timedelta(days=30)
SEALER = AesGcmSealer.from_secret("erasure-test-key")
ERASED, KEPT = "919800000101", "919800000202"  # the citizen who asks, and another who does not
AADHAAR = "34567890123" + verhoeff_digit("34567890123")
SPACED = f"{AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]}"
NAME = "Kothapalli Lakshmi"


def wire(address: str, text: str, message_id: str) -> dict[str, Any]:
    return {
        "metadata": {"phone_number_id": "106540352242922"},
        "contact": {"wa_id": address, "profile": {"name": NAME}},
        "message": {"from": address, "id": message_id, "type": "text", "text": {"body": text}},
    }


async def citizen(engine: AsyncEngine, address: str, n: int, *, status: str = "issued") -> str:
    """A citizen with something in every table that holds personal data; returns their reference."""
    reference = f"AP-REV-INC-2026-{n:06d}"
    answers = {"name": NAME, "aadhaar": AADHAAR, "photo": {"media_id": f"media-{n}", "mime_type": "image/jpeg"}}
    async with engine.begin() as c:
        await c.execute(
            insert(inbox),
            [
                {
                    "key": f"wamid.{n}.{i}",
                    "kind": "message",
                    "address": address,
                    "fragment": wire(address, text, f"wamid.{n}.{i}"),
                    "received_at": NOW,
                    "state": "done",
                    "attempts": 1,
                }
                for i, text in enumerate(("hi", SPACED))
            ]
            + [
                {
                    "key": f"status:wamid.out.{n}:read",
                    "kind": "status",
                    "address": address,
                    "fragment": {"status": {"id": f"wamid.out.{n}", "recipient_id": address, "status": "read"}},
                    "received_at": NOW,
                    "state": "done",
                    "attempts": 1,
                }
            ],
        )
        state = {"language": "en", "screen": "form", "draft": {"answers": {"aadhaar": AADHAAR}}}
        await c.execute(
            insert(conversations).values(
                address=address,
                wa_id=address,
                state=SEALER.seal(json.dumps(state).encode()),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await c.execute(
            insert(outbox),
            [
                {
                    "address": address,
                    "wa_id": address,
                    "payload": {"kind": "text", "body": f"Thank you, {NAME}"},
                    "state": state_,
                    "attempts": 1,
                    "next_attempt_at": NOW,
                    "created_at": NOW,
                    "message_id": f"wamid.out.{n}.{state_}",
                    "delivery": "read" if state_ == "sent" else None,
                }
                for state_ in ("sent", "pending")
            ],
        )
        await c.execute(
            insert(applications).values(
                reference=reference,
                service_id="revenue.income-certificate",
                service_version=1,
                definition_hash="0" * 64,
                address=address,
                wa_id=address,
                language="en",
                answers=SEALER.seal(json.dumps(answers).encode()),
                status=status,
                decision={"outcome": "granted", "facts": [["fact.owner", NAME]], "amount_inr": 25},
                fee_inr=25,
                submitted_at=NOW - MONTH,
                due_at=NOW,
                updated_at=NOW,
                department_id="revenue",
                district="ntr",
                latitude=16.5,
                longitude=80.6,
            )
        )
        await c.execute(
            insert(application_events).values(
                reference=reference,
                at=NOW,
                actor="tahsildar.vjw",
                kind="returned",
                detail={"desk": "tahsildar@ntr", "fields": ["photo"], "message": f"{NAME}, the photo is blurred"},
            )
        )
        await c.execute(
            insert(attachments).values(
                reference=reference, officer_id=1, content_type="image/jpeg", data=b"\xff\xd8", at=NOW
            )
        )
        await c.execute(insert(ratings).values(reference=reference, score=4, comment=f"{NAME} was helped", at=NOW))
        paid = await c.execute(
            insert(payments)
            .values(
                reference=reference,
                address=address,
                provider="simulated",
                provider_ref=f"order_{n}",
                amount_paise=2500,
                status="paid",
                link=f"https://pay.example/{n}",
                created_at=NOW,
                updated_at=NOW,
                detail={"purpose": "fee", "message": {"body": f"Pay for {NAME}"}},
            )
            .returning(payments.c.id)
        )
        await c.execute(
            insert(payment_events).values(
                event_key=f"evt_{n}", payment_id=paid.scalar_one(), kind="paid", at=NOW, detail={"vpa": f"payer{n}@upi"}
            )
        )
        await c.execute(
            insert(certificates).values(
                number=reference,
                reference=reference,
                service_id="revenue.income-certificate",
                kind="revenue-certificate",
                address=address,
                language="en",
                issued_at=NOW,
                kid="00" * 8,
                cose=b"signed claims",
                pdf=b"%PDF-1.7 " + NAME.encode(),
                download_token=f"token-{n}",
                status="valid",
                alerts=True,
                log_salt=bytes(16),
            )
        )
        await c.execute(
            insert(subscriptions).values(
                address=address, topic="weather", area="ntr", wa_id=address, language="en", created_at=NOW
            )
        )
    return reference


async def everything_of(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    tables = [conversations, applications, application_events, attachments, ratings, payments, payment_events]
    tables += [certificates, subscriptions, inbox, outbox]
    async with engine.connect() as c:
        return {t.name: [tuple(r) for r in await c.execute(select(t).order_by(*t.primary_key.columns))] for t in tables}


async def statistics(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    """What the dashboard counts by: service, district, status and month."""
    async with engine.connect() as c:
        rows = await c.execute(
            select(
                applications.c.service_id, applications.c.district, applications.c.status, applications.c.submitted_at
            )
        )
        counted: dict[tuple[Any, ...], int] = {}
        for r in rows:
            key = (r.service_id, r.district, r.status, r.submitted_at.strftime("%Y-%m"))
            counted[key] = counted.get(key, 0) + 1
        return sorted((*key, count) for key, count in counted.items())


async def ask(engine: AsyncEngine, address: str, now: datetime = NOW) -> Any:
    async with SqlConversations(engine, SEALER).turn(address, now) as turn:
        assert turn is not None
        return await turn.request_erasure(now, MONTH)


class BrokenSealer:
    """A crash half-way through an erasure: sealing the emptied answers fails."""

    def seal(self, plain: bytes) -> str:
        raise RuntimeError("the disk went away")

    def open(self, sealed: str) -> bytes:
        raise RuntimeError("the disk went away")


async def test_a_request_is_recorded_once_and_falls_due_after_the_retention_period(engine: AsyncEngine) -> None:
    await citizen(engine, ERASED, 1)
    first = await ask(engine, ERASED)
    assert (first.requested_at, first.due_at, first.open_applications, first.again) == (NOW, NOW + MONTH, 0, False)
    again = await ask(engine, ERASED, NOW + timedelta(days=2))
    assert (again.requested_at, again.due_at, again.again) == (NOW, NOW + MONTH, True)
    async with engine.connect() as c:
        assert await c.scalar(select(func.count()).select_from(erasure_requests)) == 1
    store = SqlErasures(engine, SEALER)
    assert await store.due(NOW + MONTH - timedelta(seconds=1), 10) == []
    assert len(await store.due(NOW + MONTH, 10)) == 1


async def test_a_due_erasure_leaves_statistics_and_other_citizens_and_nothing_personal(engine: AsyncEngine) -> None:
    await citizen(engine, KEPT, 2)
    others = await everything_of(engine)
    reference = await citizen(engine, ERASED, 1)
    await ask(engine, ERASED)
    counted = await statistics(engine)

    assert await erase_due(SqlErasures(engine, SEALER), NOW + MONTH, MONTH, limit=10) == 1

    after = await everything_of(engine)
    assert await statistics(engine) == counted
    for name, rows in others.items():
        assert all(row in after[name] for row in rows), name  # the other citizen's rows, every column as it was
    async with engine.connect() as c:
        unsent = (await c.execute(select(outbox).where(outbox.c.state == "pending", outbox.c.address == ERASED))).one()
    assert unsent.payload["body"] == f"Thank you, {NAME}"  # still on its way: left to be sent
    erased = {name: [r for r in rows if r not in others[name] and r != tuple(unsent)] for name, rows in after.items()}
    flat = repr(erased)
    for personal in (ERASED, NAME, AADHAAR, SPACED, "payer1@upi", "pay.example", "token-1", "wamid.1.", "wamid.out.1."):
        assert personal not in flat, personal
    assert erased["conversations"] == [] and erased["attachments"] == [] and erased["subscriptions"] == []
    async with engine.connect() as c:
        (request,) = (await c.execute(select(erasure_requests))).all()
        assert (request.status, request.address, request.done_at) == ("done", None, NOW + MONTH)
        assert request.erased["inbox"] == 3 and request.erased["outbox"] == 1 and request.erased["applications"] == 1
        standin = f"erased:{request.id}"
        app = (await c.execute(select(applications).where(applications.c.reference == reference))).one()
        assert (app.address, app.wa_id, app.latitude, app.status, app.district) == (
            standin,
            None,
            None,
            "issued",
            "ntr",
        )
        assert json.loads(SEALER.open(app.answers)) == {}
        assert app.decision == {"outcome": "granted", "amount_inr": 25, "erased": True}
        cert = (await c.execute(select(certificates).where(certificates.c.number == reference))).one()
        assert (cert.pdf, cert.cose, cert.alerts, cert.log_salt) == (b"", b"signed claims", False, bytes(16))
        rating = (await c.execute(select(ratings).where(ratings.c.reference == reference))).one()
        assert (rating.score, rating.comment) == (4, None)
        event = (await c.execute(select(application_events).where(application_events.c.reference == reference))).one()
        assert event.detail == {"desk": "tahsildar@ntr", "fields": ["photo"]}


async def test_a_crash_half_way_leaves_everything_and_the_next_round_finishes(engine: AsyncEngine) -> None:
    await citizen(engine, ERASED, 1)
    await ask(engine, ERASED)
    before = await everything_of(engine)
    with pytest.raises(RuntimeError, match="disk went away"):
        await erase_due(SqlErasures(engine, BrokenSealer()), NOW + MONTH, MONTH, limit=10)
    assert await everything_of(engine) == before
    store = SqlErasures(engine, SEALER)
    assert await erase_due(store, NOW + MONTH, MONTH, limit=10) == 1
    erased = await everything_of(engine)
    assert await erase_due(store, NOW + 2 * MONTH, MONTH, limit=10) == 0  # done once
    async with engine.connect() as c:
        (request_id,) = (await c.execute(select(erasure_requests.c.id))).scalars()
    assert await store.carry_out(request_id, NOW + 2 * MONTH, MONTH) is None
    assert await everything_of(engine) == erased


async def test_an_application_still_open_holds_the_erasure_until_decided_then_for_the_retention_period(
    engine: AsyncEngine,
) -> None:
    reference = await citizen(engine, ERASED, 1, status="under_review")
    told = await ask(engine, ERASED)
    assert told.open_applications == 1
    store = SqlErasures(engine, SEALER)
    (request_id,) = await store.due(NOW + MONTH, 10)
    held = await store.carry_out(request_id, NOW + MONTH, MONTH)
    assert held is not None and not held.done and held.postponed_to == NOW + MONTH + timedelta(days=1)
    decided = NOW + MONTH + timedelta(hours=3)
    async with engine.begin() as c:
        await c.execute(
            update(applications)
            .where(applications.c.reference == reference)
            .values(status="approved", updated_at=decided, decided_at=decided)
        )
    assert await erase_due(store, NOW + MONTH + timedelta(days=1), MONTH, limit=10) == 1  # put off again
    async with engine.connect() as c:
        assert await c.scalar(select(erasure_requests.c.due_at)) == decided + MONTH
    assert await erase_due(store, decided + MONTH, MONTH, limit=10) == 1
    async with engine.connect() as c:
        assert await c.scalar(select(erasure_requests.c.status)) == "done"


async def test_aadhaar_numbers_are_masked_in_messages_once_processed_and_not_before(engine: AsyncEngine) -> None:
    rows = [
        ("done", f"my aadhaar {SPACED}"),
        ("pending", AADHAAR),
        ("done", f"again {AADHAAR}"),
        ("done", "no number here"),
    ]
    async with engine.begin() as c:
        ids = [
            (
                await c.execute(
                    insert(inbox)
                    .values(
                        key=f"wamid.m{i}",
                        kind="message",
                        address=KEPT,
                        fragment=wire(KEPT, text, f"wamid.m{i}"),
                        received_at=NOW,
                        state=state,
                        attempts=0,
                    )
                    .returning(inbox.c.id)
                )
            ).scalar_one()
            for i, (state, text) in enumerate(rows)
        ]
    store = SqlErasures(engine, SEALER)

    async def bodies() -> list[str]:
        async with engine.connect() as c:
            found = await c.execute(select(inbox.c.fragment).order_by(inbox.c.id))
            return [f["message"]["text"]["body"] for f in found.scalars()]

    assert await mask_processed_messages(store, NOW, limit=100) == 3  # two masked, one passed by the mark
    masked = f"XXXX XXXX {AADHAAR[-4:]}"
    assert await bodies() == [f"my aadhaar {masked}", AADHAAR, f"again {masked}", "no number here"]
    async with engine.begin() as c:  # the worker answers the pending one
        await c.execute(update(inbox).where(inbox.c.id == ids[1]).values(state="done"))
    assert await mask_processed_messages(store, NOW, limit=100) == 4  # one masked, three passed by the mark
    assert await bodies() == [f"my aadhaar {masked}", masked, f"again {masked}", "no number here"]
    assert await mask_processed_messages(store, NOW, limit=100) == 0
    async with engine.connect() as c:
        assert (await c.execute(select(inbox.c.fragment).where(inbox.c.id == ids[0]))).scalar_one()["message"][
            "from"
        ] == KEPT
