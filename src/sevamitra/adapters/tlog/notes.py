"""Ed25519 signed notes (C2SP signed-note, type 0x01) and witness cosignatures (tlog-cosignature, type 0x04).

The formats live in `sevamitra.core.checkpoints`; this module adds the cryptography. Verification
follows the signed-note rules: signatures from unknown keys are ignored, a signature from a known
key that fails rejects the whole note, and a note with no verified signature is rejected.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sevamitra.core.checkpoints import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    FormatError,
    Note,
    NoteSignature,
    cosigned_message,
    key_id,
    parse_skey,
    parse_timestamped_signature,
    parse_vkey,
    timestamped_signature,
)
from sevamitra.core.checkpoints import vkey as format_vkey

SIGNATURE_SIZE = 64
SEED_SIZE = 32


class NoteVerificationError(ValueError):
    """A note or cosignature that does not verify against the trusted keys."""


def _public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes_raw()


class NoteSigner:
    """Signs note texts with one Ed25519 key under one key name (signature type 0x01)."""

    __slots__ = ("_private_key", "key_id", "name", "vkey")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        public = _public_bytes(private_key)
        self.vkey = format_vkey(name, ED25519_TYPE, public)
        self.name = name
        self.key_id = key_id(name, ED25519_TYPE, public)
        self._private_key = private_key

    def sign(self, text: bytes) -> NoteSignature:
        """The signature line over a note text (which must end with a newline)."""
        if not text.endswith(b"\n"):
            raise ValueError("note text must end with a newline")
        return NoteSignature(name=self.name, key_id=self.key_id, signature=self._private_key.sign(text))


class CosignatureSigner:
    """A witness: timestamped Ed25519 cosignatures over checkpoint bodies (signature type 0x04)."""

    __slots__ = ("_private_key", "key_id", "name", "vkey")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        public = _public_bytes(private_key)
        self.vkey = format_vkey(name, COSIGNATURE_TYPE, public)
        self.name = name
        self.key_id = key_id(name, COSIGNATURE_TYPE, public)
        self._private_key = private_key

    def cosign(self, body: bytes, timestamp: int) -> NoteSignature:
        """A cosignature/v1 over a checkpoint body at `timestamp` (POSIX seconds)."""
        signature = self._private_key.sign(cosigned_message(body, timestamp))
        return NoteSignature(name=self.name, key_id=self.key_id, signature=timestamped_signature(timestamp, signature))


def _private_key(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != SEED_SIZE:
        raise ValueError(f"an Ed25519 seed is {SEED_SIZE} bytes, not {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def note_signer_from_seed(name: str, seed: bytes) -> NoteSigner:
    """A note signer from a 32-byte Ed25519 seed."""
    return NoteSigner(name, _private_key(seed))


def cosignature_signer_from_seed(name: str, seed: bytes) -> CosignatureSigner:
    """A cosigner from a 32-byte Ed25519 seed."""
    return CosignatureSigner(name, _private_key(seed))


def note_signer_from_skey(text: str) -> NoteSigner:
    """A note signer from `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`; checks the key id."""
    name, key_type, seed, stated_id = parse_skey(text)
    if key_type != ED25519_TYPE:
        raise FormatError(f"signer key {name!r} has type {key_type:#04x}, not Ed25519 ({ED25519_TYPE:#04x})")
    signer = note_signer_from_seed(name, seed)
    if signer.key_id != stated_id:
        raise FormatError(f"signer key {name!r} states a key id that does not match its key")
    return signer


def _verify(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _verify_one(key_type: int, public: Ed25519PublicKey, text: bytes, signature: NoteSignature) -> bool:
    if key_type == ED25519_TYPE:
        return len(signature.signature) == SIGNATURE_SIZE and _verify(public, signature.signature, text)
    try:
        timestamp, raw = parse_timestamped_signature(signature.signature, SIGNATURE_SIZE)
    except FormatError:
        return False
    return _verify(public, raw, cosigned_message(text, timestamp))


def _trusted(vkeys: Iterable[str]) -> dict[tuple[str, bytes], tuple[int, Ed25519PublicKey]]:
    trusted: dict[tuple[str, bytes], tuple[int, Ed25519PublicKey]] = {}
    for text in vkeys:
        name, key_type, public, stated_id = parse_vkey(text)
        if key_type not in (ED25519_TYPE, COSIGNATURE_TYPE):
            raise ValueError(f"verifier key {name!r} has unsupported type {key_type:#04x}")
        trusted[name, stated_id] = (key_type, Ed25519PublicKey.from_public_bytes(public))
    return trusted


def verify_note(note: Note, vkeys: Iterable[str]) -> list[str]:
    """The names whose signatures verify, in note order; raises unless at least one does.

    Signatures from keys not among `vkeys` are ignored; one from a trusted key that fails to
    verify, or appears twice, rejects the note. Type 0x04 keys check cosignatures over the text.
    """
    trusted = _trusted(vkeys)
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for signature in note.signatures:
        known = (signature.name, signature.key_id)
        if known not in trusted:
            continue
        if known in seen:
            raise NoteVerificationError(f"note carries two signatures by {signature.name!r}")
        seen.add(known)
        key_type, public = trusted[known]
        if not _verify_one(key_type, public, note.text, signature):
            raise NoteVerificationError(f"the signature by {signature.name!r} does not verify")
        verified.append(signature.name)
    if not verified:
        raise NoteVerificationError("no signature on the note is by a trusted key")
    return verified


def verify_cosignature(body: bytes, signature: NoteSignature, vkey: str) -> int:
    """The timestamp of a valid cosignature/v1 over `body` by the cosigner whose key is `vkey`."""
    name, key_type, public, stated_id = parse_vkey(vkey)
    if key_type != COSIGNATURE_TYPE:
        raise ValueError(f"verifier key {name!r} is not a cosignature key (type {COSIGNATURE_TYPE:#04x})")
    if (signature.name, signature.key_id) != (name, stated_id):
        raise NoteVerificationError(f"the signature by {signature.name!r} is not by the cosigner {name!r}")
    try:
        timestamp, raw = parse_timestamped_signature(signature.signature, SIGNATURE_SIZE)
    except FormatError as error:
        raise NoteVerificationError(str(error)) from None
    if not _verify(Ed25519PublicKey.from_public_bytes(public), raw, cosigned_message(body, timestamp)):
        raise NoteVerificationError(f"the cosignature by {name!r} does not verify")
    return timestamp
