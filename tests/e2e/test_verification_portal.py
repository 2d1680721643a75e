"""The verification portal against real issued certificates: the QR's URL, uploads, the API, the lists."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import cbor2
import pytest
from playwright.async_api import Browser

from sevamitra.adapters.certs import read_revocations
from sevamitra.adapters.certs.keys import TrustList
from sevamitra.adapters.qr_scan import qr_texts
from sevamitra.cli.certificates import sample_to_file
from tests.e2e.conftest import Running

SERVICE = "revenue.income-certificate"


async def issued(running: Running, tmp_path: Path, n: int = 0) -> tuple[str, str]:
    """A certificate issued through the real action: its number and the text of its printed QR."""
    path = await sample_to_file(running.platform, SERVICE, n, tmp_path)
    (text,) = qr_texts(path.read_bytes())
    return path.stem, text


def forged(text: str) -> str:
    """The same QR with one byte of the signed claims changed, the signature kept (as a forger would)."""
    prefix, _, encoded = text.rpartition("/V/")
    raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    if raw[:1] == b"\x78":
        raw = zlib.decompress(raw)
    protected, unprotected, payload, signature = cbor2.loads(raw).value
    altered = bytearray(payload)
    altered[len(altered) // 2] ^= 0x01
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, bytes(altered), signature]))
    return f"{prefix}/V/{base64.b32encode(cose).decode().rstrip('=')}"


def local(running: Running, text: str) -> str:
    """The QR's URL on the server under test (the QR holds PUBLIC_URL, upper-cased)."""
    return f"{running.url}/V/{text.rpartition('/V/')[2]}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_qr_url_of_an_issued_certificate_says_valid_then_revoked(running: Running, tmp_path: Path) -> None:
    number, text = await issued(running, tmp_path)
    assert text.startswith(running.url.upper() + "/V/")
    page = await running.http.get(local(running, text))
    assert page.status_code == 200 and 'data-verdict="valid"' in page.text and number in page.text
    assert "XXXX XXXX" in page.text or "aadhaar" not in page.text.lower()
    await running.platform.certificates.revoke(number, "issued in error", running.platform.clock.now())
    again = await running.http.get(local(running, text))
    assert 'data-verdict="revoked"' in again.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_forged_qr_is_refused(running: Running, tmp_path: Path) -> None:
    _, text = await issued(running, tmp_path)
    page = await running.http.get(local(running, forged(text)))
    assert 'data-verdict="altered"' in page.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_api_verifies_an_uploaded_pdf_and_a_pasted_text(running: Running, tmp_path: Path) -> None:
    number, text = await issued(running, tmp_path)
    pdf = (tmp_path / f"{number}.pdf").read_bytes()
    upload = await running.http.post(f"{running.url}/api/verify", files={"file": ("c.pdf", pdf, "application/pdf")})
    assert upload.json()["verdict"] == "valid" and upload.json()["certificate_number"] == number
    pasted = await running.http.post(f"{running.url}/api/verify", json={"qr_text": forged(text)})
    assert pasted.json()["verdict"] == "altered"
    nothing = await running.http.post(f"{running.url}/api/verify", json={"qr_text": "hello"})
    assert nothing.json()["verdict"] == "unreadable"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_trust_list_and_the_signed_revocation_list_are_published(running: Running, tmp_path: Path) -> None:
    number, _ = await issued(running, tmp_path)
    await running.platform.certificates.revoke(number, "test", running.platform.clock.now())
    keys = (await running.http.get(f"{running.url}/.well-known/sevamitra/keys.json")).json()
    trust = TrustList.from_jwks(keys)
    assert keys["keys"][0]["kty"] == "OKP" and keys["keys"][0]["crv"] == "Ed25519"
    listed = await running.http.get(f"{running.url}/.well-known/sevamitra/revocations.cbor")
    assert read_revocations(listed.content, trust)[number].revoked


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_certificate_pdf_is_downloadable_only_by_its_token(running: Running, tmp_path: Path) -> None:
    missing = await running.http.get(f"{running.url}/c/not-a-token.pdf")
    assert missing.status_code == 404


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_verification_page_in_a_browser_valid_revoked_forged(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    valid_number, valid = await issued(running, tmp_path, 0)
    revoked_number, revoked = await issued(running, tmp_path, 1)
    await running.platform.certificates.revoke(revoked_number, "test", running.platform.clock.now())
    page = await browser.new_page()
    for text, expected in ((valid, "valid"), (revoked, "revoked"), (forged(valid), "altered")):
        await page.goto(local(running, text))
        verdict = page.get_by_test_id("verdict")
        assert await verdict.get_attribute("data-verdict") == expected
        assert "ఆంధ్రప్రదేశ్" in (await page.content()) or expected != "valid"
    await page.goto(f"{running.url}/verify")
    await page.get_by_test_id("upload").set_input_files(str(tmp_path / f"{valid_number}.pdf"))
    await page.get_by_test_id("check").click()
    assert await page.get_by_test_id("verdict").get_attribute("data-verdict") == "valid"
