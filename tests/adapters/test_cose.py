"""COSE_Sign1 over cbor2: what we emit, what an outside verifier sees, and what we refuse to parse."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sevamitra.adapters.certs.cose import CoseError, Decoded, decode1, sign1
from sevamitra.adapters.certs.keys import Signer

SIGNER = Signer(bytes(range(32)))
KID = SIGNER.kid
CLAIMS: dict[int, Any] = {1: "Government of Andhra Pradesh", 6: 1768473000, -70001: {"n": "AP-1", "r": b"\x01" * 32}}
PROTECTED = cbor2.dumps({1: -8, 4: KID})
PAYLOAD = cbor2.dumps(CLAIMS)


def message(
    protected: object = PROTECTED,
    unprotected: object = None,
    payload: object = PAYLOAD,
    signature: object = b"\x00" * 64,
    *,
    tag: int = 18,
) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(tag, [protected, {} if unprotected is None else unprotected, payload, signature]))


def test_sign1_round_trips_through_decode1() -> None:
    decoded = decode1(sign1(CLAIMS, SIGNER, KID))
    assert decoded.protected == {1: -8, 4: KID}
    assert decoded.unprotected == {}
    assert decoded.claims == CLAIMS
    assert decoded.kid == KID and decoded.alg == -8
    assert SIGNER.sign(decoded.to_be_signed) == decoded.signature  # Ed25519 is deterministic


def test_the_protected_header_is_alg_eddsa_and_the_kid_in_canonical_cbor() -> None:
    raw = cbor2.loads(sign1(CLAIMS, SIGNER, KID)).value[0]
    assert raw == bytes.fromhex("a201270448") + KID  # {1: -8, 4: h'<kid>'}


def test_an_outside_verifier_with_only_cbor2_and_cryptography_accepts_the_signature() -> None:
    cose = sign1(CLAIMS, SIGNER, KID)
    tagged = cbor2.loads(cose)
    assert cose[0] == 0xD2 and tagged.tag == 18
    protected, unprotected, payload, signature = tagged.value
    header = cbor2.loads(protected)
    assert header[1] == -8 and header[4] == hashlib.sha256(SIGNER.public).digest()[:8]
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    Ed25519PublicKey.from_public_bytes(SIGNER.public).verify(signature, to_be_signed)  # raises if bad
    assert cbor2.loads(payload) == CLAIMS
    assert unprotected == {}


def test_decode1_exposes_the_kid_and_alg_only_from_the_protected_header() -> None:
    decoded = decode1(message(protected=cbor2.dumps({}), unprotected={1: -8, 4: KID}))
    assert decoded.kid is None and decoded.alg is None
    assert decoded.unprotected == {1: -8, 4: KID}


def test_an_empty_protected_header_is_an_empty_map() -> None:
    assert decode1(message(protected=b"")).protected == {}


def test_an_unknown_non_critical_header_is_ignored() -> None:
    assert isinstance(decode1(message(unprotected={99: "note"})), Decoded)


def duplicate_alg_header() -> bytes:
    return bytes.fromhex("a3012701260448") + KID  # {1: -8, 1: -7, 4: kid}


MALFORMED = {
    "empty": b"",
    "untagged array": cbor2.dumps([PROTECTED, {}, PAYLOAD, b""]),
    "another tag (COSE_Sign, 98)": message(tag=98),
    "tag 18 in a non-preferred encoding": b"\xd8\x12" + message()[1:],
    "array of three": cbor2.dumps(cbor2.CBORTag(18, [PROTECTED, {}, PAYLOAD])),
    "array of five": cbor2.dumps(cbor2.CBORTag(18, [PROTECTED, {}, PAYLOAD, b"", b""])),
    "a map instead of an array": cbor2.dumps(cbor2.CBORTag(18, {1: 2})),
    "protected header as a map, not a bstr": message(protected={1: -8}),
    "protected bstr not a map": message(protected=cbor2.dumps(-8)),
    "protected bstr with trailing bytes": message(protected=PROTECTED + b"\x00"),
    "unprotected not a map": message(unprotected=[1]),
    "payload not a map": message(payload=cbor2.dumps([1, 2])),
    "payload not CBOR": message(payload=b"\xff\xfe"),
    "detached payload (nil)": message(payload=None),
    "signature not a bstr": message(signature="sig"),
    "trailing bytes after the message": message() + b"\x00",
    "truncated": message()[:-10],
    "over 8 KiB": message(payload=cbor2.dumps({1: "x" * 9000})),
    "duplicate label in the protected header": message(protected=duplicate_alg_header()),
    "duplicate claim in the payload": message(payload=bytes.fromhex("a2016161016162")),
    "label in both buckets": message(unprotected={4: KID}),
    "critical header": message(protected=cbor2.dumps({1: -8, 2: [99], 4: KID, 99: 1})),
    "critical header unprotected": message(unprotected={2: [99]}),
    "kid not a bstr": message(protected=cbor2.dumps({1: -8, 4: "kid"})),
    "indefinite-length payload map": message(payload=bytes.fromhex("bf0101ff")),
    "a tag inside the payload (datetime)": message(payload=cbor2.dumps({6: cbor2.CBORTag(1, 1768473000)})),
    "a bignum inside the payload": message(payload=cbor2.dumps({6: cbor2.CBORTag(2, b"\x01" * 20)})),
    "deeply nested payload": message(payload=b"\xa1\x01" * 40 + b"\x00"),
    "invalid UTF-8 in a text string": message(payload=bytes.fromhex("a10162ff00")),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_raises_cose_error(data: bytes) -> None:
    with pytest.raises(CoseError):
        decode1(data)


CBOR_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=40) | st.text(max_size=20) | st.floats(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.integers() | st.text(max_size=5), inner, max_size=5),
    max_leaves=20,
)


@given(st.binary(max_size=600))
@settings(max_examples=500, deadline=None)
def test_random_bytes_decode_or_raise_cose_error(data: bytes) -> None:
    for candidate in (data, b"\xd2" + data):
        with contextlib.suppress(CoseError):
            assert isinstance(decode1(candidate), Decoded)


@given(st.lists(CBOR_VALUES, max_size=5), CBOR_VALUES, CBOR_VALUES)
@settings(max_examples=300, deadline=None)
def test_random_structures_under_tag_18_decode_or_raise_cose_error(
    items: list[Any], protected: object, payload: object
) -> None:
    candidates = [
        cbor2.dumps(cbor2.CBORTag(18, items)),
        message(protected=cbor2.dumps(protected)),
        message(payload=cbor2.dumps(payload)),
    ]
    for candidate in candidates:
        with contextlib.suppress(CoseError):
            assert isinstance(decode1(candidate), Decoded)
