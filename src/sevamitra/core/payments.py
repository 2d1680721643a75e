"""Payments: orders, the payment status machine, verified provider events, and the ports around them.

A payment is created for an application's fee and changes only on a *verified* event from its
provider (a signed webhook). Events are facts from outside, delivered at least once and in any
order, so `apply_event` decides what each one means for the current status: a redelivered or late
event that no longer matters is ignored, one whose amount disagrees with the order is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from sevamitra.core.amounts import format_inr
from sevamitra.core.catalogue import Service
from sevamitra.core.fees import fee_amount
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import IssuedCertificate

PAISE_PER_RUPEE = 100
RECEIPT_PREFIX = "AP-RCPT"  # receipt numbers: AP-RCPT-2026-000123, a counter of their own
TOKEN_CHARS = 32  # of a pay link's token: 128 bits of HMAC-SHA256


class PaymentStatus(StrEnum):
    CREATED = "created"  # the order exists; the citizen has not paid yet
    PAID = "paid"  # final, except for a refund
    FAILED = "failed"  # an attempt failed; the citizen may retry on the same order
    EXPIRED = "expired"  # the order can no longer be paid (expired or cancelled at the provider)
    REFUNDED = "refunded"


EventKind = Literal["paid", "failed", "expired", "refunded"]

# What each status may become. A "paid" after "failed" or "expired" is accepted: the citizen retried
# on the same order, or the provider captured late; either way the money was taken.
TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.CREATED: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.EXPIRED}),
    PaymentStatus.FAILED: frozenset({PaymentStatus.PAID, PaymentStatus.EXPIRED}),
    PaymentStatus.EXPIRED: frozenset({PaymentStatus.PAID}),
    PaymentStatus.PAID: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
}


class AmountMismatch(ValueError):
    """A verified event states an amount other than the order's: refused, never settled."""


class WebhookRejected(ValueError):
    """A payment webhook that must not be processed."""


class SignatureMissing(WebhookRejected):
    """The webhook carries no signature (HTTP 401)."""


class SignatureInvalid(WebhookRejected):
    """The signature does not match the raw body (HTTP 403)."""


class MalformedWebhook(WebhookRejected):
    """Correctly signed, but not a body we can read (HTTP 400)."""


class ProviderError(RuntimeError):
    """The payment provider refused or failed to create an order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """What the citizen is asked to pay, and for what."""

    reference: str  # the application (or bill) it pays for
    amount_paise: int
    purpose: str  # what is paid for, as the citizen reads it (the service's name)
    citizen: str  # the citizen's address (wa_id, else the business-scoped user id)
    message: str = ""  # the citizen-facing text shown with the request (WhatsApp's order_details body)
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.amount_paise <= 0:
            raise ValueError("an order must be for a positive amount")


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    """A provider's answer to an order: its id and the link to pay at (or the message to send)."""

    provider_ref: str
    link: str | None = None
    message: Mapping[str, Any] | None = None  # paid in the chat: the message to send (`outbound_to_dict`)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentEvent:
    """A verified webhook event, parsed at the edge."""

    provider: str
    event_key: str  # unique per delivery-worthy fact: a redelivery carries the same key
    provider_ref: str  # the provider's order or link id: finds the payment
    kind: EventKind
    amount_paise: int | None
    at: datetime
    transaction_id: str | None = None  # the provider's id of the money movement, printed on the receipt


class PaymentProvider(Protocol):
    """Creates orders at a payment provider; its webhooks are parsed by the adapter's `parse_webhook`."""

    @property
    def name(self) -> str: ...

    async def create(self, order: Order) -> Created: ...


def paise(rupees: int) -> int:
    return rupees * PAISE_PER_RUPEE


def format_paise(amount: int) -> str:
    """`₹1,20,000`, or `₹850.50` when there are paise."""
    rupees, rest = divmod(amount, PAISE_PER_RUPEE)
    return format_inr(rupees) + (f".{rest:02d}" if rest else "")


def amount_paise(service: Service, answers: Mapping[str, Any], record: Mapping[str, Any] | None = None) -> int | None:
    """The service's fee in paise (`core.fees`): None when it needs a registry record not given."""
    rupees = fee_amount(service.fee, answers, record)
    return None if rupees is None else paise(rupees)


def pay_token(key: str, reference: str) -> str:
    """The token that lets `/pay/{reference}` start a payment: reference numbers are guessable."""
    if not key:
        raise ValueError("the pay link key must not be empty")
    return hmac.new(key.encode(), reference.encode(), hashlib.sha256).hexdigest()[:TOKEN_CHARS]


def pay_token_valid(key: str, reference: str, token: str) -> bool:
    return hmac.compare_digest(pay_token(key, reference).encode(), token.encode())


