"""The certificate QR under fuzzing: QR text, COSE_Sign1, claims, trust list, revocation list and
uploaded images each give a value or their documented error; verification never raises, and no
mutation of a valid QR verifies with a payload other than the one signed."""

from __future__ import annotations

import functools
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any, get_args

import cbor2
from fpdf import FPDF
from hypothesis import strategies as st

from sevamitra.adapters.certs import KeyInfo, Signer, TrustList, check_certificate, sign_certificate, verify_qr_text
from sevamitra.adapters.certs.cose import CoseError, decode1, sign1
from sevamitra.adapters.certs.revocations import RevocationListError, read_revocation_list, sign_revocations
from sevamitra.adapters.pdf.qr import qr_image
from sevamitra.adapters.qr_scan import ScanError, qr_texts
from sevamitra.core.certificates import CertificateStatement, Status, Verdict
from sevamitra.core.qr import QrError, Reason, payload_of, qr_text
from tests.fuzz.harness import fuzz
from tests.fuzz.mutations import inputs, json_like, mutated, mutated_json

URL = "https://sevamitra.ap.gov.in"
SIGNER = Signer(bytes(range(32)))
KEY = KeyInfo(
    kid=SIGNER.kid, public=SIGNER.public, not_before=datetime(2026, 1, 1, tzinfo=UTC), not_after=None, status="active"
)
TRUST = TrustList([KEY])
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STATEMENT = CertificateStatement(
    number="AP-REV-INC-2026-000123",
    kind="income-certificate",
    service_id="revenue.income-certificate",
    issuer="Government of Andhra Pradesh",
    issued_at=datetime(2026, 1, 15, 10, 30, tzinfo=UTC),
    valid_until=datetime(2027, 1, 15, 10, 30, tzinfo=UTC),
    holder={"te": "లక్ష్మి దేవి", "en": "Lakshmi Devi"},
    masked_ids={"aadhaar": "XXXX XXXX 1234"},
    facts=(("label.amount_inr", "120000"),),
    office={"en": "Tahsildar, Guntur"},
    officer="Tahsildar",
    record_hash=hashlib.sha256(b"record").digest(),
)
COSE = sign_certificate(STATEMENT, SIGNER, SIGNER.kid)
TEXT = qr_text(URL, COSE)
REVOCATIONS = sign_revocations(
    [("AP-1", "revoked", None, NOW), ("AP-2", "superseded", "AP-3", NOW)], SIGNER, SIGNER.kid, NOW
)
STATUSES = {"AP-REV-INC-2026-000124": Status(revoked=True)}
# what a CBOR decoder may meet: JSON's values and byte strings, tags, simple values and big numbers
cbor_values = st.one_of(
    json_like,
    st.binary(max_size=40),
    st.sampled_from([cbor2.CBORTag(1, 0), cbor2.CBORTag(2, b"\x01"), cbor2.CBORSimpleValue(99), 2**70, -(2**70)]),
)


def text_seeds() -> list[bytes]:
    raw = COSE.hex()  # not base32: a seed the QR reader must refuse
    return [TEXT.encode(), TEXT.lower().encode(), TEXT.rpartition("/V/")[2].encode(), raw.encode()]


@fuzz(inputs(text_seeds(), max_size=600).map(lambda data: data.decode("utf-8", "replace")), st.booleans())
def test_qr_text_reader(text: str, with_url: bool) -> None:
    try:
        payload = payload_of(text, public_url=URL if with_url else None)
    except QrError as error:
        reason: str = error.reason
    else:
        assert 0 < len(payload) <= 16384
        return
    assert reason in get_args(Reason)


@fuzz(inputs(text_seeds(), max_size=600).map(lambda data: data.decode("utf-8", "replace")))
def test_verification_of_qr_text(text: str) -> None:
    checked = verify_qr_text(text, TRUST, STATUSES.get, NOW)
    assert isinstance(checked.verdict, Verdict)
    if checked.statement is not None:  # only the signed payload itself can carry a statement
        assert checked.cose == COSE and checked.statement == STATEMENT


@fuzz(inputs([COSE, REVOCATIONS], max_size=1024))
def test_cose_sign1_decoder(data: bytes) -> None:
    try:
        decoded = decode1(data)
    except CoseError:
        return
    assert isinstance(decoded.claims, dict) and isinstance(decoded.protected, dict)
    checked = check_certificate(data, TRUST, STATUSES.get, NOW)
    assert checked.statement is None or checked.cose == COSE


@fuzz(mutated_json([STATEMENT.claims()], values=cbor_values))
def test_signed_claims_that_are_not_a_certificate(claims: Any) -> None:
    """A trusted key's signature over malformed claims: the checks after the signature never raise."""
    try:
        cose = sign1(claims if isinstance(claims, dict) else {1: claims}, SIGNER, SIGNER.kid)
    except (cbor2.CBOREncodeError, TypeError, ValueError):
        return  # not encodable, so no one could have signed it
    checked = check_certificate(cose, TRUST, STATUSES.get, NOW)
    assert isinstance(checked.verdict, Verdict)
    if checked.statement is not None:
        assert CertificateStatement.from_claims(checked.statement.claims()) == checked.statement


@fuzz(mutated_json([TRUST.jwks()]))
def test_trust_list_reader(document: Any) -> None:
    try:
        trust = TrustList.from_jwks(document)
    except ValueError:
        return
    assert TrustList.from_jwks(json.loads(json.dumps(trust.jwks()))).jwks() == trust.jwks()


@fuzz(inputs([REVOCATIONS, COSE], max_size=1024))
def test_revocation_list_bytes(data: bytes) -> None:
    try:
        read_revocation_list(data, TRUST)
    except RevocationListError:
        return


@fuzz(
    mutated_json(
        [{"iat": int(NOW.timestamp()), "entries": [["AP-1", "revoked", None, 1], ["AP-2", "superseded", "AP-3", 1]]}],
        values=cbor_values,
    )
)
def test_signed_revocation_lists_that_are_malformed(claims: Any) -> None:
    try:
        data = sign1(claims if isinstance(claims, dict) else {"iat": claims}, SIGNER, SIGNER.kid)
    except (cbor2.CBOREncodeError, TypeError, ValueError):
        return
    try:
        listed = read_revocation_list(data, TRUST)
    except RevocationListError:
        return
    assert all(isinstance(number, str) for number in listed.statuses)


@functools.cache
def image_seeds() -> tuple[bytes, ...]:
    """The QR as a photo would bring it: PNG, JPEG, GIF, BMP, TIFF, WebP, and in a PDF."""
    image = qr_image(TEXT).image
    seeds = []
    for kind in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"):
        out = io.BytesIO()
        image.save(out, kind)
        seeds.append(out.getvalue())
    pdf = FPDF(unit="pt", format=(200, 200))
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    seeds.append(bytes(pdf.output()))
    return tuple(seeds)


@fuzz(st.deferred(lambda: mutated(image_seeds(), edits=3)), weight=0.3)
def test_uploaded_image_scanner(data: bytes) -> None:
    try:
        texts = qr_texts(data)
    except ScanError:
        return
    assert all(isinstance(text, str) for text in texts)
