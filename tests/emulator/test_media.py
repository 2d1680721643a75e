"""Media through the Graph API: uploads by the platform, files sent by citizens, downloads."""

from __future__ import annotations

import base64
import hashlib

import httpx

from sevamitra.emulator import Emulator
from tests.emulator.support import AUTH, PHONE_NUMBER_ID, FakePlatform

PDF = b"%PDF-1.7\n certificate \n%%EOF"


async def test_an_uploaded_file_round_trips_through_the_media_endpoints(client: httpx.AsyncClient) -> None:
    upload = await client.post(
        f"/v23.0/{PHONE_NUMBER_ID}/media",
        headers=AUTH,
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("certificate.pdf", PDF, "application/pdf")},
    )
    assert upload.status_code == 200
    media_id = upload.json()["id"]
    assert media_id.isdigit()

    info = (await client.get(f"/v23.0/{media_id}", headers=AUTH)).json()
    assert info == {
        "messaging_product": "whatsapp",
        "url": f"http://emulator.test/media/{media_id}/download",
        "mime_type": "application/pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "file_size": str(len(PDF)),
        "id": media_id,
    }
    download = await client.get(info["url"], headers=AUTH)
    assert (download.status_code, download.content) == (200, PDF)
    assert download.headers["content-type"] == "application/pdf"
    assert (await client.get(info["url"])).status_code == 401
    assert (await client.get(f"/v23.0/{media_id}")).status_code == 401


async def test_uploads_need_the_token_a_file_and_the_messaging_product(client: httpx.AsyncClient) -> None:
    url = f"/v23.0/{PHONE_NUMBER_ID}/media"
    files = {"file": ("a.pdf", PDF, "application/pdf")}
    assert (await client.post(url, data={"messaging_product": "whatsapp"}, files=files)).status_code == 401
    assert (await client.post(url, headers=AUTH, data={"messaging_product": "x"}, files=files)).status_code == 400
    assert (await client.post(url, headers=AUTH, data={"messaging_product": "whatsapp"})).status_code == 400
    unknown = await client.get("/v23.0/1234567890123456", headers=AUTH)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, 100)


async def test_a_document_sent_by_the_platform_is_downloadable_from_the_chat_page(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    media = emulator.state.add_media(PDF, "application/pdf", "certificate.pdf")
    response = await client.get(f"/_chat/media/{media.id}")

    assert (response.status_code, response.content) == (200, PDF)
    assert "certificate.pdf" in response.headers["content-disposition"]


async def test_a_citizens_photo_reaches_the_platform_as_media_it_can_download(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    photo = b"\x89PNG\r\n\x1a\n fake image"
    sent = await client.post(
        "/_chat/919200000001/send",
        data={"type": "image", "caption": "ఆధార్"},
        files={"file": ("aadhaar.png", photo, "image/png")},
    )
    assert sent.status_code == 201
    await emulator.wait_idle()

    [message] = platform.messages()
    assert message["type"] == "image"
    image = message["image"]
    assert image == {
        "caption": "ఆధార్",
        "mime_type": "image/png",
        "sha256": base64.b64encode(hashlib.sha256(photo).digest()).decode(),
        "id": image["id"],
    }
    info = (await client.get(f"/v23.0/{image['id']}", headers=AUTH)).json()
    assert (await client.get(info["url"], headers=AUTH)).content == photo


async def test_documents_and_voice_notes_carry_metas_fields(
    client: httpx.AsyncClient, emulator: Emulator, platform: FakePlatform
) -> None:
    await client.post(
        "/_chat/919200000002/send", data={"type": "document"}, files={"file": ("ration.pdf", PDF, "application/pdf")}
    )
    await client.post(
        "/_chat/919200000002/send",
        data={"type": "audio", "voice": "true"},
        files={"file": ("note.ogg", b"OggS voice", "audio/ogg")},
    )
    await emulator.wait_idle()

    document, audio = platform.messages()
    assert set(document["document"]) == {"filename", "mime_type", "sha256", "id"}
    assert document["document"]["filename"] == "ration.pdf"
    assert audio["audio"]["voice"] is True
    assert audio["audio"]["mime_type"] == "audio/ogg; codecs=opus"
