"""The chat page and its JSON API, the simulated citizens, and the emulator mounted in a host app."""

from __future__ import annotations

import re
import socket
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from sevamitra.emulator import Emulator, create_emulator
from tests.emulator.support import AUTH, PHONE_NUMBER_ID, FakePlatform, citizen_says, fast_config

MESSAGES = f"/v23.0/{PHONE_NUMBER_ID}/messages"
PAGE_TESTIDS = (
    "new-citizen",
    "new-citizen-name",
    "new-citizen-number",
    "new-citizen-submit",
    "citizen-list",
    "composer-input",
    "send-button",
    "attach-button",
    "attach-image",
    "attach-document",
    "attach-voice",
    "attach-location",
    "list-sheet",
)
SCRIPT_TESTIDS = ("citizen-item", "bubble", "reply-button", "list-open", "list-row", "cta-link", "document-card")


@pytest.mark.parametrize("path", ["/", "/chat"])
async def test_the_chat_page_is_served_with_its_test_ids(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in response.text
    for testid in PAGE_TESTIDS:
        assert f'data-testid="{testid}"' in response.text
    assert not re.search(r"""(src|href)="(https?:)?//""", response.text), "no external assets"
    assert not re.search(r"""(src|href)="/""", response.text), "relative URLs only, for the mount"


async def test_the_script_and_styles_are_served_and_render_the_interactive_parts(client: httpx.AsyncClient) -> None:
    script = await client.get("/static/chat.js")
    styles = await client.get("/static/chat.css")

    assert script.headers["content-type"].startswith("text/javascript")
    for testid in SCRIPT_TESTIDS:
        assert f'"{testid}"' in script.text
    assert '"./_chat/"' in script.text
    assert "Noto Sans Telugu" in styles.text
    assert (await client.get("/static/secrets.txt")).status_code == 404


async def test_citizens_are_created_with_a_number_or_a_fresh_one(client: httpx.AsyncClient) -> None:
    given = await client.post("/_chat/citizens", json={"name": "లక్ష్మి", "wa_id": "+91 98765-43210"})
    fresh = await client.post("/_chat/citizens", json={"name": "Ravi"})
    again = await client.post("/_chat/citizens", json={"name": "Other", "wa_id": "919876543210"})

    assert given.status_code == 201
    assert given.json()["citizen"] == {"wa_id": "919876543210", "name": "లక్ష్మి", "user_id": "IN.000919876543210"}
    assert re.fullmatch(r"9199\d{8}", fresh.json()["citizen"]["wa_id"])
    assert re.fullmatch(r"IN\.\d{15}", fresh.json()["citizen"]["user_id"])
    assert (again.status_code, again.json()["citizen"]["name"]) == (200, "లక్ష్మి")
    assert (await client.post("/_chat/citizens", json={"name": "X", "wa_id": "12ab"})).status_code == 400
    listing = (await client.get("/_chat/citizens")).json()["citizens"]
    assert {c["wa_id"] for c in listing} == {"919876543210", fresh.json()["citizen"]["wa_id"]}


async def test_messages_after_a_seq_returns_only_newer_ones_with_every_status(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    first = await citizen_says(client, "919300000001", "one")
    second = await citizen_says(client, "919300000002", "elsewhere")
    third = await citizen_says(client, "919300000001", "two")
    await emulator.wait_idle()

    chat = (await client.get(f"/_chat/919300000001/messages?after={first['seq']}")).json()
    assert [m["id"] for m in chat["messages"]] == [third["id"]]
    assert chat["statuses"] == {first["id"]: "delivered", third["id"]: "delivered"}
    assert chat["last_seq"] == third["seq"] > second["seq"]
    assert chat["typing"] is False
    assert (await client.get("/_chat/919399999999/messages")).status_code == 404


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        (
            {"type": "list_reply", "id": "income", "title": "Income certificate", "description": "ఆదాయ"},
            {"type": "list_reply", "list_reply": {"id": "income", "title": "Income certificate", "description": "ఆదాయ"}},
        ),
        (
            {"type": "button_reply", "id": "yes", "title": "Yes"},
            {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
        ),
    ],
)
async def test_taps_carry_the_tapped_message_as_context(
    client: httpx.AsyncClient,
    emulator: Emulator,
    platform: FakePlatform,
    request_body: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    await citizen_says(client, "919300000003")
    tapped = "wamid.TAPPED="
    await client.post("/_chat/919300000003/send", json=request_body | {"context_id": tapped})
    await emulator.wait_idle()

    reply = platform.messages()[-1]
    assert (reply["type"], reply["interactive"]) == ("interactive", expected)
    assert reply["context"] == {"from": "919552300009", "id": tapped}


async def test_a_shared_location_is_sent_as_metas_location_message(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    location = {
        "type": "location",
        "latitude": 16.5062,
        "longitude": 80.648,
        "name": "MRO office",
        "address": "Vijayawada",
    }
    assert (await client.post("/_chat/919300000004/send", json=location)).status_code == 201
    await emulator.wait_idle()

    [message] = platform.messages()
    assert message["location"] == {
        "latitude": 16.5062,
        "longitude": 80.648,
        "name": "MRO office",
        "address": "Vijayawada",
    }
    bad = await client.post("/_chat/919300000004/send", json={"type": "location", "latitude": 200, "longitude": 0})
    assert bad.status_code == 400
    assert (await client.post("/_chat/919300000004/send", json={"type": "sticker"})).status_code == 400


async def test_choose_taps_the_latest_offered_button_from_python(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    await citizen_says(client, "919300000005")
    body = {
        "messaging_product": "whatsapp",
        "to": "919300000005",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Continue?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "అవును"}}]},
        },
    }
    offered = (await client.post(MESSAGES, json=body, headers=AUTH)).json()["messages"][0]["id"]
    emulator.choose("919300000005", "yes")
    await emulator.wait_idle()

    tap = platform.messages()[-1]
    assert tap["context"]["id"] == offered
    assert tap["interactive"]["button_reply"] == {"id": "yes", "title": "అవును"}
    with pytest.raises(KeyError):
        emulator.choose("919300000005", "no")


