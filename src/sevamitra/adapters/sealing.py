"""Encryption at rest for personal data (drafts, answers, secrets): envelope encryption with AES-256-GCM.

Each value gets a data key of its own (32 random bytes) that encrypts it; the data key is stored with
the value, wrapped (AES-256-GCM again) by a master key from settings. A sealed value reads

    v2:<master key id>:<base64 of nonce ‖ wrapped data key>:<base64 of nonce ‖ ciphertext>

The newest master key wraps, any configured one unwraps, so a master key is rotated by configuring a
new one beside the old: new values are sealed under it at once, and `sevamitra keys rotate-data`
rewraps the existing ones (their data keys only: the data is not decrypted). Values sealed before
envelopes (`<key id>:<base64>`, the master key directly) still open, and the rotation reseals them.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
ENVELOPE = "v2"
_WRAP_CONTEXT = b"sevamitra data key "  # additional data of a wrapped key, with the master key's id
_DATA_CONTEXT = b"sevamitra data"


class SealError(ValueError):
    """A sealed value that cannot be opened: unknown key, or tampered with."""


def key_from_secret(secret: str) -> bytes:
    """A master key from a configured secret: 32 bytes of base64, or any passphrase (hashed to 32 bytes)."""
    try:
        key = base64.b64decode(secret, validate=True)
    except ValueError:
        key = b""
    return key if len(key) == KEY_BYTES else hashlib.sha256(secret.encode()).digest()


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class AesGcmSealer:
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES or ":" in key_id:
                raise ValueError(f"key {key_id!r} must be 32 bytes and its id free of ':'")
        self._masters = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @staticmethod
    def from_secret(secret: str) -> AesGcmSealer:
        """One master key from a configured secret."""
        return AesGcmSealer.from_secrets(secret)

    @staticmethod
    def from_secrets(current: str, previous: Sequence[str] = ()) -> AesGcmSealer:
        """The current master key, and earlier ones that still open what they sealed until rewrapped."""
        keys = {key_id_of(key): key for key in map(key_from_secret, (*previous, current))}
        return AesGcmSealer(keys, key_id_of(key_from_secret(current)))

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, plain: bytes) -> str:
        data_key = AESGCM.generate_key(bit_length=256)
        return self._envelope(self._wrap(data_key), _encrypt(AESGCM(data_key), plain, _DATA_CONTEXT))

    def open(self, sealed: str) -> bytes:
        if sealed.startswith(ENVELOPE + ":"):
            _, key_id, wrapped, payload = _parts(sealed)
            return _decrypt(AESGCM(self._unwrap(key_id, wrapped)), payload, _DATA_CONTEXT)
        key_id, _, payload = sealed.partition(":")  # before envelopes: the master key sealed the value itself
        return _decrypt(self._master(key_id), payload, key_id.encode())

    def key_of(self, sealed: str) -> str:
        """The id of the master key a value is sealed under."""
        return _parts(sealed)[1] if sealed.startswith(ENVELOPE + ":") else sealed.partition(":")[0]

    def is_current(self, sealed: str) -> bool:
        """Whether a value is an envelope under the current master key (nothing for a rotation to do)."""
        return sealed.startswith(f"{ENVELOPE}:{self._current}:")

    def reseal(self, sealed: str) -> str:
        """The value under the current master key: an envelope's data key rewrapped (its ciphertext kept as
        it is), an older value sealed again as an envelope. Raises SealError for a value no key opens."""
        if self.is_current(sealed):
            return sealed
        if sealed.startswith(ENVELOPE + ":"):
            _, key_id, wrapped, payload = _parts(sealed)
            return self._envelope(self._wrap(self._unwrap(key_id, wrapped)), payload)
        return self.seal(self.open(sealed))

    def _envelope(self, wrapped: str, payload: str) -> str:
        return f"{ENVELOPE}:{self._current}:{wrapped}:{payload}"

    def _wrap(self, data_key: bytes) -> str:
        return _encrypt(self._masters[self._current], data_key, _WRAP_CONTEXT + self._current.encode())

    def _unwrap(self, key_id: str, wrapped: str) -> bytes:
        return _decrypt(self._master(key_id), wrapped, _WRAP_CONTEXT + key_id.encode())

    def _master(self, key_id: str) -> AESGCM:
        cipher = self._masters.get(key_id)
        if cipher is None:
            raise SealError(f"no key {key_id!r} to open this value")
        return cipher


def _parts(sealed: str) -> tuple[str, str, str, str]:
    parts = sealed.split(":")
    if len(parts) != 4:
        raise SealError("a sealed envelope has four parts")
    return parts[0], parts[1], parts[2], parts[3]


def _encrypt(cipher: AESGCM, plain: bytes, context: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + cipher.encrypt(nonce, plain, context)).decode()


def _decrypt(cipher: AESGCM, payload: str, context: bytes) -> bytes:
    try:
        raw = base64.b64decode(payload, validate=True)
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except Exception as error:  # cryptography's InvalidTag (tampered or wrong key), or bad base64
        raise SealError("sealed value failed its integrity check") from error
