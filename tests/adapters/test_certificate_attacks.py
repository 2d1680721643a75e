"""Certificates end to end: sign → QR text → verify, and every attack we know of, each with its verdict."""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sevamitra.adapters.certs import (
    Checked,
    KeyInfo,
    Signer,
    TrustList,
    check_certificate,
    kid_of,
    sign_certificate,
    sign_revocations,
    verify_qr_text,
)
from sevamitra.adapters.certs.cose import decode1
from sevamitra.adapters.certs.keys import KeyStatus
from sevamitra.core.certificates import CertificateStatement, Status, Verdict
from sevamitra.core.qr import qr_text

URL = "http://127.0.0.1:8000"
QR_PATTERN = re.compile(r"^HTTPS?://[A-Z0-9.:\-]+(?:/[A-Z0-9.\-]+)*/V/([A-Z2-7]+)$")
KEY_START = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SIGNER = Signer(bytes(range(32)))  # the worked example's key, published in docs/reference/qr-format.md
STRANGER = Signer(b"\xee" * 32)
DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "qr-format.md"


def key_info(
    signer: Signer = SIGNER,
    *,
    not_after: datetime | None = None,
    status: KeyStatus = "active",
    not_before: datetime = KEY_START,
) -> KeyInfo:
    return KeyInfo(kid=signer.kid, public=signer.public, not_before=not_before, not_after=not_after, status=status)


TRUST = TrustList([key_info()])


def statement(**changes: Any) -> CertificateStatement:
    fields: dict[str, Any] = {
        "number": "AP-REV-INC-2026-000123",
        "kind": "income-certificate",
        "service_id": "revenue.income-certificate",
        "issuer": "Government of Andhra Pradesh",
        "issued_at": ISSUED,
        "valid_until": datetime(2027, 1, 15, 10, 30, tzinfo=UTC),
        "holder": {"en": "Lakshmi Devi"},
        "masked_ids": {"aadhaar": "XXXX XXXX 1234"},
        "facts": (("label.amount_inr", "120000"),),
        "office": {"en": "Tahsildar, Guntur"},
        "officer": "Tahsildar",
        "record_hash": hashlib.sha256(b"example").digest(),
    }
    return CertificateStatement(**(fields | changes))


def no_status(number: str) -> Status | None:
    return None


def never_asked(number: str) -> Status | None:
    raise AssertionError("the registry must not be consulted before the signature checks out")


def check(cose: bytes, *, trust: TrustList = TRUST, status: Status | None = None, now: datetime = NOW) -> Checked:
    return check_certificate(cose, trust, lambda number: status, now)


def signed(value: CertificateStatement | None = None) -> bytes:
    return sign_certificate(value or statement(), SIGNER, SIGNER.kid)


def forge(
    claims: dict[Any, Any], *, protected: dict[int, Any], unprotected: dict[int, Any] | None = None, by: Signer = SIGNER
) -> bytes:
    """A COSE_Sign1 built by hand with any headers, signed properly by `by`."""
    protected_bytes = cbor2.dumps(protected)
    payload = cbor2.dumps(claims)
    signature = by.sign(cbor2.dumps(["Signature1", protected_bytes, b"", payload]))
    return cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, unprotected or {}, payload, signature]))


def parts(cose: bytes) -> list[Any]:
    return list(cbor2.loads(cose).value)


# ------------------------------------------------------------------ the happy path


def test_a_signed_certificate_verifies_from_its_qr_text() -> None:
    text = qr_text(URL, signed())
    checked = verify_qr_text(text, TRUST, no_status, NOW, public_url=URL)
    assert checked.verdict is Verdict.VALID and checked.reason == "valid"
    assert checked.statement == statement() and checked.kid == SIGNER.kid


def test_the_qr_text_is_an_alphanumeric_verification_link() -> None:
    assert QR_PATTERN.fullmatch(qr_text(URL, signed()))


def test_a_lower_cased_scan_without_a_configured_url_verifies() -> None:
    assert verify_qr_text(qr_text(URL, signed()).lower(), TRUST, no_status, NOW).verdict is Verdict.VALID


