"""The Graph API `messages` endpoint answers as Meta does: auth, limits, faults, statuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sevamitra.emulator import Emulator
from tests.emulator.support import AUTH, PHONE_NUMBER_ID, FakePlatform, citizen_says, text_to

MESSAGES = f"/v23.0/{PHONE_NUMBER_ID}/messages"
WA = "919100000001"


def buttons(*titles: str, body: str = "Choose") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": WA,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]
            },
        },
    }


def listing(rows: list[dict[str, str]], button: str = "Services") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": WA,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Which service?"},
            "action": {"button": button, "sections": [{"title": "Revenue", "rows": rows}]},
        },
    }


def rows(count: int, **fields: str) -> list[dict[str, str]]:
    return [{"id": f"r{i}", "title": f"Row {i}"} | fields for i in range(count)]


@pytest.fixture
async def open_chat(client: httpx.AsyncClient, emulator: Emulator) -> None:
    """The citizen has written first, so Meta's 24-hour window is open."""
    await citizen_says(client, WA)
    await emulator.wait_idle()


async def test_sends_without_the_bearer_token_are_refused_with_metas_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = await client.post(MESSAGES, json=text_to(WA), headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert (error["code"], error["type"]) == (190, "OAuthException")
        assert error["fbtrace_id"]


@pytest.mark.usefixtures("open_chat")
async def test_a_text_is_answered_meta_style_and_lands_in_the_citizens_chat(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    response = await client.post(MESSAGES, json=text_to("+" + WA, "మీ దరఖాస్తు అందింది"), headers=AUTH)

    assert response.status_code == 200
    answer = response.json()
    message_id = answer["messages"][0]["id"]
    assert answer == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+" + WA, "wa_id": WA}],
        "messages": [{"id": message_id}],
    }
    assert message_id.startswith("wamid.")
    chat = (await client.get(f"/_chat/{WA}/messages")).json()
    out = chat["messages"][-1]
    assert (out["direction"], out["id"]) == ("out", message_id)
    assert out["body"]["text"]["body"] == "మీ దరఖాస్తు అందింది"
    assert [m["direction"] for m in chat["messages"]] == ["in", "out"]


@pytest.mark.usefixtures("open_chat")
async def test_sent_then_delivered_statuses_follow_and_read_once_the_page_shows_it(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    message_id = (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).json()["messages"][0]["id"]
    await emulator.wait_idle()

    assert [s["status"] for s in platform.statuses()] == ["sent", "delivered"]
    sent = platform.statuses()[0]
    assert (sent["id"], sent["recipient_id"]) == (message_id, WA)
    assert sent["timestamp"].isdigit()
    assert platform.values()[-1]["metadata"] == {
        "display_phone_number": "919552300009",
        "phone_number_id": PHONE_NUMBER_ID,
    }

    chat = (await client.get(f"/_chat/{WA}/messages")).json()
    assert chat["statuses"][message_id] == "delivered"
    assert (await client.post(f"/_chat/{WA}/read", json={"up_to": chat["last_seq"]})).json() == {"read": 1}
    await emulator.wait_idle()

    assert [s["status"] for s in platform.statuses()] == ["sent", "delivered", "read"]
    assert (await client.post(f"/_chat/{WA}/read", json={"up_to": chat["last_seq"]})).json() == {"read": 0}


async def test_marking_a_citizens_message_read_answers_success_and_shows_typing(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    first = await citizen_says(client, WA, "one")
    second = await citizen_says(client, WA, "two")
    await emulator.wait_idle()
    body = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": second["id"],
        "typing_indicator": {"type": "text"},
    }
    response = await client.post(MESSAGES, json=body, headers=AUTH)

    assert response.json() == {"success": True}
    chat = (await client.get(f"/_chat/{WA}/messages")).json()
    assert chat["statuses"] == {first["id"]: "read", second["id"]: "read"}
    assert chat["typing"] is True


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(buttons("A", "B", "C", "D"), id="four buttons"),
        pytest.param(buttons("x" * 21), id="button title over 20"),
        pytest.param(buttons("A", "A"), id="duplicate button titles"),
        pytest.param(buttons("A", body="x" * 1025), id="body over 1024"),
        pytest.param(listing(rows(11)), id="eleven rows"),
        pytest.param(listing([{"id": "r", "title": "x" * 25}]), id="row title over 24"),
        pytest.param(listing(rows(1, description="x" * 73)), id="row description over 72"),
        pytest.param(listing(rows(1), button="x" * 21), id="list button over 20"),
        pytest.param(text_to(WA, "x" * 4097), id="text over 4096"),
    ],
)
async def test_messages_beyond_metas_limits_are_refused_with_131009(
    client: httpx.AsyncClient, emulator: Emulator, body: dict[str, Any]
) -> None:
    response = await client.post(MESSAGES, json=body, headers=AUTH)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (131009, "(#131009) Parameter value is not valid")
    assert error["error_data"]["details"]
    assert emulator.state.outbound(WA) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"to": WA, "type": "text", "text": {"body": "hi"}}, id="no messaging_product"),
        pytest.param({"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}}, id="no recipient"),
        pytest.param({"messaging_product": "whatsapp", "to": WA, "type": "text", "text": {}}, id="no text body"),
        pytest.param({"messaging_product": "whatsapp", "to": WA, "type": "hologram", "hologram": {}}, id="bad type"),
    ],
)
async def test_malformed_messages_are_refused_with_code_100(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(MESSAGES, json=body, headers=AUTH)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


@pytest.mark.usefixtures("open_chat")
async def test_interactive_messages_within_the_limits_are_accepted(client: httpx.AsyncClient) -> None:
    cta = {
        "messaging_product": "whatsapp",
        "to": WA,
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": "Your certificate"},
            "action": {"name": "cta_url", "parameters": {"display_text": "Verify", "url": "https://example.org/v"}},
        },
    }
    for body in (buttons("అవును", "కాదు", "Menu"), listing(rows(10, description="x" * 72)), cta):
        response = await client.post(MESSAGES, json=body, headers=AUTH)
        assert response.status_code == 200, response.text


