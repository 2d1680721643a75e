"""Payment webhook readers under fuzzing (WhatsApp's payment statuses, Razorpay, the simulated
gateway): a correctly signed body gives events or `MalformedWebhook`, never another exception."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, get_args

from sevamitra.adapters.payments import hex_hmac, razorpay, simulated, whatsapp
from sevamitra.core.payments import EventKind, MalformedWebhook, PaymentEvent
from sevamitra.emulator.payloads import encode
from tests.fuzz.harness import fuzz
from tests.fuzz.mutations import inputs, mutated_json
from tests.fuzz.seeds import payment_update

SECRET = "fuzz-payments-secret"
AT = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
# a body nested past the JSON reader's recursion limit, holding the word the webhook looks for
DEEP_PAYMENT = b'{"type":"payment","entry":' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def razorpay_event(event: str) -> dict[str, Any]:
    link = {"id": "plink_1", "amount": 85_000, "amount_paid": 85_000, "currency": "INR", "status": "paid"}
    payment = {"id": "pay_1", "amount": 85_000, "currency": "INR", "status": "captured"}
    payload = {"payment_link": {"entity": link}, "payment": {"entity": payment}}
    return {"entity": "event", "event": event, "payload": payload, "created_at": int(AT.timestamp())}


WHATSAPP_UPDATES = (payment_update(paid=True), payment_update(paid=False))
RAZORPAY_EVENTS = tuple(razorpay_event(e) for e in ("payment_link.paid", "payment_link.expired", "payment.captured"))
SIMULATED_EVENTS = tuple(
    json.loads(simulated.webhook_body(event_id="e1", provider_ref="sim_1", outcome=o, amount_paise=5000, at=AT))
    for o in ("paid", "failed")
)


def check(events: list[PaymentEvent], provider: str) -> None:
    for event in events:
        assert event.provider == provider and event.kind in get_args(EventKind)
        assert event.event_key and isinstance(event.provider_ref, str)
        assert event.amount_paise is None or isinstance(event.amount_paise, int)
        assert event.at.tzinfo is not None


def read(parse: Callable[[], list[PaymentEvent]], provider: str) -> None:
    try:
        events = parse()
    except MalformedWebhook:
        return
    check(events, provider)


def as_body(tree: Any) -> bytes:
    return json.dumps(tree).encode()


@fuzz(inputs([*(encode(u) for u in WHATSAPP_UPDATES), DEEP_PAYMENT]) | mutated_json(WHATSAPP_UPDATES).map(as_body))
def test_whatsapp_payment_statuses(raw_body: bytes) -> None:
    read(lambda: whatsapp.verified_events(raw_body), whatsapp.NAME)


def signed_read(module: Any, header: str, raw_body: bytes, extra: Mapping[str, str] | None = None) -> None:
    headers = {header: hex_hmac(raw_body, SECRET), **(extra or {})}
    read(lambda: module.parse_webhook(raw_body, headers, SECRET), module.NAME)


@fuzz(inputs([*map(as_body, RAZORPAY_EVENTS), DEEP_PAYMENT]) | mutated_json(RAZORPAY_EVENTS).map(as_body))
def test_razorpay_link_events(raw_body: bytes) -> None:
    signed_read(razorpay, razorpay.SIGNATURE_HEADER, raw_body)


@fuzz(inputs([*map(as_body, SIMULATED_EVENTS), DEEP_PAYMENT]) | mutated_json(SIMULATED_EVENTS).map(as_body))
def test_simulated_gateway_events(raw_body: bytes) -> None:
    signed_read(simulated, simulated.SIGNATURE_HEADER, raw_body)