def test_a_full_size_telugu_certificate_fits_in_one_qr() -> None:
    big = statement(
        holder={"te": "వెంకట లక్ష్మి దేవి", "en": "Venkata Lakshmi Devi"},
        facts=tuple((f"label.fact_{i}", f"వివరం సంఖ్య {i} ఇక్కడ") for i in range(8)),
        office={"te": "తహసీల్దార్ కార్యాలయం, గుంటూరు", "en": "Tahsildar office, Guntur"},
    )
    text = qr_text(URL, signed(big))
    assert len(text) <= 4096  # QR version 40-L holds 4,296 alphanumeric characters
    assert verify_qr_text(text, TRUST, no_status, NOW, public_url=URL).statement == big


def test_an_outside_verifier_reads_the_qr_with_standard_tools() -> None:
    encoded = QR_PATTERN.fullmatch(qr_text(URL, signed()))
    assert encoded
    data = base64.b32decode(encoded.group(1) + "=" * (-len(encoded.group(1)) % 8))
    cose = zlib.decompress(data) if data[0] == 0x78 else data
    protected, _, payload, signature = parts(cose)
    assert cbor2.loads(protected) == {1: -8, 4: hashlib.sha256(SIGNER.public).digest()[:8]}
    assert verify_with_cryptography(SIGNER.public, signature, cbor2.dumps(["Signature1", protected, b"", payload]))
    claims = cbor2.loads(payload)
    assert claims[1] == "Government of Andhra Pradesh" and claims[6] == int(ISSUED.timestamp())
    assert claims[-70001]["n"] == "AP-REV-INC-2026-000123"


def verify_with_cryptography(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except InvalidSignature:
        return False
    return True


def test_a_retired_key_still_vouches_for_what_it_signed_before_retirement() -> None:
    trust = TrustList([key_info(not_after=ISSUED + timedelta(days=1), status="retired")])
    assert check(signed(), trust=trust).verdict is Verdict.VALID


# ------------------------------------------------------------------ altered or forged


def test_a_forged_signature_is_altered() -> None:
    protected, unprotected, payload, _ = parts(signed())
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, os.urandom(64)]))
    checked = check_certificate(forged, TRUST, never_asked, NOW)
    assert checked.verdict is Verdict.ALTERED and checked.statement is None


CLAIM_PATHS = [
    (1,),
    (4,),
    (6,),
    (-70001, "n"),
    (-70001, "k"),
    (-70001, "s"),
    (-70001, "h", "en"),
    (-70001, "i", "aadhaar"),
    (-70001, "f", 0, 0),
    (-70001, "f", 0, 1),
    (-70001, "o", "en"),
    (-70001, "p"),
    (-70001, "r"),
]


def altered(value: Any) -> Any:
    if isinstance(value, str):
        return value[:-1] + ("X" if value[-1:] != "X" else "Y")
    if isinstance(value, bytes):
        return value[:-1] + bytes([value[-1] ^ 0x01])
    return value + 1


@pytest.mark.parametrize("path", CLAIM_PATHS, ids=lambda path: "/".join(map(str, path)))
def test_altering_any_single_claim_is_detected(path: tuple[Any, ...]) -> None:
    protected, unprotected, payload, signature = parts(signed())
    claims = copy.deepcopy(cbor2.loads(payload))
    *inner, last = path
    holder = claims
    for step in inner:
        holder = holder[step]
    holder[last] = altered(holder[last])
    tampered = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    checked = check_certificate(tampered, TRUST, never_asked, NOW)
    assert checked.verdict is Verdict.ALTERED and checked.statement is None


def test_adding_a_claim_is_detected() -> None:
    protected, unprotected, payload, signature = parts(signed())
    claims = cbor2.loads(payload) | {4: int((NOW + timedelta(days=9999)).timestamp())}
    tampered = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    assert check(tampered).verdict is Verdict.ALTERED


def test_no_single_flipped_byte_yields_a_valid_certificate() -> None:
    cose = signed()
    for index in range(len(cose)):
        damaged = cose[:index] + bytes([cose[index] ^ 0x20]) + cose[index + 1 :]
        assert check(damaged).verdict is not Verdict.VALID, index


def test_a_payload_resigned_with_an_untrusted_key_under_the_trusted_kid_is_altered() -> None:
    claims = statement(number="AP-REV-INC-2026-999999").claims()
    assert check(forge(claims, protected={1: -8, 4: SIGNER.kid}, by=STRANGER)).verdict is Verdict.ALTERED


def test_a_payload_resigned_with_an_untrusted_key_under_its_own_kid_is_an_unknown_key() -> None:
    checked = check_certificate(sign_certificate(statement(), STRANGER, STRANGER.kid), TRUST, never_asked, NOW)
    assert checked.verdict is Verdict.UNKNOWN_KEY and checked.kid == STRANGER.kid and checked.statement is None


