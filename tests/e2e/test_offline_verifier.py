"""The offline verifier page opened from disk (file://) in headless Chromium, on real Ed25519-signed certificates.

Each certificate is built here exactly as the QR carries it: a CWT in COSE_Sign1 (CBOR tag 18), zlib-compressed
when shorter, base32 without padding after `<PUBLIC_URL upper-cased>/V/`; the trust list is a JWK Set bundled
into a copy of the page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import time
import zlib
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import cbor2
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import chromium

pytestmark = pytest.mark.browser
shares_the_browser = pytest.mark.asyncio(loop_scope="module")  # one Chromium for the module: fast

VERIFIER = files("sevamitra.web").joinpath("static", "verifier.html")
TRUST_LIST = re.compile(r'(<script type="application/json" id="trust-list">)(.*?)(</script>)', re.DOTALL)

PUBLIC_URL = "https://seva.example.gov.in"
NOW = int(time.time())
DAY = 86_400
YEAR = 365 * DAY

ACTIVE = Ed25519PrivateKey.generate()
RETIRED = Ed25519PrivateKey.generate()  # trusted for certificates issued while it was current
REVOKED = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()  # not in the trust list at all


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def kid_of(key: Ed25519PrivateKey) -> bytes:
    return hashlib.sha256(raw(key)).digest()[:8]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(key: Ed25519PrivateKey, status: str, nbf: int, exp: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": b64url(kid_of(key)),
        "x": b64url(raw(key)),
        "nbf": nbf,
        "status": status,
    }
    if exp is not None:
        entry["exp"] = exp
    return entry


JWKS = {
    "keys": [
        jwk(ACTIVE, "active", NOW - YEAR),
        jwk(RETIRED, "retired", NOW - 3 * YEAR, NOW - YEAR),
        jwk(REVOKED, "revoked", NOW - YEAR),
    ]
}


def claims(*, issued_at: int = NOW - DAY, expiry: int | None = NOW + YEAR) -> dict[int, Any]:
    out: dict[int, Any] = {
        1: "Government of Andhra Pradesh",
        6: issued_at,
        -70001: {
            "n": "AP-REV-INC-2026-000123",
            "k": "revenue-certificate",
            "s": "revenue.income-certificate",
            "h": {"te": "లక్ష్మి దేవి", "en": "Lakshmi Devi"},
            "i": {"aadhaar": "XXXX XXXX 1234"},
            "f": [["annual_income", "₹ 84,000"], ["village", "Kondapalli"]],
            "o": {"te": "తహసీల్దార్ కార్యాలయం, ఇబ్రహీంపట్నం", "en": "Tahsildar Office, Ibrahimpatnam"},
            "p": "Tahsildar",
            "r": hashlib.sha256(b"the full stored record").digest(),
        },
    }
    if expiry is not None:
        out[4] = expiry
    return out


def qr_text(
    body: dict[int, Any],
    key: Ed25519PrivateKey = ACTIVE,
    *,
    compress: bool = True,
    kid_in_protected: bool = True,
    tamper: Callable[[bytes], bytes] | None = None,
) -> str:
    """A certificate QR's text: COSE_Sign1 over the CWT, zlib when shorter, base32 after PUBLIC_URL/V/."""
    payload = cbor2.dumps(body)
    protected = cbor2.dumps({1: -8, 4: kid_of(key)} if kid_in_protected else {1: -8})
    unprotected = {} if kid_in_protected else {4: kid_of(key)}
    signature = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    if tamper is not None:
        payload = tamper(payload)
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature]))
    packed = zlib.compress(cose, 9)
    data = packed if compress and len(packed) < len(cose) else cose
    return f"{PUBLIC_URL.upper()}/V/{base64.b32encode(data).decode().rstrip('=')}"


def code_bytes(text: str) -> bytes:
    code = text.rsplit("/V/", 1)[1]
    return base64.b32decode(code + "=" * (-len(code) % 8))


