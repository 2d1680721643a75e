"""Encryption at rest for personal data (drafts, answers): AES-256-GCM with named keys.

A sealed value is `<key id>:<base64 of nonce ‖ ciphertext>`; the newest key seals, any configured
key opens, so keys can be rotated without rewriting old rows at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that cannot be opened: unknown key, or tampered with."""


class AesGcmSealer:
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32 or ":" in key_id:
                raise ValueError(f"key {key_id!r} must be 32 bytes and its id free of ':'")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @staticmethod
    def from_secret(secret: str) -> AesGcmSealer:
        """One key from a configured secret: 32 bytes of base64, or any passphrase (hashed to 32 bytes)."""
        try:
            key = base64.b64decode(secret, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            key = hashlib.sha256(secret.encode()).digest()
        key_id = hashlib.sha256(key).hexdigest()[:8]
        return AesGcmSealer({key_id: key}, key_id)

    def seal(self, plain: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plain, self._current.encode())
        return f"{self._current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> bytes:
        key_id, _, payload = sealed.partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(f"no key {key_id!r} to open this value")
        raw = base64.b64decode(payload)
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode())
        except Exception as error:  # cryptography's InvalidTag: tampered or wrong key
            raise SealError("sealed value failed its integrity check") from error
