"""Razorpay Payment Links against a local fake of its API, and its signed webhooks."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sevamitra.adapters.payments import hex_hmac
from sevamitra.adapters.payments.razorpay import RazorpayLinks, parse_webhook
from sevamitra.core.payments import MalformedWebhook, Order, ProviderError, SignatureInvalid, SignatureMissing

KEY_ID, KEY_SECRET, WEBHOOK_SECRET = "rzp_test_key", "rzp-test-secret", "rzp-webhook-secret"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
ORDER = Order(
    reference="AP-MUN-PTAX-2026-000001",
    amount_paise=85_000,
    purpose="Property tax payment",
    citizen="919800000077",
    expires_at=NOW + timedelta(hours=1),
)


class FakeRazorpay:
    """`POST /v1/payment_links` as Razorpay answers it, refusing calls without the right key."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": {"code": "BAD_REQUEST_ERROR", "description": "auth failed"}})
        if request.method != "POST" or request.url.path != "/v1/payment_links":
            return httpx.Response(404)
        body = json.loads(request.content)
        if any(body["reference_id"] == c["reference_id"] for c in self.created):
            return httpx.Response(400, json={"error": {"description": "reference_id already exists"}})
        self.created.append(body)
        number = len(self.created)
        return httpx.Response(
            200,
            json={
                "id": f"plink_Test{number:010d}",
                "short_url": f"https://rzp.io/i/test{number}",
                "status": "created",
                "amount": body["amount"],
                "currency": body["currency"],
                "reference_id": body["reference_id"],
            },
        )


@pytest.fixture
def fake() -> FakeRazorpay:
    return FakeRazorpay()


@pytest.fixture
async def http(fake: FakeRazorpay) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as client:
        yield client


def links(http: httpx.AsyncClient, secret: str = KEY_SECRET) -> RazorpayLinks:
    return RazorpayLinks(
        http,
        key_id=KEY_ID,
        key_secret=secret,
        api_url="http://razorpay.test",
        callback_url="http://127.0.0.1:8000/paid",
    )


async def test_a_payment_link_is_created_in_paise_without_razorpay_notifying_anyone(
    http: httpx.AsyncClient, fake: FakeRazorpay
) -> None:
    created = await links(http).create(ORDER)
    assert created.provider_ref == "plink_Test0000000001" and created.link == "https://rzp.io/i/test1"
    (body,) = fake.created
    assert body["amount"] == 85_000 and body["currency"] == "INR" and body["accept_partial"] is False
    assert body["reference_id"].startswith(ORDER.reference) and len(body["reference_id"]) <= 40
    assert body["description"] == "Property tax payment"
    assert body["customer"] == {"contact": "+919800000077"}
    assert body["notify"] == {"sms": False, "email": False}
    assert body["expire_by"] == int((NOW + timedelta(hours=1)).timestamp())
    assert body["callback_url"] == "http://127.0.0.1:8000/paid" and body["callback_method"] == "get"
    assert body["notes"] == {"reference": ORDER.reference}


async def test_a_retry_is_a_new_link_with_its_own_reference_id(http: httpx.AsyncClient, fake: FakeRazorpay) -> None:
    first, second = await links(http).create(ORDER), await links(http).create(ORDER)
    assert first.provider_ref != second.provider_ref
    assert fake.created[0]["reference_id"] != fake.created[1]["reference_id"]


async def test_a_citizen_known_only_by_user_id_gives_no_contact(http: httpx.AsyncClient, fake: FakeRazorpay) -> None:
    await links(http).create(Order(reference="AP-X-2026-000001", amount_paise=100, purpose="Fee", citizen="IN.abc"))
    assert "customer" not in fake.created[0]


async def test_a_refused_key_is_a_provider_error(http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderError, match="401"):
        await links(http, secret="wrong").create(ORDER)


async def test_an_unreachable_razorpay_is_a_provider_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as client:
        with pytest.raises(ProviderError, match="unreachable"):
            await links(client).create(ORDER)


# ---------------------------------------------------------------- webhooks


