"""WhatsApp payments in India: the order to send, and the `payment` status webhooks parsed into
payment events (the `order_details` body itself: tests/unit/test_whatsapp_order.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sevamitra.adapters.payments.whatsapp import WhatsAppPay, parse_webhook, payment_events
from sevamitra.adapters.whatsapp.signature import sign
from sevamitra.core.messages import OrderOut, outbound_from_dict
from sevamitra.core.payments import MalformedWebhook, Order, SignatureInvalid, SignatureMissing

APP_SECRET = "wa-app-secret"
ORDER = Order(
    reference="AP-MUN-PTAX-2026-000001",
    amount_paise=85_050,
    purpose="Property tax payment",
    citizen="919800000077",
    message="Please pay ₹850.50 for Property tax payment (AP-MUN-PTAX-2026-000001).",
)


async def test_create_returns_the_message_to_send_and_no_link() -> None:
    created = await WhatsAppPay("ap-upi").create(ORDER)
    assert created.link is None and created.message is not None
    message = outbound_from_dict(dict(created.message))  # channel-neutral: the outbox's own form
    assert isinstance(message, OrderOut) and message.configuration == "ap-upi"
    reference_id = message.reference_id
    assert created.provider_ref == reference_id and len(reference_id) <= 35
    assert reference_id.startswith("AP-MUN-PTAX-2026-000001-")
    other = await WhatsAppPay("ap-upi").create(ORDER)
    assert other.provider_ref != created.provider_ref


def payment_status(
    status: str, transaction_status: str, *, value: int = 85_050, transaction: str = "txn-1"
) -> dict[str, Any]:
    return {
        "id": "wamid.HBgMOTE5ODAwMDAwMDc3FQIAERgSQUJDREVGMDEyMzQ1Njc4OQA=",
        "recipient_id": "919800000077",
        "type": "payment",
        "status": status,
        "timestamp": "1796018400",
        "payment": {
            "reference_id": "AP-MUN-PTAX-2026-000001-a1b2c3d4",
            "amount": {"value": value, "offset": 100},
            "currency": "INR",
            "transaction": {
                "id": transaction,
                "pg_transaction_id": f"pg-{transaction}",
                "type": "razorpay",
                "status": transaction_status,
                "created_timestamp": 1796018300,
                "updated_timestamp": 1796018400,
                "amount": {"value": value, "offset": 100},
                "currency": "INR",
                "method": {"type": "upi"},
            },
        },
    }


def update(*statuses: dict[str, Any], messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "919552300009", "phone_number_id": "106540352242922"},
        "statuses": list(statuses),
    }
    if messages:
        value["messages"] = messages
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"value": value, "field": "messages"}]}],
    }


def test_a_captured_payment_is_a_paid_event_in_paise() -> None:
    (event,) = payment_events(update(payment_status("captured", "success")))
    assert event.kind == "paid" and event.provider == "whatsapp" and event.amount_paise == 85_050
    assert event.provider_ref == "AP-MUN-PTAX-2026-000001-a1b2c3d4"
    assert event.transaction_id == "pg-txn-1" and event.at.timestamp() == 1796018400
    assert event.event_key == "whatsapp:AP-MUN-PTAX-2026-000001-a1b2c3d4:txn-1:paid"


def test_a_failed_transaction_is_a_failed_event_and_a_pending_one_is_nothing_yet() -> None:
    failed, pending = (
        payment_status("pending", "failed", transaction="t1"),
        payment_status("pending", "pending", transaction="t2"),
    )
    (event,) = payment_events(update(failed, pending))
    assert event.kind == "failed" and event.transaction_id is None


def test_amounts_in_another_offset_are_converted_to_paise() -> None:
    status = payment_status("captured", "success")
    status["payment"]["transaction"]["amount"] = {"value": 8505, "offset": 10}
    (event,) = payment_events(update(status))
    assert event.amount_paise == 85_050


def test_delivery_statuses_and_messages_are_not_payments() -> None:
    delivered = {"id": "wamid.x", "recipient_id": "919800000077", "status": "delivered", "timestamp": "1796018400"}
    message = {
        "from": "919800000077",
        "id": "wamid.y",
        "timestamp": "1796018400",
        "type": "text",
        "text": {"body": "hi"},
    }
    assert payment_events(update(delivered, messages=[message])) == []


def test_the_webhook_is_checked_with_the_app_secret_before_reading() -> None:
    body = json.dumps(update(payment_status("captured", "success"))).encode()
    (event,) = parse_webhook(body, {"X-Hub-Signature-256": sign(body, APP_SECRET)}, APP_SECRET)
    assert event.kind == "paid"
    with pytest.raises(SignatureMissing):
        parse_webhook(body, {}, APP_SECRET)
    with pytest.raises(SignatureInvalid):
        parse_webhook(body, {"X-Hub-Signature-256": sign(body, "another-secret")}, APP_SECRET)
    with pytest.raises(SignatureInvalid):  # the bare digest, without Meta's `sha256=`
        parse_webhook(body, {"X-Hub-Signature-256": sign(body, APP_SECRET).removeprefix("sha256=")}, APP_SECRET)


def test_a_signed_body_that_is_not_an_update_is_malformed() -> None:
    for body in (
        b"not json",
        json.dumps({"entry": [{"changes": [{"value": {"statuses": [{"type": "payment"}]}}]}]}).encode(),
    ):
        with pytest.raises(MalformedWebhook):
            parse_webhook(body, {"X-Hub-Signature-256": sign(body, APP_SECRET)}, APP_SECRET)
