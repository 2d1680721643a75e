"""An embedded payment gateway for `make run` and tests: no money moves.

`create` returns a link to the platform's own page `/pay/sim/{provider_ref}`, whose Pay and Fail
buttons make the gateway call the platform's webhook `POST /webhooks/payments/simulated` over
HTTP, signed like a real provider: `X-Sim-Signature` is the hex HMAC-SHA256 of the raw body.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from sevamitra.adapters.payments import check_hex_signature, header, hex_hmac
from sevamitra.core.payments import Created, MalformedWebhook, Order, PaymentEvent, PaymentRecord

NAME = "simulated"
SIGNATURE_HEADER = "X-Sim-Signature"
WEBHOOK_PATH = f"/webhooks/payments/{NAME}"
PAGE_PATH = "/pay/sim"
Outcome = Literal["paid", "failed"]


def webhook_body(*, event_id: str, provider_ref: str, outcome: Outcome, amount_paise: int, at: datetime) -> bytes:
    """The raw body the gateway posts."""
    data = {
        "id": event_id,
        "provider_ref": provider_ref,
        "outcome": outcome,
        "amount_paise": amount_paise,
        "at": int(at.timestamp()),
    }
    return json.dumps(data, separators=(",", ":")).encode()


def sign(raw_body: bytes, secret: str) -> str:
    """The `X-Sim-Signature` value for a body."""
    return hex_hmac(raw_body, secret)


def parse_webhook(raw_body: bytes, headers: Mapping[str, str], secret: str) -> list[PaymentEvent]:
    """Check the signature on the raw bytes, then read the one event the body carries."""
    check_hex_signature(raw_body, header(headers, SIGNATURE_HEADER), secret)
    try:
        data: Any = json.loads(raw_body)
        outcome, amount = data["outcome"], data["amount_paise"]
        if outcome not in ("paid", "failed") or not isinstance(amount, int):
            raise ValueError(outcome)
        return [
            PaymentEvent(
                provider=NAME,
                event_key=f"{NAME}:{data['id']}",
                provider_ref=str(data["provider_ref"]),
                kind=outcome,
                amount_paise=amount,
                at=datetime.fromtimestamp(int(data["at"]), UTC),
                transaction_id=f"SIM{data['id']}" if outcome == "paid" else None,
            )
        ]
    except (ValueError, KeyError, TypeError, ArithmeticError, OSError, RecursionError) as error:
        # ArithmeticError and OSError: a number or time out of range; RecursionError: JSON nested too deep
        raise MalformedWebhook("not a simulated gateway event") from error


class SimulatedGateway:
    """The gateway: orders are links to the platform's own page; payments are signed webhooks."""

    name = NAME

    def __init__(self, public_url: str, secret: str, http: httpx.AsyncClient | None = None) -> None:
        if not secret:
            raise ValueError("the simulated gateway needs a webhook secret")
        self.public_url = public_url.rstrip("/")
        self.secret = secret
        self.http = http

    async def create(self, order: Order) -> Created:
        provider_ref = f"sim_{secrets.token_hex(8)}"
        return Created(provider_ref=provider_ref, link=f"{self.public_url}{PAGE_PATH}/{provider_ref}")

    async def complete(self, payment: PaymentRecord, outcome: Outcome, now: datetime) -> int:
        """What pressing Pay or Fail does: post the signed event to the platform's webhook.
        Returns the webhook's HTTP status."""
        if self.http is None:
            raise RuntimeError("the simulated gateway needs an HTTP client to call the webhook")
        body = webhook_body(
            event_id=secrets.token_hex(8),
            provider_ref=payment.provider_ref,
            outcome=outcome,
            amount_paise=payment.amount_paise,
            at=now,
        )
        response = await self.http.post(
            f"{self.public_url}{WEBHOOK_PATH}",
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.secret)},
        )
        return response.status_code