def test_a_kid_only_in_the_unprotected_header_is_an_unknown_key() -> None:
    cose = forge(statement().claims(), protected={1: -8}, unprotected={4: SIGNER.kid})
    checked = check_certificate(cose, TRUST, never_asked, NOW)
    assert checked.verdict is Verdict.UNKNOWN_KEY and "unprotected" in checked.reason


def test_an_unknown_kid_is_an_unknown_key() -> None:
    cose = forge(statement().claims(), protected={1: -8, 4: b"\x00" * 8})
    assert check(cose).verdict is Verdict.UNKNOWN_KEY


def test_a_trusted_kid_for_another_public_key_is_not_trusted() -> None:
    assert kid_of(STRANGER.public) != SIGNER.kid
    assert check(signed(), trust=TrustList([key_info(STRANGER)])).verdict is Verdict.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("protected", "unprotected", "said"),
    [
        ({1: -7, 4: SIGNER.kid}, {}, "-7"),  # ES256
        ({4: SIGNER.kid}, {}, "None"),  # no alg at all
        ({1: "EdDSA", 4: SIGNER.kid}, {}, "EdDSA"),
        ({4: SIGNER.kid}, {1: -8}, "None"),  # alg only where it is not signed
    ],
    ids=["ES256", "missing", "text", "unprotected"],
)
def test_an_alg_other_than_eddsa_in_the_protected_header_is_altered(
    protected: dict[int, Any], unprotected: dict[int, Any], said: str
) -> None:
    cose = forge(statement().claims(), protected=protected, unprotected=unprotected)
    checked = check_certificate(cose, TRUST, never_asked, NOW)
    assert checked.verdict is Verdict.ALTERED and "alg" in checked.reason and said in checked.reason


def test_a_revocation_list_presented_as_a_certificate_is_unreadable() -> None:
    signed_list = sign_revocations([], SIGNER, SIGNER.kid, NOW)
    assert check_certificate(signed_list, TRUST, never_asked, NOW).verdict is Verdict.UNREADABLE


# ------------------------------------------------------------------ keys and dates


def test_a_key_retired_before_the_issue_date_is_an_unknown_key() -> None:
    trust = TrustList([key_info(not_after=ISSUED - timedelta(seconds=1), status="retired")])
    checked = check_certificate(signed(), trust, never_asked, NOW)
    assert checked.verdict is Verdict.UNKNOWN_KEY and checked.statement is None


def test_a_certificate_issued_at_the_moment_of_retirement_is_an_unknown_key() -> None:
    trust = TrustList([key_info(not_after=ISSUED, status="retired")])
    assert check(signed(), trust=trust).verdict is Verdict.UNKNOWN_KEY


def test_a_certificate_dated_before_its_key_existed_is_an_unknown_key() -> None:
    trust = TrustList([key_info(not_before=ISSUED + timedelta(days=1))])
    assert check(signed(), trust=trust).verdict is Verdict.UNKNOWN_KEY


def test_a_revoked_key_vouches_for_nothing() -> None:
    checked = check(signed(), trust=TrustList([key_info(status="revoked")]))
    assert checked.verdict is Verdict.UNKNOWN_KEY and "revoked" in checked.reason


# ------------------------------------------------------------------ registers and expiry


def test_a_revoked_certificate_is_revoked() -> None:
    checked = check(signed(), status=Status(revoked=True, reason="issued in error"))
    assert checked.verdict is Verdict.REVOKED and checked.reason == "revoked: issued in error"
    assert checked.statement == statement()


def test_a_superseded_certificate_names_its_successor() -> None:
    checked = check(signed(), status=Status(superseded_by="AP-REV-INC-2026-000200"))
    assert checked.verdict is Verdict.SUPERSEDED and checked.reason == "superseded by AP-REV-INC-2026-000200"


def test_revocation_outranks_supersession() -> None:
    assert check(signed(), status=Status(revoked=True, superseded_by="X")).verdict is Verdict.REVOKED


def test_an_expired_certificate_is_expired_and_valid_up_to_the_instant() -> None:
    valid_until = datetime(2027, 1, 15, 10, 30, tzinfo=UTC)
    assert check(signed(), now=valid_until).verdict is Verdict.VALID
    checked = check(signed(), now=valid_until + timedelta(seconds=1))
    assert checked.verdict is Verdict.EXPIRED and "2027-01-15" in checked.reason


