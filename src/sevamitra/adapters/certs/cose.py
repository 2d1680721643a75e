"""COSE_Sign1 (RFC 9052) over cbor2, the package's only importer of `cbor2`.

Written here rather than taken from pycose (which breaks with cbor2 6): only what a certificate
needs, strict on input. `decode1` parses without trusting anything; what it returns must still
be verified (`to_be_signed` against `signature`) with a key chosen by the protected `kid`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import cbor2

TAG_SIGN1 = 18
TAG_SIGN1_BYTE = 0xD2  # tag 18 in its one-byte (preferred) form
HEADER_ALG, HEADER_CRIT, HEADER_KID = 1, 2, 4
ALG_EDDSA = -8
MAX_COSE_BYTES = 8 * 1024
MAX_DEPTH = 16


class CoseError(ValueError):
    """Bytes that are not a well-formed COSE_Sign1 as we accept it."""


class Ed25519Signer(Protocol):
    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Decoded:
    """A parsed, not yet verified, COSE_Sign1."""

    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes
    to_be_signed: bytes  # the Sig_structure the signature must cover
    claims: dict[Any, Any]  # the payload decoded: always a CBOR map

    @property
    def kid(self) -> bytes | None:
        """The key id, from the protected header only (an unprotected kid is not signed)."""
        kid = self.protected.get(HEADER_KID)
        return kid if isinstance(kid, bytes) else None

    @property
    def alg(self) -> object:
        """The algorithm, from the protected header only; None when absent."""
        return self.protected.get(HEADER_ALG)


def encode(value: object) -> bytes:
    """Canonical CBOR: shortest forms, definite lengths, map keys length-first (RFC 8949 §4.2.3)."""
    return cbor2.dumps(value, canonical=True)


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes signed: ["Signature1", protected, external_aad, payload]."""
    return encode(["Signature1", protected, external_aad, payload])


def assemble(protected: bytes, unprotected: Mapping[Any, Any], payload: bytes, signature: bytes) -> bytes:
    """The COSE_Sign1 message: tag 18 over [protected, unprotected, payload, signature]."""
    return encode(cbor2.CBORTag(TAG_SIGN1, [protected, dict(unprotected), payload, signature]))


def sign1(claims: Mapping[Any, Any], private: Ed25519Signer, kid: bytes) -> bytes:
    """Sign a claims map as COSE_Sign1 with EdDSA; alg and kid go in the protected header."""
    protected = encode({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid})
    payload = encode(dict(claims))
    return assemble(protected, {}, payload, private.sign(sig_structure(protected, payload)))


def decode1(data: bytes) -> Decoded:
    """Parse COSE_Sign1 bytes strictly; CoseError on anything malformed. Verifies nothing."""
    if not isinstance(data, bytes) or len(data) > MAX_COSE_BYTES:
        raise CoseError(f"not bytes, or over {MAX_COSE_BYTES} bytes")
    if not data or data[0] != TAG_SIGN1_BYTE:
        raise CoseError("not a COSE_Sign1 (CBOR tag 18)")
    message = _loads(data[1:], "COSE_Sign1")
    if not isinstance(message, list) or len(message) != 4:
        raise CoseError("COSE_Sign1 is an array of four")
    protected_bytes, unprotected, payload, signature = message
    if not isinstance(protected_bytes, bytes):
        raise CoseError("the protected header is not a byte string")
    protected = _loads(protected_bytes, "protected header") if protected_bytes else {}
    if not isinstance(protected, dict) or not isinstance(unprotected, dict):
        raise CoseError("a header is not a map")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CoseError("payload and signature must be byte strings (no detached payload)")
    _check_headers(protected, unprotected)
    claims = _loads(payload, "payload")
    if not isinstance(claims, dict):
        raise CoseError("the payload is not a CBOR map")
    return Decoded(
        protected=protected,
        unprotected=unprotected,
        payload=payload,
        signature=signature,
        to_be_signed=sig_structure(protected_bytes, payload),
        claims=claims,
    )


def _check_headers(protected: dict[Any, Any], unprotected: dict[Any, Any]) -> None:
    if set(protected) & set(unprotected):
        raise CoseError("a header label appears in both buckets")
    if HEADER_CRIT in protected or HEADER_CRIT in unprotected:
        raise CoseError("critical header parameters we do not understand")
    if HEADER_KID in protected and not isinstance(protected[HEADER_KID], bytes):
        raise CoseError("kid is not a byte string")


class _NoTags(Mapping[int, Any]):
    """cbor2 semantic decoders: every tag refused (no datetimes, bignums, regexes, sharing ...)."""

    def __getitem__(self, tag: int) -> Any:
        def refuse(value: object, immutable: bool) -> NoReturn:
            raise CoseError(f"CBOR tag {tag} is not allowed")

        return refuse

    def __contains__(self, tag: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


_NO_TAGS = _NoTags()


def _loads(data: bytes, what: str) -> Any:
    """One CBOR item filling `data` exactly: definite lengths, unique keys, no tags, bounded depth."""
    stream = io.BytesIO(data)
    try:
        decoder = cbor2.CBORDecoder(
            stream,
            semantic_decoders=_NO_TAGS,
            max_depth=MAX_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
        value = decoder.decode()
    except Exception as error:  # cbor2 raises many types (CBORDecodeError, ValueError, ...) on bad input
        raise CoseError(f"malformed CBOR in the {what}: {error}") from error
    if stream.tell() != len(data):
        raise CoseError(f"trailing bytes after the {what}")
    return value
