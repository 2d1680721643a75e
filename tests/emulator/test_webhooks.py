"""Signed, Meta-shaped webhooks: delivered at least once, in order per citizen, never blocking."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sevamitra.emulator import Emulator, create_emulator
from tests.emulator.support import FakePlatform, citizen_says, fast_config

# Meta's official "Interactive Button Reply Message" example, from the v23.0 OpenAPI file.
OFFICIAL_BUTTON_REPLY = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "419561257915477",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                        "messages": [
                            {
                                "context": {
                                    "from": "15550783881",
                                    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA",
                                },
                                "from": "16505551234",
                                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZBQzg0MzQ4QjRCM0NGNkVGOAA=",
                                "timestamp": "1750025136",
                                "type": "interactive",
                                "interactive": {
                                    "type": "button_reply",
                                    "button_reply": {"id": "cancel-button", "title": "Cancel"},
                                },
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}


def shape(value: Any) -> Any:
    """The keys of a JSON value, recursively: what must match Meta, whatever the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


async def test_a_citizens_text_reaches_the_platform_as_a_signed_meta_shaped_update(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    await client.post("/_chat/citizens", json={"name": "Lakshmi", "wa_id": "919876543210"})
    sent = await citizen_says(client, "919876543210", "hi")
    await emulator.wait_idle()

    assert platform.bad_signatures == 0
    [update] = platform.updates()
    assert update == {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "419561257915477",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "919552300009", "phone_number_id": "106540352242922"},
                            "contacts": [
                                {
                                    "profile": {"name": "Lakshmi"},
                                    "wa_id": "919876543210",
                                    "user_id": "IN.000919876543210",
                                }
                            ],
                            "messages": [
                                {
                                    "from": "919876543210",
                                    "id": sent["id"],
                                    "timestamp": sent["message"]["timestamp"],
                                    "type": "text",
                                    "text": {"body": "hi"},
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    assert sent["id"].startswith("wamid.")
    assert sent["status"] == "sent"


async def test_a_button_tap_is_shaped_exactly_like_metas_official_example(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    emulator.add_citizen("Sheena Nelson", "16505551234")
    reply = {"type": "button_reply", "id": "cancel-button", "title": "Cancel", "context_id": "wamid.ABC="}
    assert (await client.post("/_chat/16505551234/send", json=reply)).status_code == 201
    await emulator.wait_idle()

    [update] = platform.updates()
    official = json.loads(json.dumps(OFFICIAL_BUTTON_REPLY))
    official["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"] = "IN.000016505551234"
    assert shape(update) == shape(official)
    assert update["entry"][0]["changes"][0]["value"]["messages"][0]["context"] == {
        "from": "919552300009",
        "id": "wamid.ABC=",
    }


async def test_telugu_is_sent_as_escaped_ascii_and_verifies_only_over_the_raw_bytes(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    await citizen_says(client, "919000000001", "ఆదాయ ధృవీకరణ పత్రం https://example.org/x")
    await emulator.wait_idle()

    [raw] = platform.accepted
    assert raw.isascii()
    assert b"\\u0c06" in raw  # ఆ, escaped as Meta does
    assert b"https:\\/\\/example.org\\/x" in raw  # and slashes too
    assert platform.messages()[0]["text"]["body"] == "ఆదాయ ధృవీకరణ పత్రం https://example.org/x"


async def test_failed_deliveries_are_retried_until_the_platform_answers_200(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    platform.script = [500, 503, 500]
    await citizen_says(client, "919000000002")
    await emulator.wait_idle()

    assert platform.attempts == 4
    assert len(platform.messages()) == 1
    [delivery] = emulator.webhooks.history
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 4, 200)
    messages = (await client.get("/_chat/919000000002/messages")).json()["messages"]
    assert messages[0]["status"] == "delivered"


async def test_a_delivery_that_never_succeeds_is_given_up_and_the_message_marked_failed(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    platform.script = [500] * 5
    await citizen_says(client, "919000000003")
    await emulator.wait_idle()

    assert platform.attempts == 5  # webhook_max_attempts
    assert emulator.state.inbound("919000000003")[0].status == "failed"
    deliveries = (await client.get("/_control/deliveries")).json()["deliveries"]
    assert deliveries[0] | {"number": 0} == {
        "number": 0,
        "key": "919000000003",
        "kind": "message",
        "message_id": emulator.state.inbound("919000000003")[0].id,
        "attempts": 5,
        "state": "failed",
        "last_status": 500,
        "last_error": None,
    }


async def test_connection_errors_are_retried_too() -> None:
    calls: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.content)
        if len(calls) < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        app = create_emulator(fast_config(), http=http)
        emulator: Emulator = app.state.emulator
        emulator.send_text("919000000004", "hello")
        await emulator.wait_idle()
        await emulator.aclose()

    assert len(calls) == 3
    assert calls[0] == calls[1] == calls[2]


async def test_updates_for_one_citizen_arrive_in_order_even_when_retried(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    platform.script = [500, 500]  # the first update fails twice; the second must wait for it
    for word in ("one", "two", "three"):
        await citizen_says(client, "919000000005", word)
    await emulator.wait_idle()

    assert [m["text"]["body"] for m in platform.messages()] == ["one", "two", "three"]


async def test_sending_never_waits_for_the_platform() -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> Response:
        await release.wait()
        return Response(status_code=200)

    slow_platform = Starlette(routes=[Route("/webhooks/whatsapp", slow, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=slow_platform)) as http:
        app = create_emulator(fast_config(), http=http)
        emulator: Emulator = app.state.emulator
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e.test") as client:
            sent = await asyncio.wait_for(citizen_says(client, "919000000006"), timeout=2)
        assert sent["status"] == "sent"
        assert emulator.webhooks.pending() == 1
        release.set()
        await emulator.wait_idle()
        assert emulator.state.entry(sent["id"]).status == "delivered"  # type: ignore[union-attr]
        await emulator.aclose()


async def test_redeliver_sends_the_same_update_again_byte_for_byte(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    sent = await citizen_says(client, "919000000007", "duplicate me")
    await emulator.wait_idle()
    response = await client.post(f"/_chat/919000000007/redeliver/{sent['id']}")
    await emulator.wait_idle()

    assert response.json() == {"redelivered": sent["id"]}
    assert len(platform.accepted) == 2
    assert platform.accepted[0] == platform.accepted[1]
    assert [m["id"] for m in platform.messages()] == [sent["id"], sent["id"]]
    assert (await client.post(f"/_chat/919000000008/redeliver/{sent['id']}")).status_code == 404