@pytest.mark.usefixtures("open_chat")
async def test_injected_429_answers_130429_with_retry_after_then_sends_succeed(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_control/faults", json={"statuses": [429, 500]})).json() == {"pending": 2}

    limited = await client.post(MESSAGES, json=text_to(WA), headers=AUTH)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["error"]["code"] == 130429
    broken = await client.post(MESSAGES, json=text_to(WA), headers=AUTH)
    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == 131000
    assert (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).status_code == 200


@pytest.mark.usefixtures("open_chat")
async def test_faults_can_be_injected_in_process_with_chosen_codes_and_reset(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    emulator.inject_faults([503, 400], {503: 2, "400": 131047})
    assert (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).json()["error"]["code"] == 2
    assert (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).json()["error"]["code"] == 131047

    emulator.inject_faults([500])
    assert (await client.post("/_control/reset")).json() == {"reset": True}
    assert emulator.state.faults == type(emulator.state.faults)()
    assert emulator.state.citizens == {}


async def test_another_phone_number_id_is_an_unsupported_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/v23.0/999/messages", json=text_to(WA), headers=AUTH)

    assert response.status_code == 400
    assert response.json()["error"]["error_subcode"] == 33


async def test_outside_the_24_hour_window_only_templates_get_through(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    emulator.add_citizen("Ravi", WA)  # never wrote to the business
    text_id = (await client.post(MESSAGES, json=text_to(WA), headers=AUTH)).json()["messages"][0]["id"]
    template = {
        "messaging_product": "whatsapp",
        "to": WA,
        "type": "template",
        "template": {"name": "application_update", "language": {"code": "te"}},
    }
    template_id = (await client.post(MESSAGES, json=template, headers=AUTH)).json()["messages"][0]["id"]
    await emulator.wait_idle()

    by_id = {(s["id"], s["status"]): s for s in platform.statuses()}
    failed = by_id[(text_id, "failed")]
    assert failed["errors"][0]["code"] == 131047
    assert (template_id, "delivered") in by_id


async def test_a_business_scoped_user_id_reaches_the_citizen_and_an_unknown_one_fails(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    citizen = emulator.add_citizen("Ravi", WA)
    await citizen_says(client, WA)
    body = {"messaging_product": "whatsapp", "recipient": citizen.user_id, "type": "text", "text": {"body": "hi"}}
    known = (await client.post(MESSAGES, json=body, headers=AUTH)).json()
    unknown = (await client.post(MESSAGES, json=body | {"recipient": "IN.123"}, headers=AUTH)).json()
    await emulator.wait_idle()

    assert known["contacts"] == [{"input": citizen.user_id, "wa_id": WA, "user_id": citizen.user_id}]
    assert emulator.state.outbound(WA)[0].id == known["messages"][0]["id"]
    [failure] = [s for s in platform.statuses() if s["status"] == "failed"]
    assert (failure["id"], failure["errors"][0]["code"]) == (unknown["messages"][0]["id"], 131026)
