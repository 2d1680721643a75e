"""Ed25519 signing keys and the trust list for certificates.

A key is named by its kid: the first 8 bytes of SHA-256 of the raw 32-byte public key. Keys are
published as a JWK Set (RFC 7517/8037) with their validity window and status, so an offline
verifier can tell which key was trusted for which dates.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

KeyStatus = Literal["active", "retired", "revoked"]
KID_BYTES = 8
KEY_BYTES = 32


def kid_of(public: bytes) -> bytes:
    """The key id: the first 8 bytes of SHA-256 of the raw public key."""
    return hashlib.sha256(public).digest()[:KID_BYTES]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyInfo:
    """A public key and when the state vouches for what it signed: [not_before, not_after)."""

    kid: bytes
    public: bytes
    not_before: datetime
    not_after: datetime | None
    status: KeyStatus

    def covers(self, moment: datetime) -> bool:
        """Whether a signature dated `moment` counts: inside the window and the key not revoked."""
        if self.status == "revoked" or moment < self.not_before:
            return False
        return self.not_after is None or moment < self.not_after


def generate_key(now: datetime, *, valid_days: int | None = None) -> tuple[bytes, KeyInfo]:
    """A fresh key: its raw 32-byte private half (seal it before storing) and its public info."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = _public_bytes(private.public_key())
    not_after = now + timedelta(days=valid_days) if valid_days is not None else None
    return raw, KeyInfo(kid=kid_of(public), public=public, not_before=now, not_after=not_after, status="active")


class Signer:
    """Signs with one Ed25519 private key, given as its raw 32 bytes."""

    __slots__ = ("_key", "kid", "public")

    def __init__(self, private: bytes) -> None:
        if len(private) != KEY_BYTES:
            raise ValueError("an Ed25519 private key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(private)
        self.public = _public_bytes(self._key.public_key())
        self.kid = kid_of(self.public)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"Signer(kid={self.kid.hex()})"


def verify_signature(public: bytes, signature: bytes, data: bytes) -> bool:
    """Whether `signature` is `public`'s Ed25519 signature of `data`; False on any malformed input."""
    if len(public) != KEY_BYTES or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


class TrustList:
    """The keys a verifier trusts, by kid."""

    def __init__(self, keys: Sequence[KeyInfo]) -> None:
        self._keys: dict[bytes, KeyInfo] = {}
        for key in keys:
            if key.kid != kid_of(key.public):
                raise ValueError(f"kid {key.kid.hex()} does not match its public key")
            if key.kid in self._keys:
                raise ValueError(f"kid {key.kid.hex()} appears twice")
            self._keys[key.kid] = key

    def __iter__(self) -> Iterator[KeyInfo]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, kid: bytes) -> KeyInfo | None:
        return self._keys.get(kid)

    def newest_active(self, now: datetime) -> KeyInfo:
        """The key to sign with now: the active key valid now with the latest not_before."""
        usable = [k for k in self._keys.values() if k.status == "active" and k.covers(now)]
        if not usable:
            raise LookupError("no active signing key is valid now")
        return max(usable, key=lambda k: k.not_before)

    def jwks(self) -> dict[str, Any]:
        """The JWK Set published at /.well-known/sevamitra/keys.json."""
        return {"keys": [_jwk(key) for key in self._keys.values()]}

    @staticmethod
    def from_jwks(document: Mapping[str, Any]) -> TrustList:
        """The trust list from a JWK Set; ValueError on anything malformed or inconsistent."""
        try:
            return TrustList([_key_of_jwk(jwk) for jwk in document["keys"]])
        except (KeyError, TypeError, AttributeError, OverflowError, OSError) as error:
            raise ValueError(f"not a sevamitra JWK Set: {error!r}") from error


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwk(key: KeyInfo) -> dict[str, Any]:
    jwk: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": _b64url(key.kid),
        "x": _b64url(key.public),
        "use": "sig",
        "alg": "EdDSA",
        "nbf": int(key.not_before.timestamp()),
        "status": key.status,
    }
    if key.not_after is not None:
        jwk["exp"] = int(key.not_after.timestamp())
    return jwk


def _key_of_jwk(jwk: Mapping[str, Any]) -> KeyInfo:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or jwk.get("alg", "EdDSA") != "EdDSA":
        raise ValueError("only Ed25519 (OKP, EdDSA) keys are supported")
    public = _unb64url(jwk["x"])
    if len(public) != KEY_BYTES:
        raise ValueError("an Ed25519 public key is 32 bytes")
    status = jwk["status"]
    if status not in get_args(KeyStatus):
        raise ValueError(f"unknown key status {status!r}")
    expiry = jwk.get("exp")
    return KeyInfo(
        kid=_unb64url(jwk["kid"]),
        public=public,
        not_before=_time(jwk["nbf"]),
        not_after=_time(expiry) if expiry is not None else None,
        status=cast(KeyStatus, status),
    )


def _time(value: object) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("a time is integer seconds since the epoch")
    return datetime.fromtimestamp(value, UTC)
