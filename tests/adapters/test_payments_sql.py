"""Payments and bookings over both databases: a verified payment issues one receipt, whatever
the provider redelivers or reorders; wrong amounts are refused; the last seat goes to one citizen."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.pay import order_for, record_refund, settle, start_for, start_payment
from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.payments.simulated import SimulatedGateway
from sevamitra.adapters.sql.bookings import SqlBookings
from sevamitra.adapters.sql.payments import SqlPayments
from sevamitra.adapters.sql.stores import insert_application
from sevamitra.adapters.sql.tables import (
    application_events,
    applications,
    certificates,
    log_pending,
    outbox,
    payment_events,
    payments,
)
from sevamitra.core.applications import Status, Submission
from sevamitra.core.certificates import CertificateStatement
from sevamitra.core.conversation import Context
from sevamitra.core.messages import Recipient
from sevamitra.core.payments import EventKind, PaymentEvent, PaymentRecord, PaymentStatus
from sevamitra.core.ports import NewApplication
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CITIZEN = "919800000077"
PROPERTY_TAX = "municipal.property-tax-payment"
DARSHAN = "endowments.srisailam-darshan"
FEE = 85_000  # ₹850 in paise
DECISION = {
    "outcome": "granted",
    "facts": [
        ["fact.owner", "V. Madhavi Latha (synthetic)"],
        ["fact.annual_tax", "₹1,700"],
        ["fact.amount_due", "₹850"],
        ["fact.due_date", "31-03-2027"],
    ],
    "amount_inr": 850,
}


class FakeMaker:
    """Signs and renders nothing real: the storage and the messages are under test here."""

    public_url = "http://127.0.0.1:8000"

    def sign(self, statement: CertificateStatement) -> tuple[bytes, bytes]:
        return f"cose:{statement.number}".encode(), bytes(8)

    def qr_text(self, cose: bytes) -> str:
        return cose.decode()

    async def render(
        self,
        statement: CertificateStatement,
        qr_text: str,
        language: str,
        title: Mapping[str, str],
        lines: Sequence[tuple[Mapping[str, str], str]],
    ) -> bytes:
        return b"%PDF-1.7 " + statement.number.encode()


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(ROOT), texts=load_texts(ROOT), places=load_jurisdictions(ROOT / "jurisdictions")
    )


@pytest.fixture
def store(engine: AsyncEngine) -> SqlPayments:
    return SqlPayments(engine, SEALER)


GATEWAY = SimulatedGateway("http://127.0.0.1:8000", "sim-secret")


async def apply_for(
    engine: AsyncEngine,
    context: Context,
    reference: str = "AP-MUN-PTAX-2026-000001",
    service_id: str = PROPERTY_TAX,
    answers: dict[str, Any] | None = None,
) -> str:
    service = context.catalogue.service(service_id)
    assert service is not None
    application = NewApplication(
        submission=Submission(
            service_id=service.id,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="en",
            answers=answers or {"assessment_number": "1073506411"},
        ),
        recipient=Recipient(wa_id=CITIZEN),
        reference_prefix="AP-MUN-PTAX",
        status=Status.DECIDED,
        submitted_at=NOW,
        due_at=NOW,
        fee_inr=FEE // 100,
        decision=DECISION,
        department_id=service.department_id,
    )
    async with engine.begin() as connection:
        await insert_application(connection, SEALER, CITIZEN, application, reference)
    return reference


async def order(store: SqlPayments, context: Context, reference: str, at: datetime = NOW) -> PaymentRecord:
    service = context.catalogue.service(PROPERTY_TAX)
    assert service is not None
    wanted = order_for(context.texts, "en", reference=reference, service=service, amount_paise=FEE, citizen=CITIZEN)
    return (await start_payment(store, GATEWAY, wanted, at)).payment


def event(payment: PaymentRecord, kind: EventKind, key: str, amount: int | None = FEE) -> PaymentEvent:
    return PaymentEvent(
        provider=payment.provider,
        event_key=key,
        provider_ref=payment.provider_ref,
        kind=kind,
        amount_paise=amount,
        at=NOW + timedelta(minutes=1),
        transaction_id=f"TXN-{key}",
    )


async def count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def told(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(outbox.c.payload).where(outbox.c.address == CITIZEN).order_by(outbox.c.id)
        )
        return [dict(r.payload) for r in rows]


async def status_of(engine: AsyncEngine, payment: PaymentRecord) -> tuple[str, dict[str, Any]]:
    async with engine.connect() as connection:
        row = (await connection.execute(select(payments).where(payments.c.id == payment.id))).one()
    return row.status, dict(row.detail or {})


async def test_a_verified_payment_issues_one_receipt_and_tells_the_citizen(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    reference = await apply_for(engine, context)
    payment = await order(store, context, reference)
    assert payment.link == f"http://127.0.0.1:8000/pay/sim/{payment.provider_ref}"
    assert await count(engine, certificates) == 0  # nothing before a verified payment
    (applied,) = await settle(store, [event(payment, "paid", "e1")], context, FakeMaker(), NOW)
    assert applied.outcome == "changed" and applied.payment is not None
    assert applied.payment.status is PaymentStatus.PAID and applied.payment.transaction_id == "TXN-e1"
    async with engine.connect() as connection:
        (receipt,) = (await connection.execute(select(certificates))).all()
        application = (await connection.execute(select(applications))).one()
        history = (await connection.scalars(select(application_events.c.kind))).all()
    assert receipt.reference == reference and receipt.kind == "receipt" and receipt.valid_until is None
    assert receipt.number == "AP-RCPT-2026-000001"
    assert await count(engine, log_pending, log_pending.c.number == receipt.number) == 1
    assert application.status == Status.ISSUED.value and history == ["paid"]
    text, document = await told(engine)
    assert text["kind"] == "text" and "₹850" in text["body"] and reference in text["body"]
    assert document["kind"] == "document" and document["filename"] == f"{receipt.number}.pdf"
    assert document["link"].startswith("http://127.0.0.1:8000/c/")
    paid, detail = await status_of(engine, payment)
    assert paid == "paid" and detail["transaction_id"] == "TXN-e1"


async def test_a_redelivered_webhook_issues_no_second_receipt(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    payment = await order(store, context, await apply_for(engine, context))
    paid = event(payment, "paid", "e1")
    await settle(store, [paid], context, FakeMaker(), NOW)
    messages = len(await told(engine))
    (again,) = await settle(store, [paid], context, FakeMaker(), NOW)
    (other_key,) = await settle(store, [event(payment, "paid", "e2")], context, FakeMaker(), NOW)
    assert again.outcome == "duplicate" and other_key.outcome == "ignored"
    assert await count(engine, certificates) == 1
    assert len(await told(engine)) == messages
    assert await count(engine, payment_events) == 2


async def test_concurrent_deliveries_of_one_event_settle_it_once(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    payment = await order(store, context, await apply_for(engine, context))
    paid = event(payment, "paid", "e1")
    results = await asyncio.gather(*(settle(store, [paid], context, FakeMaker(), NOW) for _ in range(4)))
    outcomes = sorted(applied.outcome for (applied,) in results)
    assert outcomes == ["changed", "duplicate", "duplicate", "duplicate"]
    assert await count(engine, certificates) == 1


async def test_a_late_failure_after_the_payment_is_ignored(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    payment = await order(store, context, await apply_for(engine, context))
    await settle(store, [event(payment, "paid", "e1")], context, FakeMaker(), NOW)
    (late,) = await settle(store, [event(payment, "failed", "e2", None)], context, FakeMaker(), NOW)
    assert late.outcome == "ignored"
    assert (await status_of(engine, payment))[0] == "paid"
    assert not any("did not go through" in m.get("body", "") for m in await told(engine))


async def test_a_payment_after_a_failure_on_the_same_order_is_accepted(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    payment = await order(store, context, await apply_for(engine, context))
    (failed,) = await settle(store, [event(payment, "failed", "e1", None)], context, FakeMaker(), NOW)
    assert failed.outcome == "changed" and (await status_of(engine, payment))[0] == "failed"
    assert "did not go through" in (await told(engine))[-1]["body"]
    (paid,) = await settle(store, [event(payment, "paid", "e2")], context, FakeMaker(), NOW)
    assert paid.outcome == "changed" and paid.previous is PaymentStatus.FAILED
    assert await count(engine, certificates) == 1


async def test_a_payment_of_the_wrong_amount_is_refused(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    payment = await order(store, context, await apply_for(engine, context))
    wrong = event(payment, "paid", "e1", FEE - 100)
    (refused,) = await settle(store, [wrong], context, FakeMaker(), NOW)
    assert refused.outcome == "rejected"
    assert (await status_of(engine, payment))[0] == "created"
    assert await count(engine, certificates) == 0 and await told(engine) == []
    async with engine.connect() as connection:
        detail = await connection.scalar(select(payment_events.c.detail))
    assert detail is not None and "refused" in detail
    (again,) = await settle(store, [wrong], context, FakeMaker(), NOW)
    assert again.outcome == "duplicate"


async def test_an_event_for_an_unknown_order_is_recorded_and_changes_nothing(
    store: SqlPayments, engine: AsyncEngine, context: Context
) -> None:
    stranger = PaymentEvent(
        provider="simulated", event_key="x1", provider_ref="sim_nobody", kind="paid", amount_paise=FEE, at=NOW
    )
    (applied,) = await settle(store, [stranger], context, FakeMaker(), NOW)
    assert applied.outcome == "unknown"
    assert await count(engine, payment_events, payment_events.c.payment_id.is_(None)) == 1


async def test_an_open_order_is_offered_again_and_a_failed_one_is_replaced(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    reference = await apply_for(engine, context)
    first = await order(store, context, reference)
    assert (await order(store, context, reference, NOW + timedelta(minutes=5))).id == first.id
    await settle(store, [event(first, "failed", "e1", None)], context, FakeMaker(), NOW)
    second = await order(store, context, reference, NOW + timedelta(minutes=6))
    assert second.id != first.id and second.provider_ref != first.provider_ref
    await settle(store, [event(second, "paid", "e2")], context, FakeMaker(), NOW)
    service = context.catalogue.service(PROPERTY_TAX)
    assert service is not None
    wanted = order_for(context.texts, "en", reference=reference, service=service, amount_paise=FEE, citizen=CITIZEN)
    started = await start_payment(store, GATEWAY, wanted, NOW + timedelta(minutes=7))
    assert started.already_paid and started.payment.id == second.id


async def test_an_order_near_its_expiry_is_not_offered_again(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    reference = await apply_for(engine, context)
    service = context.catalogue.service(PROPERTY_TAX)
    assert service is not None
    expiring = order_for(
        context.texts,
        "en",
        reference=reference,
        service=service,
        amount_paise=FEE,
        citizen=CITIZEN,
        expires_at=NOW + timedelta(minutes=3),
    )
    first = await start_payment(store, GATEWAY, expiring, NOW)
    again = await start_payment(store, GATEWAY, expiring, NOW + timedelta(minutes=1))
    assert not again.reused and again.payment.id != first.payment.id
    assert first.payment.expires_at == NOW + timedelta(minutes=3)


async def test_paying_on_two_orders_gives_one_receipt_and_owes_the_second_back(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    reference = await apply_for(engine, context)
    first = await order(store, context, reference)
    await settle(store, [event(first, "failed", "e1", None)], context, FakeMaker(), NOW)
    second = await order(store, context, reference)
    await settle(store, [event(second, "paid", "e2")], context, FakeMaker(), NOW)
    (late,) = await settle(store, [event(first, "paid", "e3")], context, FakeMaker(), NOW)
    assert late.outcome == "changed"
    assert await count(engine, certificates) == 1
    status, detail = await status_of(engine, first)
    assert status == "paid" and detail["refund_due"] == "paid twice"
    assert "will be refunded" in (await told(engine))[-1]["body"]


async def test_a_refund_is_recorded_once_and_the_citizen_told(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    reference = await apply_for(engine, context)
    payment = await order(store, context, reference)
    assert await record_refund(store, context, reference, NOW) is None  # nothing paid yet
    await settle(store, [event(payment, "paid", "e1")], context, FakeMaker(), NOW)
    refunded = await record_refund(store, context, reference, NOW + timedelta(days=1))
    assert refunded is not None and refunded.outcome == "changed"
    assert (await status_of(engine, payment))[0] == "refunded"
    assert "has been refunded" in (await told(engine))[-1]["body"]
    assert await record_refund(store, context, reference, NOW + timedelta(days=2)) is None


async def test_a_payment_starts_from_the_fee_recorded_on_the_application(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    reference = await apply_for(engine, context)
    started = await start_for(store, GATEWAY, context, reference, NOW, valid_for=timedelta(minutes=30))
    assert started is not None and not started.reused
    assert started.payment.amount_paise == FEE and started.payment.address == CITIZEN
    assert started.payment.purpose == "Property tax payment" and started.payment.expires_at == NOW + timedelta(
        minutes=30
    )
    again = await start_for(store, GATEWAY, context, reference, NOW + timedelta(minutes=1))
    assert again is not None and again.reused and again.payment.id == started.payment.id
    assert await start_for(store, GATEWAY, context, "AP-MUN-PTAX-2026-999999", NOW) is None
    async with engine.begin() as connection:
        await connection.execute(applications.update().values(fee_inr=0))
    assert await start_for(store, GATEWAY, context, reference, NOW) is None  # nothing to pay


# ---------------------------------------------------------------- bookings


async def test_exactly_one_of_eight_concurrent_holds_takes_the_last_seat(engine: AsyncEngine) -> None:
    bookings = SqlBookings(engine)
    resource = "srisailam-darshan:2026-12-05:06:00"
    await bookings.ensure_slot(resource, 3)
    assert [await bookings.hold(resource, f"R{n}", NOW) for n in (1, 2)] == [1, 2]
    seats = await asyncio.gather(*(bookings.hold(resource, f"C{n}", NOW) for n in range(8)))
    assert sorted(seats, key=lambda s: s or 0) == [None] * 7 + [3]


async def test_released_seats_are_taken_again(engine: AsyncEngine) -> None:
    bookings = SqlBookings(engine)
    await bookings.ensure_slot("room-12", 2)
    assert await bookings.hold("room-12", "A", NOW) == 1
    assert await bookings.hold("room-12", "A", NOW) == 1  # holding twice keeps the same seat
    assert await bookings.hold("room-12", "B", NOW) == 2
    assert await bookings.hold("room-12", "C", NOW) is None
    assert await bookings.release("A") and not await bookings.release("A")
    assert await bookings.hold("room-12", "C", NOW) == 1
    assert await bookings.seat_of("C") == ("room-12", 1, "held")
    assert await bookings.hold("room-12", "A", NOW) is None
    assert await bookings.confirm("B", NOW) == "confirmed"
    assert await bookings.confirm("nobody", NOW) == "none"
    assert await bookings.hold("unknown-resource", "D", NOW) is None


async def test_a_slot_never_shrinks_below_its_seats_taken(engine: AsyncEngine) -> None:
    bookings = SqlBookings(engine)
    await bookings.ensure_slot("bus-1", 2)
    await bookings.hold("bus-1", "A", NOW)
    await bookings.hold("bus-1", "B", NOW)
    await bookings.ensure_slot("bus-1", 1)
    assert await bookings.hold("bus-1", "C", NOW) is None
    await bookings.ensure_slot("bus-1", 3)
    assert await bookings.hold("bus-1", "C", NOW) == 3


async def test_a_paid_booking_confirms_its_held_seat(engine: AsyncEngine, store: SqlPayments, context: Context) -> None:
    bookings = SqlBookings(engine)
    reference = await apply_for(engine, context, "AP-END-SRS-2026-000001", DARSHAN, {"visit_date": "2026-12-05"})
    await bookings.ensure_slot("srisailam:2026-12-05", 10)
    assert await bookings.hold("srisailam:2026-12-05", reference, NOW) == 1
    payment = await order(store, context, reference)
    await settle(store, [event(payment, "paid", "e1")], context, FakeMaker(), NOW)
    assert await bookings.seat_of(reference) == ("srisailam:2026-12-05", 1, "confirmed")
    assert "is confirmed" in (await told(engine))[-1]["body"]


async def test_a_seat_released_before_the_payment_is_held_again_when_free(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    bookings = SqlBookings(engine)
    reference = await apply_for(engine, context, "AP-END-SRS-2026-000001", DARSHAN, {"visit_date": "2026-12-05"})
    await bookings.ensure_slot("srisailam:2026-12-05", 1)
    await bookings.hold("srisailam:2026-12-05", reference, NOW)
    await bookings.release(reference)
    payment = await order(store, context, reference)
    await settle(store, [event(payment, "paid", "e1")], context, FakeMaker(), NOW)
    assert await bookings.seat_of(reference) == ("srisailam:2026-12-05", 1, "confirmed")
    assert await bookings.hold("srisailam:2026-12-05", "someone-else", NOW) is None


async def test_a_seat_taken_by_another_before_the_payment_is_owed_back(
    engine: AsyncEngine, store: SqlPayments, context: Context
) -> None:
    bookings = SqlBookings(engine)
    late = await apply_for(engine, context, "AP-END-SRS-2026-000001", DARSHAN, {"visit_date": "2026-12-05"})
    await bookings.ensure_slot("srisailam:2026-12-05", 1)
    await bookings.hold("srisailam:2026-12-05", late, NOW)
    await bookings.release(late)
    assert await bookings.hold("srisailam:2026-12-05", "AP-END-SRS-2026-000002", NOW) == 1
    payment = await order(store, context, late)
    await settle(store, [event(payment, "paid", "e1")], context, FakeMaker(), NOW)
    status, detail = await status_of(engine, payment)
    assert status == "paid" and detail["refund_due"] == "seat lost"
    assert "will be refunded" in (await told(engine))[-1]["body"]
    assert await count(engine, certificates) == 1  # the money was taken: its receipt still goes out
