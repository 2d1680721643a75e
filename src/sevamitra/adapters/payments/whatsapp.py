"""WhatsApp payments in India: orders paid inside the chat, and their `payment` status webhooks.

The citizen pays inside WhatsApp (UPI, or the gateway configured in WhatsApp Manager), so there is
no link: `create` returns the channel-neutral `OrderOut` to send (mapped to an `order_details`
message by the WhatsApp adapter). Amounts are `{value, offset}`; events carry paise. Payment
updates arrive on the WhatsApp webhook, signed with the app secret (`X-Hub-Signature-256`), as
`statuses[]` entries of type `payment`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sevamitra.adapters.payments import check_hex_signature, header
from sevamitra.core.clipping import clip
from sevamitra.core.messages import OrderOut, outbound_to_dict
from sevamitra.core.payments import Created, EventKind, MalformedWebhook, Order, PaymentEvent

NAME = "whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
OFFSET = 100  # amounts in paise
REFERENCE_ID_LIMIT = 35  # Meta's limit on an order's reference_id
ITEM_NAME_LIMIT = 60
BODY_LIMIT = 1024
_TRANSACTION_KINDS: Mapping[str, EventKind] = {"success": "paid", "failed": "failed"}  # "pending": nothing yet


def reference_id(reference: str) -> str:
    """A fresh order id for `reference`: the reference and a random suffix, within Meta's 35 characters
    (a retry after a failure or expiry is a new order)."""
    suffix = secrets.token_hex(4)
    return f"{reference[: REFERENCE_ID_LIMIT - len(suffix) - 1]}-{suffix}"


def order_message(order: Order, *, reference_id: str, configuration: str) -> OrderOut:
    """The chat message asking the citizen to pay for `order`, clipped to WhatsApp's limits."""
    return OrderOut(
        body=clip(order.message or order.purpose, BODY_LIMIT),
        reference_id=reference_id,
        configuration=configuration,
        item_name=clip(order.purpose, ITEM_NAME_LIMIT),
        amount_paise=order.amount_paise,
    )


class WhatsAppPay:
    """Orders paid inside WhatsApp, through the payment configuration named in WhatsApp Manager."""

    name = NAME

    def __init__(self, configuration: str) -> None:
        if not configuration:
            raise ValueError("WhatsApp payments need the payment configuration's name")
        self.configuration = configuration

    async def create(self, order: Order) -> Created:
        """The order's id and its message (`outbound_to_dict` of an `OrderOut`); there is no link."""
        order_id = reference_id(order.reference)
        message = order_message(order, reference_id=order_id, configuration=self.configuration)
        return Created(provider_ref=order_id, message=outbound_to_dict(message))


def parse_webhook(raw_body: bytes, headers: Mapping[str, str], secret: str) -> list[PaymentEvent]:
    """Check `X-Hub-Signature-256` (the app secret) on the raw bytes, then read the payment statuses."""
    check_hex_signature(raw_body, header(headers, SIGNATURE_HEADER), secret, prefix="sha256=")
    return verified_events(raw_body)


def verified_events(raw_body: bytes) -> list[PaymentEvent]:
    """The payment events of a webhook body whose signature the caller has checked."""
    try:
        update = json.loads(raw_body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested past the reader's depth
        raise MalformedWebhook("not JSON") from error
    return payment_events(update)


def payment_events(update: Any) -> list[PaymentEvent]:
    """The payment events in a verified WhatsApp webhook update (other statuses and messages skipped)."""
    events: list[PaymentEvent] = []
    try:
        for entry in update.get("entry", ()):
            for change in entry.get("changes", ()):
                for status in (change.get("value") or {}).get("statuses", ()):
                    if status.get("type") == "payment":
                        event = payment_status_event(status)
                        if event is not None:
                            events.append(event)
    except (AttributeError, KeyError, TypeError, ValueError, ArithmeticError, OSError) as error:
        # ArithmeticError: an amount's offset of 0, a time beyond datetime's range (OverflowError, as is OSError)
        raise MalformedWebhook("not a WhatsApp payment status") from error
    return events


def payment_status_event(status: Mapping[str, Any]) -> PaymentEvent | None:
    """One `statuses[]` entry of type `payment` as an event; None while the transaction is pending."""
    payment = status["payment"]
    transaction = payment.get("transaction") or {}
    kind = _TRANSACTION_KINDS.get(str(transaction.get("status")))
    if status.get("status") == "captured":
        kind = "paid"
    if kind is None:
        return None
    amount = transaction.get("amount") or payment.get("amount")
    paise = int(amount["value"]) * OFFSET // int(amount["offset"]) if amount else None
    order_id = str(payment["reference_id"])
    transaction_id = transaction.get("pg_transaction_id") or transaction.get("id")
    return PaymentEvent(
        provider=NAME,
        event_key=f"{NAME}:{order_id}:{transaction.get('id', '')}:{kind}",
        provider_ref=order_id,
        kind=kind,
        amount_paise=paise,
        at=datetime.fromtimestamp(int(status.get("timestamp") or transaction.get("updated_timestamp") or 0), UTC),
        transaction_id=str(transaction_id) if transaction_id and kind == "paid" else None,
    )