def test_a_certificate_without_an_end_never_expires() -> None:
    assert check(signed(statement(valid_until=None)), now=datetime(2090, 1, 1, tzinfo=UTC)).verdict is Verdict.VALID


def test_a_revoked_registration_cannot_be_hidden_by_an_expiry() -> None:
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert check(signed(), status=Status(revoked=True), now=later).verdict is Verdict.REVOKED


# ------------------------------------------------------------------ damaged or hostile QR text


def unreadable(text: str, *, public_url: str | None = URL) -> str:
    checked = verify_qr_text(text, TRUST, never_asked, NOW, public_url=public_url)
    assert checked.verdict is Verdict.UNREADABLE and checked.statement is None
    return checked.reason


def test_truncated_qr_text_is_unreadable() -> None:
    text = qr_text(URL, signed())
    for keep in (len(text) - 1, len(text) - 8, len(text) // 2, len(URL) + 4):
        unreadable(text[:keep])


def test_garbled_base32_is_unreadable() -> None:
    text = qr_text(URL, signed())
    assert "not_base32" in unreadable(text[:-3] + "0" + text[-2:])
    assert "not_base32" in unreadable(text[:-3] + "!" + text[-2:])


def test_another_sites_link_is_unreadable_as_a_wrong_prefix() -> None:
    text = qr_text("https://evil.example", signed())
    assert "wrong_prefix" in unreadable(text)


def test_a_decompression_bomb_is_unreadable_as_too_large() -> None:
    bomb = zlib.compress(bytes(10_000_000), 9)
    assert "too_large" in unreadable(f"{URL}/V/{base64.b32encode(bomb).decode().rstrip('=')}")
    small_bomb = zlib.compress(bytes(2_000_000), 9)
    assert "too_large" in unreadable(base64.b32encode(small_bomb).decode().rstrip("="), public_url=None)


def test_oversized_input_is_unreadable() -> None:
    assert "too_large" in unreadable(f"{URL}/V/" + "A" * 5000)
    oversized_cose = forge({1: "x" * 9000}, protected={1: -8, 4: SIGNER.kid})
    assert check_certificate(oversized_cose, TRUST, never_asked, NOW).verdict is Verdict.UNREADABLE


def test_valid_base32_of_something_else_is_unreadable() -> None:
    unreadable(qr_text(URL, b"\xd2not cbor at all"))
    unreadable(qr_text(URL, cbor2.dumps({"hello": "world"})))


@given(st.text(max_size=500))
@settings(max_examples=300, deadline=None)
def test_any_text_gets_a_verdict_never_an_exception(text: str) -> None:
    assert isinstance(verify_qr_text(text, TRUST, no_status, NOW, public_url=URL), Checked)
    assert isinstance(verify_qr_text(text, TRUST, no_status, NOW), Checked)


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_any_payload_bytes_get_a_verdict_never_an_exception(data: bytes) -> None:
    for payload in (data, b"\xd2" + data, zlib.compress(b"\xd2" + data)):
        if payload:
            checked = verify_qr_text(qr_text(URL, payload), TRUST, no_status, NOW)
            assert isinstance(checked, Checked) and checked.verdict is not Verdict.VALID


# ------------------------------------------------------------------ the reference's worked example


def test_the_worked_example_in_the_reference_is_reproducible() -> None:
    cose = signed()
    text = qr_text(URL, cose)
    document = "".join(DOC.read_text(encoding="utf-8").split())
    assert SIGNER.public.hex() in document and SIGNER.kid.hex() in document
    assert cose.hex() in document
    assert text in document
    assert decode1(cose).to_be_signed[:30].hex() in document


def test_the_references_outside_verifier_snippet_verifies_the_worked_example() -> None:
    blocks = re.findall(r"^ *```[a-z]*\n(.*?)\n *```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    text = next(b for b in blocks if b.startswith("HTTP://")).replace("\n", "")
    snippet = next(b for b in blocks if b.startswith("import base64"))
    for scanned in (text, f" {text.lower()}\n", text.rpartition("/V/")[2]):
        namespace: dict[str, Any] = {"text": scanned, "public": SIGNER.public}
        exec(snippet, namespace)  # noqa: S102 - runs the reference's own snippet, a fixed text in this repository
        assert namespace["claims"] == statement().claims()
