"""Webhook updates exactly as Meta shapes, encodes and signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sevamitra.emulator.config import EmulatorConfig


def _update(config: EmulatorConfig, value: dict[str, Any]) -> dict[str, Any]:
    metadata = {"display_phone_number": config.display_phone_number, "phone_number_id": config.phone_number_id}
    change = {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": config.waba_id, "changes": [change]}]}


def message_update(
    config: EmulatorConfig, *, name: str, wa_id: str, user_id: str, message: dict[str, Any]
) -> dict[str, Any]:
    """A citizen's message: `value.contacts` names the sender, `value.messages` holds it."""
    contact = {"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}
    return _update(config, {"contacts": [contact], "messages": [message]})


def status_update(config: EmulatorConfig, status: dict[str, Any]) -> dict[str, Any]:
    """The fate of one of the business's messages: `value.statuses`."""
    return _update(config, {"statuses": [status]})


def status(
    message_id: str,
    state: str,
    *,
    recipient_id: str,
    timestamp: int,
    conversation_id: str,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One `statuses[]` item; `sent` carries the conversation's expiry, as Meta's does."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if errors:
        item["errors"] = errors
        return item
    if state in ("sent", "delivered"):
        conversation: dict[str, Any] = {"id": conversation_id, "origin": {"type": "service"}}
        if state == "sent":
            conversation["expiration_timestamp"] = str(timestamp + 24 * 3600)
        item["conversation"] = conversation
        item["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service"}
    return item


def payment_status(
    message_id: str,
    parameters: dict[str, Any],
    *,
    paid: bool,
    recipient_id: str,
    timestamp: int,
    transaction_id: str,
) -> dict[str, Any]:
    """One `statuses[]` item of type `payment` for an `order_details` message's parameters: the
    order captured (a successful UPI transaction) or still pending after a failed one."""
    amount = parameters["total_amount"]
    transaction = {
        "id": transaction_id,
        "pg_transaction_id": f"pg_{transaction_id}",
        "type": "upi",
        "status": "success" if paid else "failed",
        "created_timestamp": timestamp,
        "updated_timestamp": timestamp,
        "amount": amount,
        "currency": parameters["currency"],
        "method": {"type": "upi"},
    }
    return {
        "id": message_id,
        "recipient_id": recipient_id,
        "type": "payment",
        "status": "captured" if paid else "pending",
        "timestamp": str(timestamp),
        "payment": {
            "reference_id": parameters["reference_id"],
            "amount": amount,
            "currency": parameters["currency"],
            "transaction": transaction,
        },
    }


def encode(update: dict[str, Any]) -> bytes:
    """Compact ASCII JSON with `/` escaped as `\\/`, as Meta sends: only the raw bytes verify."""
    return json.dumps(update, separators=(",", ":")).replace("/", "\\/").encode()


def signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header value for these exact bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
