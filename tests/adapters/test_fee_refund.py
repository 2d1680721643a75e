"""A reviewed service's fee is asked for with the application, and paid back when the application is
rejected where the catalogue marks the fee refundable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import respond
from sevamitra.actions.pay import order_for, refund_on_rejection, settle, start_payment
from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.payments.simulated import SimulatedGateway
from sevamitra.adapters.sql.payments import SqlPayments
from sevamitra.adapters.sql.stores import insert_application
from sevamitra.adapters.sql.tables import outbox, payments
from sevamitra.core.applications import Status, Submission
from sevamitra.core.conversation import Context, ConversationState
from sevamitra.core.messages import ChoiceIn, CtaUrlOut, Outbound, Recipient
from sevamitra.core.payments import Order, PaymentEvent, PaymentStatus
from sevamitra.core.ports import CitizenTurn, NewApplication
from sevamitra.core.validation import Valid, example_answer, validate
from sevamitra.core.workflow import open_case
from sevamitra.testing.memory import MemoryTurn
from tests.adapters.test_payments_sql import FakeMaker
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CITIZEN = "919800000099"
GATEWAY = SimulatedGateway("http://127.0.0.1:8000", "sim-secret")
PERMISSION, LICENCE = "municipal.building-permission", "municipal.trade-licence-new"


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(ROOT), texts=load_texts(ROOT), places=load_jurisdictions(ROOT / "jurisdictions")
    )


def answers_for(context: Context, service_id: str) -> dict[str, Any]:
    service = context.catalogue.service(service_id)
    assert service is not None
    today = NOW.date()
    found: dict[str, Any] = {}
    for spec in service.fields:
        result = validate(spec, example_answer(spec, today=today), today=today)
        assert isinstance(result, Valid), (spec.id, result)
        found[spec.id] = list(result.value) if isinstance(result.value, tuple) else result.value
    return found


async def ask_by_link(turn: CitizenTurn, order: Order, language: str, now: datetime) -> Outbound:
    return CtaUrlOut(body=order.message or "", display_text="Pay", url=f"https://pay.example/{order.reference}")


async def test_a_reviewed_service_asks_for_its_fee_with_the_application(context: Context) -> None:
    service = context.catalogue.service(PERMISSION)
    assert service is not None
    draft = {
        "service": service.id,
        "version": service.version,
        "hash": service.definition_hash,
        "index": len(service.fields),
        "answers": answers_for(context, PERMISSION),
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
    }
    state = ConversationState(language="en", screen="confirm", service_id=service.id, draft=draft, last_active=NOW)
    tap = ChoiceIn(message_id="m", sender=CITIZEN, sent_at=NOW, choice_id="form:submit", title="")
    turn = MemoryTurn()
    _, replies = await respond(
        context, NoRegistry(), turn, state, tap, Recipient(wa_id=CITIZEN), NOW, ask_payment=ask_by_link
    )
    (stored,) = turn.stored
    assert stored[1].fee_inr == 1000 and stored[1].case is not None  # on an officer's desk, fee asked
    (link,) = [r for r in replies if isinstance(r, CtaUrlOut)]
    assert link.url == f"https://pay.example/{stored[0]}" and "1,000" in link.body


class NoRegistry:
    async def lookup(self, name: str, service_id: str, keys: dict[str, Any]) -> None:
        return None


async def paid_application(engine: AsyncEngine, context: Context, service_id: str, reference: str) -> SqlPayments:
    service = context.catalogue.service(service_id)
    assert service is not None
    answers = answers_for(context, service_id)
    application = NewApplication(
        submission=Submission(
            service_id=service.id,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="en",
            answers=answers,
        ),
        recipient=Recipient(wa_id=CITIZEN),
        reference_prefix="AP-MUN-X",
        status=Status.REJECTED,
        submitted_at=NOW,
        due_at=NOW + timedelta(days=30),
        fee_inr=service.fee.amount_inr,
        case=open_case(service, answers, NOW),
        department_id=service.department_id,
    )
    async with engine.begin() as connection:
        await insert_application(connection, SEALER, CITIZEN, application, reference)
    store = SqlPayments(engine, SEALER)
    amount = (service.fee.amount_inr or 0) * 100
    wanted = order_for(context.texts, "en", reference=reference, service=service, amount_paise=amount, citizen=CITIZEN)
    payment = (await start_payment(store, GATEWAY, wanted, NOW)).payment
    paid = PaymentEvent(
        provider=payment.provider,
        event_key=f"paid-{reference}",
        provider_ref=payment.provider_ref,
        kind="paid",
        amount_paise=amount,
        at=NOW,
        transaction_id="TXN-1",
    )
    await settle(store, [paid], context, FakeMaker(), NOW)
    return store


async def status_of(engine: AsyncEngine, reference: str) -> str:
    async with engine.connect() as connection:
        return str(await connection.scalar(select(payments.c.status).where(payments.c.reference == reference)))


async def test_a_rejected_applications_refundable_fee_goes_back_and_the_citizen_is_told(
    engine: AsyncEngine, context: Context
) -> None:
    store = await paid_application(engine, context, PERMISSION, "AP-MUN-X-2026-000001")
    refunded = await refund_on_rejection(store, context, "AP-MUN-X-2026-000001", NOW + timedelta(days=3))
    assert refunded is not None and refunded.outcome == "changed"
    assert await status_of(engine, "AP-MUN-X-2026-000001") == PaymentStatus.REFUNDED.value
    assert await refund_on_rejection(store, context, "AP-MUN-X-2026-000001", NOW + timedelta(days=4)) is None
    async with engine.connect() as connection:
        bodies = [str(r.payload.get("body", "")) for r in await connection.execute(select(outbox.c.payload))]
    assert any("refund" in b.casefold() for b in bodies)


async def test_a_fee_the_catalogue_does_not_mark_refundable_stays_paid(engine: AsyncEngine, context: Context) -> None:
    store = await paid_application(engine, context, LICENCE, "AP-MUN-X-2026-000002")
    assert await refund_on_rejection(store, context, "AP-MUN-X-2026-000002", NOW + timedelta(days=3)) is None
    assert await status_of(engine, "AP-MUN-X-2026-000002") == PaymentStatus.PAID.value