async def test_a_platform_that_replies_through_the_graph_api_closes_the_loop() -> None:
    """The whole spine in-process: citizen → signed webhook → platform → Graph API → citizen's chat."""
    graph: httpx.AsyncClient | None = None

    async def echo(request: Request) -> Response:
        update = await request.json()
        for message in update["entry"][0]["changes"][0]["value"].get("messages", []):
            reply = {"messaging_product": "whatsapp", "to": message["from"], "type": "text"}
            assert graph is not None
            await graph.post(
                MESSAGES, json=reply | {"text": {"body": "echo: " + message["text"]["body"]}}, headers=AUTH
            )
        return Response(status_code=200)

    platform = Starlette(routes=[Route("/webhooks/whatsapp", echo, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=platform)) as http:
        app = create_emulator(fast_config(), http=http)
        emulator: Emulator = app.state.emulator
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e.test") as graph:
            await citizen_says(graph, "919300000006", "namaste")
            await emulator.wait_idle()
        await emulator.aclose()

    [reply] = emulator.state.outbound("919300000006")
    assert reply.body is not None
    assert reply.body["text"]["body"] == "echo: namaste"
    assert reply.status == "delivered"


async def test_mounted_in_a_host_app_it_works_without_its_lifespan_and_builds_urls_under_the_mount() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emulator_app = create_emulator(  # no client given: made on first use
        fast_config(webhook_url=f"http://127.0.0.1:{port}/webhooks/whatsapp", webhook_max_attempts=2)
    )
    host = Starlette(routes=[Mount("/emulator", app=emulator_app)])
    emulator: Emulator = emulator_app.state.emulator
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://host.test") as client:
        bare = await client.get("/emulator")
        assert bare.headers["location"] == "http://host.test/emulator/"  # so relative URLs resolve under the mount
        page = await client.get("/emulator/")
        assert 'data-testid="composer-input"' in page.text
        upload = await client.post(
            f"/emulator/v23.0/{PHONE_NUMBER_ID}/media",
            headers=AUTH,
            data={"messaging_product": "whatsapp"},
            files={"file": ("a.txt", b"abc", "text/plain")},
        )
        media_id = upload.json()["id"]
        info = (await client.get(f"/emulator/v23.0/{media_id}", headers=AUTH)).json()
        assert info["url"] == f"http://host.test/emulator/media/{media_id}/download"
        assert (await client.get(info["url"], headers=AUTH)).content == b"abc"

        sent = await client.post("/emulator/_chat/919300000007/send", json={"type": "text", "text": "hi"})
        assert sent.status_code == 201
    await emulator.wait_idle()  # nobody listens: delivery fails, is retried, then given up
    [delivery] = emulator.webhooks.history
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 2, None)
    assert delivery.last_error
    await emulator.aclose()