def link_event(event: str, *, status: str = "paid", payment_status: str = "captured", amount: int = 85_000) -> bytes:
    payload: dict[str, Any] = {
        "payment_link": {
            "entity": {
                "id": "plink_Test0000000001",
                "amount": 85_000,
                "amount_paid": amount if status == "paid" else 0,
                "currency": "INR",
                "reference_id": "AP-MUN-PTAX-2026-000001-a1b2c3",
                "status": status,
            }
        }
    }
    contains = ["payment_link"]
    if event == "payment_link.paid":
        payload["payment"] = {
            "entity": {"id": "pay_Test000001", "amount": amount, "currency": "INR", "status": payment_status}
        }
        payload["order"] = {"entity": {"id": "order_Test000001", "amount": 85_000, "status": "paid"}}
        contains += ["payment", "order"]
    data = {
        "entity": "event",
        "account_id": "acc_Test",
        "event": event,
        "contains": contains,
        "payload": payload,
        "created_at": int(NOW.timestamp()),
    }
    return json.dumps(data).encode()


def signed(body: bytes, event_id: str | None = "evt_Test0001") -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": hex_hmac(body, WEBHOOK_SECRET)}
    if event_id:
        headers["x-razorpay-event-id"] = event_id
    return headers


def test_a_signed_paid_link_is_a_paid_event_keyed_by_the_event_id() -> None:
    body = link_event("payment_link.paid")
    (event,) = parse_webhook(body, signed(body), WEBHOOK_SECRET)
    assert event.kind == "paid" and event.provider == "razorpay"
    assert event.provider_ref == "plink_Test0000000001" and event.amount_paise == 85_000
    assert event.event_key == "razorpay:evt_Test0001" and event.transaction_id == "pay_Test000001"
    assert event.at == NOW


def test_without_an_event_id_the_key_still_names_the_event() -> None:
    body = link_event("payment_link.paid")
    (event,) = parse_webhook(body, signed(body, None), WEBHOOK_SECRET)
    assert event.event_key == f"razorpay:payment_link.paid:plink_Test0000000001:{int(NOW.timestamp())}"


@pytest.mark.parametrize("name", ["payment_link.expired", "payment_link.cancelled"])
def test_an_expired_or_cancelled_link_can_no_longer_be_paid(name: str) -> None:
    body = link_event(name, status=name.rsplit(".", 1)[1])
    (event,) = parse_webhook(body, signed(body), WEBHOOK_SECRET)
    assert event.kind == "expired" and event.amount_paise is None and event.transaction_id is None


def test_other_events_and_uncaptured_payments_are_not_acted_on() -> None:
    for body in (
        link_event("payment_link.partially_paid", status="partially_paid"),
        link_event("payment_link.paid", payment_status="authorized"),
        json.dumps({"event": "payment.captured", "payload": {}, "created_at": 1}).encode(),
    ):
        assert parse_webhook(body, signed(body), WEBHOOK_SECRET) == []


def test_a_missing_signature_is_refused_before_reading() -> None:
    body = link_event("payment_link.paid")
    with pytest.raises(SignatureMissing):
        parse_webhook(body, {"Content-Type": "application/json"}, WEBHOOK_SECRET)


@pytest.mark.parametrize(
    "signature",
    [hex_hmac(b"another body", WEBHOOK_SECRET), hex_hmac(b"x", "another-secret"), "not-hex", "sha256=" + "0" * 64],
)
def test_a_bad_signature_is_refused(signature: str) -> None:
    body = link_event("payment_link.paid")
    with pytest.raises(SignatureInvalid):
        parse_webhook(body, {"X-Razorpay-Signature": signature}, WEBHOOK_SECRET)


def test_a_body_changed_after_signing_is_refused() -> None:
    body = link_event("payment_link.paid")
    headers = signed(body)
    with pytest.raises(SignatureInvalid):
        parse_webhook(body.replace(b"85000", b"8500"), headers, WEBHOOK_SECRET)


def test_a_signed_body_that_is_not_an_event_is_malformed() -> None:
    for body in (b"not json", b"[]", json.dumps({"event": "payment_link.paid", "payload": {}}).encode()):
        with pytest.raises(MalformedWebhook):
            parse_webhook(body, signed(body), WEBHOOK_SECRET)
