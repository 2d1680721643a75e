"""Payments: asking a citizen to pay a fee, and settling what the provider reports.

Nothing is issued before a verified paid event. When one arrives, the receipt (a signed PDF
with the same signed QR as certificates, logged in the transparency log), the messages to the
citizen and the booked seat's confirmation are written in the transaction that records the event,
so a redelivered webhook finds it recorded and does nothing twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sevamitra.actions.issue import MAX_FACTS, fact_lines, issue, office_of, statement_for
from sevamitra.core.catalogue import Service
from sevamitra.core.conversation import Context
from sevamitra.core.messages import CtaUrlOut, DocumentOut, Outbound, TextOut, outbound_from_dict, outbound_to_dict
from sevamitra.core.payments import (
    Applied,
    Order,
    PayingApplication,
    PaymentEvent,
    PaymentProvider,
    PaymentRecord,
    Payments,
    PaymentStatus,
    PaymentTransaction,
    ProviderError,
    format_paise,
    pay_token,
)
from sevamitra.core.ports import CertificateMaker, CitizenTurn
from sevamitra.core.texts import Texts

log = logging.getLogger(__name__)

INDIA = timedelta(hours=5, minutes=30)
REUSE_MARGIN = timedelta(minutes=5)  # a link about to expire is not offered again
RECEIPT_KIND = "receipt"
# Decision facts about what was due: the receipt states what was paid instead.
UNPRINTED_FACTS = frozenset(
    {"fact.amount_due", "fact.due_date", "fact.nothing_due", "fact.rebate_until", "fact.amount_after_rebate"}
)
# What a receipt must carry when the decision says more than fits: the place booked, the rebate given.
FIRST_ON_RECEIPT = ("fact.slot", "fact.seat", "fact.visit_date", "fact.journey_date", "fact.persons", "fact.rebate")

# How a turn asks for a fee due now: (turn, order, language, now) -> the message to send.
AskPayment = Callable[[CitizenTurn, Order, str, datetime], Awaitable[Outbound]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """A payment the citizen can make now: its link (or, for WhatsApp payments, the message to send)."""

    payment: PaymentRecord
    reused: bool = False  # an open order of the same reference, offered again

    @property
    def link(self) -> str | None:
        return self.payment.link

    @property
    def already_paid(self) -> bool:
        return self.payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)


def order_for(
    texts: Texts,
    language: str,
    *,
    reference: str,
    service: Service,
    amount_paise: int,
    citizen: str,
    expires_at: datetime | None = None,
) -> Order:
    """The order for an application's fee, worded in the citizen's language."""
    name = service.name(language)
    message = texts.get(language, "pay.request", amount=format_paise(amount_paise), service=name, reference=reference)
    return Order(
        reference=reference,
        amount_paise=amount_paise,
        purpose=name,
        citizen=citizen,
        message=message,
        expires_at=expires_at,
    )


async def start_payment(payments: Payments, provider: PaymentProvider, order: Order, now: datetime) -> Started:
    """An order at the provider for `order`, unless the reference is paid or has an open order of the
    same amount with this provider (offered again rather than a second order). A failed or
    expired order is retried as a new order."""
    latest = await payments.latest_for(order.reference)
    if latest is not None:
        if latest.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            return Started(payment=latest, reused=True)
        if (
            latest.open_at(now + REUSE_MARGIN)
            and latest.provider == provider.name
            and latest.amount_paise == order.amount_paise
        ):
            return Started(payment=latest, reused=True)
    created = await provider.create(order)
    record = await payments.create(
        reference=order.reference,
        address=order.citizen,
        provider=provider.name,
        provider_ref=created.provider_ref,
        amount_paise=order.amount_paise,
        link=created.link,
        now=now,
        expires_at=order.expires_at,
        purpose=order.purpose,
        message=created.message,
    )
    return Started(payment=record)


async def start_for(
    payments: Payments,
    provider: PaymentProvider,
    context: Context,
    reference: str,
    now: datetime,
    *,
    valid_for: timedelta | None = None,
) -> Started | None:
    """`start_payment` for an application's recorded fee; None when there is no such application
    or nothing to pay."""
    payable = await payments.payable(reference)
    service = context.catalogue.service(payable.service_id) if payable else None
    if payable is None or not payable.fee_paise or service is None:
        return None
    order = order_for(
        context.texts,
        payable.language,
        reference=reference,
        service=service,
        amount_paise=payable.fee_paise,
        citizen=payable.address,
        expires_at=now + valid_for if valid_for else None,
    )
    return await start_payment(payments, provider, order, now)


def pay_link(public_url: str, key: str, reference: str) -> str:
    """The platform's own link that starts (or resumes) the payment of `reference` when opened."""
    return f"{public_url.rstrip('/')}/pay/{reference}?t={pay_token(key, reference)}"


def link_message(texts: Texts, language: str, order: Order, link: str) -> CtaUrlOut:
    """The chat message that carries a payment link: the request, and a "Pay" button."""
    return CtaUrlOut(body=order.message, display_text=texts.get(language, "pay.button"), url=link)


async def ask_by_link(
    texts: Texts, public_url: str, key: str, turn: CitizenTurn, order: Order, language: str, now: datetime
) -> Outbound:
    """A "Pay" button to the platform's pay link: the order is made at the provider once it is opened."""
    return link_message(texts, language, order, pay_link(public_url, key, order.reference))


