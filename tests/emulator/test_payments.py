"""Orders in the emulated chat: an `order_details` send is accepted, and the citizen's Pay or Fail
becomes Meta's signed `payment` status on the platform's webhook."""

from __future__ import annotations

import httpx
import pytest

from sevamitra.adapters.payments.whatsapp import payment_events
from sevamitra.adapters.whatsapp.outbound import to_graph_body
from sevamitra.core.messages import OrderOut, Recipient
from sevamitra.emulator import Emulator
from tests.emulator.support import AUTH, PHONE_NUMBER_ID, FakePlatform, citizen_says

MESSAGES = f"/v23.0/{PHONE_NUMBER_ID}/messages"
WA = "919100000002"
ORDER = OrderOut(
    body="Please pay ₹850 for Property tax payment (AP-MUN-PTAX-2026-000001).",
    reference_id="AP-MUN-PTAX-2026-000001-a1b2c3d4",
    configuration="ap-upi",
    item_name="Property tax payment",
    amount_paise=85_000,
)


@pytest.fixture
async def order_id(client: httpx.AsyncClient, emulator: Emulator) -> str:
    """The id of an order the platform sent the citizen (after they wrote first)."""
    await citizen_says(client, WA)
    await emulator.wait_idle()
    response = await client.post(MESSAGES, json=to_graph_body(Recipient(wa_id=WA), ORDER), headers=AUTH)
    assert response.status_code == 200, response.text
    message_id: str = response.json()["messages"][0]["id"]
    return message_id


@pytest.mark.parametrize(("outcome", "kind"), [("paid", "paid"), ("failed", "failed")])
async def test_paying_posts_a_signed_payment_status_the_platform_reads(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform, order_id: str, outcome: str, kind: str
) -> None:
    response = await client.post(f"/_chat/{WA}/pay/{order_id}", json={"outcome": outcome})
    assert response.status_code == 202
    await emulator.wait_idle()
    assert platform.bad_signatures == 0
    (status,) = [s for s in platform.statuses() if s.get("type") == "payment"]
    assert status["id"] == order_id and status["recipient_id"] == WA
    (event,) = [event for update in platform.updates() for event in payment_events(update)]
    assert event.kind == kind and event.provider_ref == ORDER.reference_id and event.amount_paise == 85_000


async def test_only_an_order_to_this_citizen_can_be_paid(client: httpx.AsyncClient, order_id: str) -> None:
    assert (await client.post(f"/_chat/{WA}/pay/{order_id}", json={"outcome": "maybe"})).status_code == 400
    assert (await client.post(f"/_chat/919100000009/pay/{order_id}", json={"outcome": "paid"})).status_code == 404
    assert (await client.post(f"/_chat/{WA}/pay/wamid.unknown", json={"outcome": "paid"})).status_code == 404
