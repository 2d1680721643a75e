"""Message QR codes through the emulator's Graph API (`/{phone_number_id}/message_qrdls`), as Meta's spec has them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sevamitra.adapters.qr_scan import qr_texts
from sevamitra.emulator import Emulator
from tests.emulator.support import AUTH, PHONE_NUMBER_ID

URL = f"/v23.0/{PHONE_NUMBER_ID}/message_qrdls"
UNKNOWN = "ABCDEFGHIJKLMN"


async def create(client: httpx.AsyncClient, text: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(URL, headers=AUTH, json={"prefilled_message": text, **extra})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    error = response.json()["error"]
    assert error["fbtrace_id"]
    return response.status_code, error["code"], error["type"]


async def test_a_code_is_created_read_updated_and_deleted(client: httpx.AsyncClient) -> None:
    created = await create(client, "Income certificate #INC")
    code = created["code"]
    assert re.fullmatch(r"[A-Z2-7]{14}", code)
    assert created == {
        "code": code,
        "prefilled_message": "Income certificate #INC",
        "deep_link_url": f"https://wa.me/message/{code}",
    }

    read = await client.get(f"{URL}/{code}", headers=AUTH)
    assert read.json() == {"data": [created]}

    updated = await client.post(URL, headers=AUTH, json={"code": code, "prefilled_message": "ఆదాయ ధ్రువీకరణ #INC"})
    assert updated.json() == created | {"prefilled_message": "ఆదాయ ధ్రువీకరణ #INC"}
    assert (await client.get(URL, headers=AUTH, params={"code": code})).json()["data"] == [updated.json()]

    deleted = await client.delete(f"{URL}/{code}", headers=AUTH)
    assert deleted.json() == {"success": True}
    assert error_of(await client.get(f"{URL}/{code}", headers=AUTH)) == (404, 803, "GraphMethodException")
    assert (await client.get(URL, headers=AUTH)).json() == {"data": []}


async def test_an_image_asked_for_is_a_qr_code_of_the_deep_link(client: httpx.AsyncClient) -> None:
    created = await create(client, "Caste certificate #CST", generate_qr_image="PNG")
    png = await client.get(created["qr_image_url"])
    assert png.headers["content-type"] == "image/png"
    assert qr_texts(png.content) == [created["deep_link_url"]]

    fields = "code,prefilled_message,deep_link_url,creation_time,qr_image_url.format(SVG)"
    [listed] = (await client.get(URL, headers=AUTH, params={"fields": fields})).json()["data"]
    assert isinstance(listed["creation_time"], int)
    svg = await client.get(listed["qr_image_url"])
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<?xml") and b"<svg" in svg.content

    await client.delete(f"{URL}/{created['code']}", headers=AUTH)
    assert (await client.get(created["qr_image_url"])).status_code == 404


async def test_the_list_is_newest_first_in_pages_of_at_most_25(client: httpx.AsyncClient) -> None:
    codes = [(await create(client, f"Service {n} #S{n}"))["code"] for n in range(30)]
    newest_first = codes[::-1]

    first = (await client.get(URL, headers=AUTH)).json()
    assert [qr["code"] for qr in first["data"]] == newest_first[:25]
    assert "previous" not in first["paging"]
    second = (await client.get(first["paging"]["next"], headers=AUTH)).json()
    assert [qr["code"] for qr in second["data"]] == newest_first[25:]
    assert "next" not in second["paging"]
    back = await client.get(URL, headers=AUTH, params={"before": second["paging"]["cursors"]["before"], "limit": 3})
    assert [qr["code"] for qr in back.json()["data"]] == newest_first[22:25]

    small = (await client.get(URL, headers=AUTH, params={"limit": 10})).json()
    after = small["paging"]["cursors"]["after"]
    assert [qr["code"] for qr in small["data"]] == newest_first[:10]
    following = await client.get(URL, headers=AUTH, params={"limit": 10, "after": after})
    assert [qr["code"] for qr in following.json()["data"]] == newest_first[10:20]


async def test_reset_forgets_the_codes(client: httpx.AsyncClient, emulator: Emulator) -> None:
    await create(client, "Birth certificate #BRT")
    emulator.state.reset()
    assert (await client.get(URL, headers=AUTH)).json() == {"data": []}


async def test_every_endpoint_demands_the_token(client: httpx.AsyncClient) -> None:
    code = (await create(client, "Income certificate #INC"))["code"]
    wrong = {"Authorization": "Bearer not-the-token"}
    answers = [
        await client.get(URL),
        await client.post(URL, headers=wrong, json={"prefilled_message": "hi"}),
        await client.get(f"{URL}/{code}", headers=wrong),
        await client.delete(f"{URL}/{code}", headers=wrong),
    ]
    assert [error_of(answer)[:2] for answer in answers] == [(401, 190)] * 4
    assert (await client.get(f"{URL}/{code}", headers=AUTH)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"prefilled_message": ""},
        {"prefilled_message": 12},
        {"prefilled_message": "x" * 141},
        {"prefilled_message": "hi", "generate_qr_image": "JPG"},
        {"prefilled_message": "hi", "generate_qr_image": "svg"},
        {"prefilled_message": "hi", "code": "lowercase-code"},
    ],
)
async def test_a_bad_create_or_update_is_refused_as_an_invalid_parameter(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert error_of(await client.post(URL, headers=AUTH, json=body)) == (400, 100, "OAuthException")
    assert (await client.get(URL, headers=AUTH)).json() == {"data": []}


async def test_the_prefilled_message_may_have_140_characters(client: httpx.AsyncClient) -> None:
    assert (await create(client, "త" * 140))["prefilled_message"] == "త" * 140


async def test_an_unknown_code_is_not_found(client: httpx.AsyncClient) -> None:
    update = await client.post(URL, headers=AUTH, json={"code": UNKNOWN, "prefilled_message": "hi"})
    answers = [
        update,
        await client.get(f"{URL}/{UNKNOWN}", headers=AUTH),
        await client.delete(f"{URL}/{UNKNOWN}", headers=AUTH),
    ]
    assert [error_of(answer) for answer in answers] == [(404, 803, "GraphMethodException")] * 3
    assert (await client.get(URL, headers=AUTH, params={"code": UNKNOWN})).json() == {"data": []}
    assert error_of(await client.get(f"{URL}/SHORT", headers=AUTH))[:2] == (400, 100)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "26"},
        {"limit": "ten"},
        {"after": "not a cursor"},
        {"fields": "code,secret"},
        {"code": "x"},
    ],
)
async def test_a_bad_list_query_is_refused(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    assert error_of(await client.get(URL, headers=AUTH, params=params))[:2] == (400, 100)


async def test_another_phone_number_is_not_found(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v23.0/999/message_qrdls", headers=AUTH, json={"prefilled_message": "hi"})
    assert error_of(answer) == (404, 803, "GraphMethodException")