async def ask_in_chat(
    provider: PaymentProvider, turn: CitizenTurn, order: Order, language: str, now: datetime
) -> Outbound:
    """An order paid inside the chat (WhatsApp payments), stored in the turn's transaction: the payment
    exists exactly when the message that asks for it is queued."""
    created = await provider.create(order)
    if created.message is None:
        raise ProviderError(f"{provider.name} gave no message to pay in the chat")
    await turn.add_payment(
        reference=order.reference,
        provider=provider.name,
        provider_ref=created.provider_ref,
        amount_paise=order.amount_paise,
        now=now,
        purpose=order.purpose,
        message=created.message,
    )
    return outbound_from_dict(dict(created.message))


async def settle(
    payments: Payments,
    events: Iterable[PaymentEvent],
    context: Context,
    maker: CertificateMaker | None,
    now: datetime,
) -> list[Applied]:
    """Apply verified provider events, each once; on a payment, issue its receipt and tell the citizen."""
    on_change = functools.partial(_on_change, context, maker, now)
    return [await payments.apply(event, now, on_change) for event in events]


async def record_refund(payments: Payments, context: Context, reference: str, now: datetime) -> Applied | None:
    """Record the refund of a reference's fee and tell the citizen. None when unpaid."""
    return await payments.refund(reference, now, functools.partial(_on_change, context, None, now))


async def refund_on_rejection(payments: Payments, context: Context, reference: str, now: datetime) -> Applied | None:
    """A rejected application's fee goes back where the catalogue says it is refundable (recorded,
    and the citizen told); None when it is not refundable or was never paid."""
    payable = await payments.payable(reference)
    service = context.catalogue.service(payable.service_id) if payable else None
    if service is None or not service.fee.refundable:
        return None
    return await record_refund(payments, context, reference, now)


async def _on_change(context: Context, maker: CertificateMaker | None, now: datetime, tx: PaymentTransaction) -> None:
    application, payment = tx.application, tx.payment
    if application is None:
        log.warning("payment %s is for %s, which is no application: no one to tell", payment.id, payment.reference)
        return
    service = context.catalogue.service(application.service_id)
    language = application.language
    params = {
        "amount": format_paise(payment.amount_paise),
        "reference": application.reference,
        "service": service.name(language) if service else application.service_id,
    }

    async def tell(key: str) -> None:
        text = TextOut(body=context.texts.get(language, key, **params))
        await tx.notify(application.recipient, application.address, outbound_to_dict(text))

    detail = {"amount_paise": payment.amount_paise, "provider": payment.provider, "provider_ref": payment.provider_ref}
    status = payment.status
    if status is PaymentStatus.PAID:
        if await tx.other_paid():  # paid on two orders: one receipt, the second payment goes back
            await tx.refund_due("paid twice")
            await tx.history("paid_twice", detail)
            await tell("pay.paid_twice")
            return
        await tx.history("paid", detail | {"transaction_id": payment.transaction_id})
        await tell("pay.paid")
        if maker is not None and service is not None:
            document = await _receipt(tx, context, maker, service, application, now)
            await tx.notify(application.recipient, application.address, outbound_to_dict(document))
            await tx.issued()
        booking = await tx.confirm_booking()
        if booking == "confirmed":
            await tell("pay.booking_confirmed")
        elif booking == "lost":
            await tx.refund_due("seat lost")
            await tell("pay.booking_lost")
    elif status is PaymentStatus.FAILED:
        await tell("pay.failed")
    elif status is PaymentStatus.EXPIRED:
        await tx.release_booking()  # a later payment holds the places again if they are still free
        await tell("pay.expired")
    elif status is PaymentStatus.REFUNDED:
        await tx.history("refunded", detail)
        await tell("pay.refunded")


async def _receipt(
    tx: PaymentTransaction,
    context: Context,
    maker: CertificateMaker,
    service: Service,
    application: PayingApplication,
    now: datetime,
) -> DocumentOut:
    """The signed receipt of the payment, stored (and logged) in the transaction."""
    payment, texts, language = tx.payment, context.texts, application.language
    paid_at = (payment.paid_at or now) + INDIA
    facts = [
        ("pay.fact.application", application.reference),
        ("pay.fact.amount_paid", format_paise(payment.amount_paise)),
        ("pay.fact.paid_on", f"{paid_at:%d-%m-%Y %H:%M} IST"),
        ("pay.fact.transaction", payment.transaction_id or payment.provider_ref),
    ]
    decided = [(str(label), str(value)) for label, value in (application.decision or {}).get("facts") or ()]
    printed = [(label, value) for label, value in decided if value and label not in UNPRINTED_FACTS]
    printed.sort(
        key=lambda fact: FIRST_ON_RECEIPT.index(fact[0]) if fact[0] in FIRST_ON_RECEIPT else len(FIRST_ON_RECEIPT)
    )
    facts = (facts + printed)[:MAX_FACTS]
    statement = statement_for(
        service,
        number=await tx.receipt_number((now + INDIA).year),
        answers=application.answers,
        shown={},
        facts=facts,
        office=office_of(context, service, application.answers),
        issued_at=now,
    )
    statement = replace(statement, kind=RECEIPT_KIND, valid_until=None)
    _, document = await issue(
        maker,
        tx,
        service,
        statement,
        reference=application.reference,
        address=application.address,
        language=language,
        lines=fact_lines(facts, texts),
        caption=texts.get(language, "pay.receipt_caption", service=service.name(language)),
    )
    return document
