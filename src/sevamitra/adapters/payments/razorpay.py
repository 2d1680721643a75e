"""Razorpay Payment Links: create a link for an order; read the signed `payment_link.*` webhooks.

API: `POST {base}/v1/payment_links` with HTTP basic auth (key id, key secret), the amount in
paise, `currency` INR, a `reference_id` unique per link, and no SMS or e-mail from Razorpay (the
link goes out on WhatsApp). Webhooks: `X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw
body with the webhook secret; `x-razorpay-event-id` names the delivery, so a retry is recognised.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from sevamitra.adapters.payments import check_hex_signature, header
from sevamitra.core.payments import Created, EventKind, MalformedWebhook, Order, PaymentEvent, ProviderError

NAME = "razorpay"
DEFAULT_API_URL = "https://api.razorpay.com"
SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "x-razorpay-event-id"
REFERENCE_ID_LIMIT = 40  # Razorpay's limit on `reference_id`
DESCRIPTION_LIMIT = 2048
_LINK_EVENTS: Mapping[str, EventKind] = {
    "payment_link.paid": "paid",
    "payment_link.expired": "expired",
    "payment_link.cancelled": "expired",  # no longer payable, like an expired link
}


class RazorpayLinks:
    """Payment Links on a Razorpay account; `api_url` points tests at a local fake."""

    name = NAME

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        key_id: str,
        key_secret: str,
        api_url: str = DEFAULT_API_URL,
        callback_url: str | None = None,
    ) -> None:
        if not (key_id and key_secret):
            raise ValueError("Razorpay needs a key id and a key secret")
        self.http = http
        self.auth = httpx.BasicAuth(key_id, key_secret)
        self.api_url = api_url.rstrip("/")
        self.callback_url = callback_url

    def request_body(self, order: Order, reference_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "amount": order.amount_paise,
            "currency": "INR",
            "accept_partial": False,
            "reference_id": reference_id,
            "description": order.purpose[:DESCRIPTION_LIMIT],
            "notify": {"sms": False, "email": False},
            "reminder_enable": False,
            "notes": {"reference": order.reference},
        }
        if order.citizen.isdigit():  # a phone number (a business-scoped user id is none)
            body["customer"] = {"contact": f"+{order.citizen}"}
        if order.expires_at is not None:
            body["expire_by"] = int(order.expires_at.timestamp())
        if self.callback_url:
            body |= {"callback_url": self.callback_url, "callback_method": "get"}
        return body

    async def create(self, order: Order) -> Created:
        # A link's reference_id must be unique, and a retry after expiry is a new link: add a suffix.
        suffix = secrets.token_hex(3)
        reference_id = f"{order.reference[: REFERENCE_ID_LIMIT - len(suffix) - 1]}-{suffix}"
        try:
            response = await self.http.post(
                f"{self.api_url}/v1/payment_links", json=self.request_body(order, reference_id), auth=self.auth
            )
        except httpx.HTTPError as error:
            raise ProviderError(f"Razorpay unreachable: {error}") from error
        if response.status_code >= 400:
            raise ProviderError(f"Razorpay refused the payment link: HTTP {response.status_code}")
        try:
            data = response.json()
            return Created(provider_ref=str(data["id"]), link=str(data["short_url"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ProviderError("Razorpay answered without a link") from error


def parse_webhook(raw_body: bytes, headers: Mapping[str, str], secret: str) -> list[PaymentEvent]:
    """Check `X-Razorpay-Signature` on the raw bytes, then read a `payment_link.*` event.
    Other events (payments, orders, refunds) are not ours to act on: an empty list."""
    check_hex_signature(raw_body, header(headers, SIGNATURE_HEADER), secret)
    try:
        data: Any = json.loads(raw_body)
        kind = _LINK_EVENTS.get(str(data.get("event")))
        if kind is None:
            return []
        payload = data["payload"]
        link = payload["payment_link"]["entity"]
        payment = (payload.get("payment") or {}).get("entity") or {}
        if kind == "paid" and payment.get("status") != "captured":
            return []  # authorised but not captured: no money yet
        event_id = header(headers, EVENT_ID_HEADER) or f"{data['event']}:{link['id']}:{data.get('created_at')}"
        amount = payment.get("amount") if kind == "paid" else None
        return [
            PaymentEvent(
                provider=NAME,
                event_key=f"{NAME}:{event_id}",
                provider_ref=str(link["id"]),
                kind=kind,
                amount_paise=int(amount) if amount is not None else None,
                at=datetime.fromtimestamp(int(data["created_at"]), UTC),
                transaction_id=str(payment["id"]) if kind == "paid" else None,
            )
        ]
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, OSError, RecursionError) as error:
        # ArithmeticError and OSError: a number or time out of range; RecursionError: JSON nested too deep
        raise MalformedWebhook("not a Razorpay event") from error