def page_with(trust_list: dict[str, Any], path: Path) -> Path:
    """A copy of the verifier with this JWK Set bundled, as the server substitutes it."""
    html = VERIFIER.read_text(encoding="utf-8")
    bundled = json.dumps(trust_list).replace("<", "\\u003c")
    html, count = TRUST_LIST.subn(lambda m: m[1] + bundled + m[3], html)
    assert count == 1
    path.write_text(html, encoding="utf-8")
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def verifier(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Page]:
    """One page, opened from disk with the test trust list bundled, shared by the verdict checks."""
    path = page_with(JWKS, tmp_path_factory.mktemp("verifier") / "verifier.html")
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(path.as_uri())
    yield page
    await page.close()
    assert errors == []


async def verify(page: Page, text: str, expected: str) -> None:
    await page.get_by_test_id("qr-input").fill(text)
    await page.get_by_test_id("verify-button").click()
    await expect(page.get_by_test_id("verdict")).to_have_attribute("data-verdict", expected, timeout=10_000)


def test_the_shipped_page_is_self_contained_with_an_empty_trust_list() -> None:
    html = VERIFIER.read_text(encoding="utf-8")
    match = TRUST_LIST.search(html)
    assert match is not None and json.loads(match[2]) == {"keys": []}
    assert not re.search(r"<link\b|\bsrc=|@import|url\(", html)


@shares_the_browser
async def test_a_genuine_certificate_is_valid_and_shows_what_it_holds(verifier: Page) -> None:
    text = qr_text(claims())
    assert code_bytes(text)[0] == 0x78  # zlib: shorter here
    await verify(verifier, text, "valid")
    verdict = verifier.get_by_test_id("verdict")
    await expect(verdict).to_contain_text("చెల్లుబాటు అవుతుంది")
    await expect(verdict).to_contain_text("Valid")
    details = verifier.get_by_test_id("details")
    for shown in (
        "AP-REV-INC-2026-000123",
        "లక్ష్మి దేవి",
        "Lakshmi Devi",
        "XXXX XXXX 1234",
        "₹ 84,000",
        "Tahsildar Office, Ibrahimpatnam",
    ):
        await expect(details).to_contain_text(shown)
    await expect(verifier.get_by_text("Compare with the paper and the holder's ID")).to_be_visible()
    await expect(verifier.get_by_test_id("revocation-note")).to_contain_text("revocation not checked")


@shares_the_browser
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(qr_text(claims(), compress=False), "valid", id="uncompressed-cbor"),
        pytest.param(qr_text(claims(expiry=None)).lower(), "valid", id="no-expiry-lower-case"),
        pytest.param(
            qr_text(claims(), tamper=lambda p: p.replace(b"Lakshmi Devi", b"Lakshmi Devo")), "altered", id="altered"
        ),
        pytest.param(qr_text(claims(), STRANGER), "unknown_key", id="unknown-key"),
        pytest.param(qr_text(claims(issued_at=NOW - 200 * DAY, expiry=NOW - DAY)), "expired", id="expired"),
        pytest.param("this is not a certificate", "unreadable", id="garbage"),
        pytest.param(qr_text(claims())[:-20], "unreadable", id="truncated"),
        pytest.param(qr_text(claims(), kid_in_protected=False), "unknown_key", id="kid-only-unprotected"),
        pytest.param(qr_text(claims(), REVOKED), "unknown_key", id="revoked-key"),
        pytest.param(qr_text(claims(issued_at=NOW - 2 * YEAR), RETIRED), "valid", id="retired-key-in-window"),
        pytest.param(qr_text(claims(), RETIRED), "unknown_key", id="retired-key-after-its-exp"),
        pytest.param(
            f"{PUBLIC_URL.upper()}/V/{base64.b32encode(zlib.compress(bytes(100_000), 9)).decode().rstrip('=')}",
            "unreadable",
            id="inflates-too-far",
        ),
    ],
)
async def test_verdicts(verifier: Page, text: str, expected: str) -> None:
    await verify(verifier, text, expected)
    await expect(verifier.get_by_test_id("details")).to_be_visible(visible=expected == "valid")


@shares_the_browser
async def test_the_shipped_page_trusts_no_key(browser: Browser, tmp_path: Path) -> None:
    path = tmp_path / "verifier.html"
    shutil.copyfile(str(VERIFIER), path)
    page = await browser.new_page()
    await page.goto(path.as_uri())
    await verify(page, qr_text(claims()), "unknown_key")
    await expect(page.get_by_text("This copy holds no trusted keys")).to_be_visible()
    await page.close()
