"""Ed25519 keys, the trust list and its JWK Set, and the signed revocation list."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import cbor2
import pytest

from sevamitra.adapters.certs import (
    KeyInfo,
    RevocationListError,
    Signer,
    TrustList,
    generate_key,
    kid_of,
    read_revocation_list,
    read_revocations,
    sign_revocations,
    verify_signature,
)
from sevamitra.adapters.certs.cose import assemble, decode1, sign1
from sevamitra.adapters.certs.keys import KeyStatus
from sevamitra.core.certificates import Status

NOW = datetime(2026, 6, 1, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)


def key(
    private: bytes, *, status: KeyStatus = "active", not_before: datetime = START, not_after: datetime | None = None
) -> KeyInfo:
    public = Signer(private).public
    return KeyInfo(kid=kid_of(public), public=public, not_before=not_before, not_after=not_after, status=status)


SIGNER = Signer(b"\x01" * 32)
TRUST = TrustList([key(b"\x01" * 32)])


def test_a_generated_key_signs_and_its_public_half_verifies() -> None:
    private, info = generate_key(NOW, valid_days=365)
    assert len(private) == 32 and len(info.public) == 32
    assert info.not_before == NOW and info.not_after == NOW + timedelta(days=365) and info.status == "active"
    signature = Signer(private).sign(b"statement")
    assert verify_signature(info.public, signature, b"statement")
    assert not verify_signature(info.public, signature, b"statemenT")


def test_a_key_without_valid_days_has_no_end() -> None:
    assert generate_key(NOW)[1].not_after is None


def test_the_kid_is_the_first_eight_bytes_of_sha256_of_the_public_key() -> None:
    private, info = generate_key(NOW)
    assert info.kid == hashlib.sha256(info.public).digest()[:8] == kid_of(info.public) == Signer(private).kid


@pytest.mark.parametrize(
    ("public", "signature"), [(b"\x00" * 31, b"\x00" * 64), (b"\x00" * 32, b"\x00" * 63), (b"", b"")]
)
def test_malformed_keys_or_signatures_do_not_verify(public: bytes, signature: bytes) -> None:
    assert verify_signature(public, signature, b"data") is False


def test_a_signer_refuses_a_private_key_of_the_wrong_length_and_hides_it_in_repr() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Signer(b"\x01" * 31)
    assert "0101" not in repr(SIGNER) and SIGNER.kid.hex() in repr(SIGNER)


def test_the_trust_list_finds_keys_by_kid() -> None:
    assert TRUST.get(SIGNER.kid) == key(b"\x01" * 32)
    assert TRUST.get(b"\x00" * 8) is None


def test_the_trust_list_refuses_a_kid_that_does_not_match_its_key() -> None:
    wrong = KeyInfo(kid=b"\x00" * 8, public=SIGNER.public, not_before=START, not_after=None, status="active")
    with pytest.raises(ValueError, match="does not match"):
        TrustList([wrong])


def test_the_trust_list_refuses_the_same_key_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        TrustList([key(b"\x01" * 32), key(b"\x01" * 32, status="retired")])


def test_the_newest_active_key_valid_now_signs() -> None:
    old = key(b"\x02" * 32, not_before=START)
    newer = key(b"\x03" * 32, not_before=START + timedelta(days=30))
    future = key(b"\x04" * 32, not_before=NOW + timedelta(days=1))
    retired = key(b"\x05" * 32, not_before=NOW - timedelta(days=1), status="retired")
    ended = key(b"\x06" * 32, not_before=NOW - timedelta(days=2), not_after=NOW)
    assert TrustList([old, newer, future, retired, ended]).newest_active(NOW) == newer


def test_no_usable_key_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        TrustList([key(b"\x02" * 32, status="revoked")]).newest_active(NOW)


def test_the_jwk_set_describes_each_key_as_an_ed25519_okp() -> None:
    info = key(b"\x02" * 32, not_after=NOW, status="retired")
    (jwk,) = TrustList([info]).jwks()["keys"]
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": base64.urlsafe_b64encode(info.kid).decode().rstrip("="),
        "x": base64.urlsafe_b64encode(info.public).decode().rstrip("="),
        "use": "sig",
        "alg": "EdDSA",
        "nbf": int(START.timestamp()),
        "exp": int(NOW.timestamp()),
        "status": "retired",
    }


def test_the_jwk_set_round_trips_through_json() -> None:
    keys = [key(b"\x02" * 32), key(b"\x03" * 32, not_after=NOW, status="retired"), key(b"\x04" * 32, status="revoked")]
    document = json.loads(json.dumps(TrustList(keys).jwks()))
    assert list(TrustList.from_jwks(document)) == keys
    assert "exp" not in document["keys"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("kty", "EC"), ("crv", "Ed448"), ("alg", "ES256"), ("x", "AAAA"), ("kid", "AAAAAAAAAAA"), ("status", "lost"),
     ("nbf", "2026-01-01"), ("nbf", None)],
)  # fmt: skip
def test_a_jwk_set_with_a_bad_key_is_refused(field: str, value: object) -> None:
    document = TrustList([key(b"\x02" * 32)]).jwks()
    document["keys"][0][field] = value
    with pytest.raises(ValueError):  # noqa: PT011 - each case fails for its own reason
        TrustList.from_jwks(document)


def test_a_document_that_is_not_a_jwk_set_is_refused() -> None:
    for document in ({}, {"keys": None}, {"keys": [1]}):
        with pytest.raises(ValueError, match="JWK Set"):
            TrustList.from_jwks(document)


ENTRIES = [
    ("AP-REV-INC-2026-000001", "revoked", None, START + timedelta(days=3)),
    ("AP-REV-INC-2026-000002", "superseded", "AP-REV-INC-2026-000009", START + timedelta(days=4)),
]


def test_a_signed_revocation_list_reads_back_as_statuses() -> None:
    signed = sign_revocations(ENTRIES, SIGNER, SIGNER.kid, NOW)
    assert read_revocations(signed, TRUST) == {
        "AP-REV-INC-2026-000001": Status(revoked=True),
        "AP-REV-INC-2026-000002": Status(superseded_by="AP-REV-INC-2026-000009"),
    }
    listed = read_revocation_list(signed, TRUST)
    assert listed.issued_at == NOW and listed.kid == SIGNER.kid


def test_the_revocation_list_payload_is_the_documented_map() -> None:
    claims = decode1(sign_revocations(ENTRIES, SIGNER, SIGNER.kid, NOW)).claims
    assert claims == {
        "iat": int(NOW.timestamp()),
        "entries": [[n, kind, by, int(at.timestamp())] for n, kind, by, at in ENTRIES],
    }


def test_an_empty_revocation_list_is_valid() -> None:
    assert read_revocations(sign_revocations([], SIGNER, SIGNER.kid, NOW), TRUST) == {}


def test_a_tampered_revocation_list_is_rejected() -> None:
    decoded = decode1(sign_revocations(ENTRIES, SIGNER, SIGNER.kid, NOW))
    claims = dict(decoded.claims, entries=decoded.claims["entries"][1:])  # quietly un-revoke one
    tampered = assemble(cbor2.dumps({1: -8, 4: SIGNER.kid}), {}, cbor2.dumps(claims), decoded.signature)
    with pytest.raises(RevocationListError, match="signature"):
        read_revocations(tampered, TRUST)


def test_a_revocation_list_signed_by_an_untrusted_key_is_rejected() -> None:
    stranger = Signer(b"\x09" * 32)
    with pytest.raises(RevocationListError, match="trust list"):
        read_revocations(sign_revocations(ENTRIES, stranger, stranger.kid, NOW), TRUST)


def test_a_revocation_list_signed_outside_the_keys_window_is_rejected() -> None:
    trust = TrustList([key(b"\x01" * 32, not_after=NOW - timedelta(days=1), status="retired")])
    with pytest.raises(RevocationListError, match="not valid"):
        read_revocations(sign_revocations(ENTRIES, SIGNER, SIGNER.kid, NOW), trust)


@pytest.mark.parametrize(
    "entries",
    [
        [["A", "cancelled", None, 0]],
        [["A", "superseded", None, 0]],
        [["A", "revoked", None, "yesterday"]],
        [["A", "revoked", None, 0], ["A", "revoked", None, 1]],
        [["A", "revoked", None]],
        "everything",
    ],
)
def test_a_revocation_list_with_malformed_entries_is_rejected(entries: object) -> None:
    signed = sign1({"iat": int(NOW.timestamp()), "entries": entries}, SIGNER, SIGNER.kid)
    with pytest.raises(RevocationListError):
        read_revocations(signed, TRUST)


def test_garbage_is_not_a_revocation_list() -> None:
    with pytest.raises(RevocationListError):
        read_revocations(b"\xd2\x84", TRUST)


def test_signing_refuses_a_kid_that_is_not_the_signers() -> None:
    with pytest.raises(ValueError, match="not the signer's"):
        sign_revocations(ENTRIES, SIGNER, b"\x00" * 8, NOW)