def apply_event(status: PaymentStatus, event: PaymentEvent, amount: int) -> PaymentStatus | None:
    """The status after `event`, or None when the event changes nothing (ignored).

    Raises AmountMismatch when a payment or refund would be settled for another amount than the
    order's `amount` (in paise): a paid event must state its amount.
    """
    new = PaymentStatus(event.kind)
    if new not in TRANSITIONS[status]:
        return None
    if event.kind == "paid" and event.amount_paise != amount:
        raise AmountMismatch(f"paid {event.amount_paise} paise on an order of {amount}")
    if event.kind == "refunded" and event.amount_paise not in (None, amount):
        raise AmountMismatch(f"refunded {event.amount_paise} paise of an order of {amount}")
    return new


# ---------------------------------------------------------------- ports


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRecord:
    """A payment as stored."""

    id: int
    reference: str
    address: str
    provider: str
    provider_ref: str
    amount_paise: int
    status: PaymentStatus
    link: str | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None = None
    expires_at: datetime | None = None
    purpose: str = ""
    message: Mapping[str, Any] | None = None
    transaction_id: str | None = None

    def open_at(self, now: datetime) -> bool:
        """Whether the citizen can still pay this order (not paid, failed or expired)."""
        unexpired = self.expires_at is None or self.expires_at > now
        return self.status is PaymentStatus.CREATED and unexpired


@dataclass(frozen=True, slots=True, kw_only=True)
class Payable:
    """An application as a payment is started for it: what it costs and who pays."""

    reference: str
    service_id: str
    language: str
    address: str
    fee_paise: int | None  # None or 0: nothing to pay


@dataclass(frozen=True, slots=True, kw_only=True)
class PayingApplication:
    """The application a payment is for, as a settlement needs it (answers opened: personal data)."""

    reference: str
    service_id: str
    language: str
    address: str
    recipient: Recipient
    answers: Mapping[str, Any]
    status: str
    decision: Mapping[str, Any] | None = None


ApplyOutcome = Literal["changed", "ignored", "duplicate", "unknown", "rejected"]
BookingOutcome = Literal["confirmed", "lost", "none"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    """What one event did: `changed` the status, or was `ignored`, a `duplicate`, for an `unknown`
    payment, or `rejected` (amount mismatch)."""

    outcome: ApplyOutcome
    payment: PaymentRecord | None = None
    previous: PaymentStatus | None = None


class PaymentTransaction(Protocol):
    """One payment locked while an event changes its status: the receipt, the history and the
    messages to the citizen are written in the same commit."""

    @property
    def payment(self) -> PaymentRecord:
        """The payment with its new status."""
        ...

    @property
    def previous(self) -> PaymentStatus: ...

    @property
    def event(self) -> PaymentEvent: ...

    @property
    def application(self) -> PayingApplication | None: ...

    async def add_certificate(self, certificate: IssuedCertificate) -> None: ...
    async def notify(self, recipient: Recipient, address: str, payload: dict[str, Any]) -> None: ...
    async def receipt_number(self, year: int) -> str:
        """A fresh receipt number for `year`."""
        ...

    async def other_paid(self) -> bool:
        """Whether another payment for the same reference is already paid (a double payment)."""
        ...

    async def confirm_booking(self) -> BookingOutcome:
        """Confirm the seat held for the reference (holding it again if it was released meanwhile)."""
        ...

    async def history(self, kind: str, detail: dict[str, Any]) -> None:
        """An event in the application's history."""
        ...

    async def issued(self) -> None:
        """The application's receipt has gone out (a decided application becomes issued)."""
        ...

    async def refund_due(self, reason: str) -> None:
        """Mark the payment as owed back to the citizen."""
        ...

    async def release_booking(self) -> None:
        """Give back the places the reference holds (its order can no longer be paid)."""
        ...


OnChange = Callable[[PaymentTransaction], Awaitable[None]]


class Payments(Protocol):
    async def create(
        self,
        *,
        reference: str,
        address: str,
        provider: str,
        provider_ref: str,
        amount_paise: int,
        link: str | None,
        now: datetime,
        expires_at: datetime | None = None,
        purpose: str = "",
        message: Mapping[str, Any] | None = None,
    ) -> PaymentRecord: ...

    async def latest_for(self, reference: str) -> PaymentRecord | None: ...
    async def by_provider_ref(self, provider_ref: str) -> PaymentRecord | None: ...
    async def payable(self, reference: str) -> Payable | None:
        """The application `reference` with its fee; None when there is none."""
        ...

    async def apply(self, event: PaymentEvent, now: datetime, on_change: OnChange) -> Applied:
        """Record the event once and apply it in one transaction, calling `on_change` when the status changed."""
        ...

    async def refund(self, reference: str, now: datetime, on_change: OnChange) -> Applied | None:
        """Record the refund of the reference's paid payment; None when nothing was paid."""
        ...
