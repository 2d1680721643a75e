"""C2SP text formats of a transparency log: tlog-checkpoint, signed-note, vkeys and tlog-proof.

Everything here is bytes in, typed values out, and back; signing and verifying live in an adapter.
Parsers are strict: a value has exactly one accepted encoding, and anything else raises
`FormatError`, so two parties never disagree on what a signed text says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

HASH_SIZE = 32
KEY_ID_SIZE = 4
ED25519_KEY_SIZE = 32
ED25519_TYPE = 0x01
COSIGNATURE_TYPE = 0x04
MAX_SIGNATURES = 100
MAX_TIMESTAMP = (1 << 63) - 1
MAX_UINT64 = (1 << 64) - 1
EM_DASH = "\u2014"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
COSIGNATURE_HEADER = b"cosignature/v1\n"

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
_FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline


class FormatError(ValueError):
    """Bytes that are not a well-formed checkpoint, note, key or proof."""


def b64encode(data: bytes) -> str:
    """Standard base64 (RFC 4648 section 4) with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: right alphabet, padding and unused bits, or FormatError."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not base64: {text!r}") from None
    if b64encode(data) != text:
        raise FormatError(f"{what} is not canonical base64: {text!r}")
    return data


def parse_decimal(text: str, what: str) -> int:
    """An unsigned 64-bit ASCII decimal with no leading zeroes (unless it is 0)."""
    if len(text) > len(str(MAX_UINT64)) or not _DECIMAL.fullmatch(text):
        raise FormatError(f"{what} is not a canonical decimal: {text[:40]!r}")
    value = int(text)
    if value > MAX_UINT64:
        raise FormatError(f"{what} {value} does not fit in 64 bits")
    return value


def _text(data: bytes, what: str) -> str:
    """Valid UTF-8 with no ASCII control characters other than newline."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{what} is not valid UTF-8") from None
    bad = _FORBIDDEN.search(text)
    if bad:
        raise FormatError(f"{what} contains the control character {bad.group()!r}")
    return text


def _check_line(line: str, what: str) -> None:
    """One non-empty line of text that UTF-8 can encode, with no control characters."""
    if not line or "\n" in line or _FORBIDDEN.search(line):
        raise FormatError(f"{what} {line!r} must be one non-empty line with no control characters")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(f"{what} {line!r} is not encodable as UTF-8") from None


def _check_key_name(name: str) -> None:
    _check_line(name, "key name")
    if any(c.isspace() or c == "+" for c in name):
        raise FormatError(f"key name {name!r} must have no spaces or '+'")


# tlog-checkpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """The note text of a tree head: origin, size, root hash and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            _check_line(line, "checkpoint line")
        if not 0 <= self.size <= MAX_UINT64:
            raise ValueError(f"tree size {self.size} is outside 0..2**64-1")
        if len(self.root) != HASH_SIZE:
            raise ValueError(f"root hash is {len(self.root)} bytes, not {HASH_SIZE}")

    def body(self) -> bytes:
        """The note text: `origin\\nsize\\nbase64(root)\\n` then one line per extension."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def parse_checkpoint(body: bytes) -> Checkpoint:
    """A checkpoint from its note text; strict about every line."""
    text = _text(body, "checkpoint")
    if not text.endswith("\n"):
        raise FormatError("checkpoint does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError(f"checkpoint has {len(lines)} lines, needs at least 3")
    if any(not line for line in lines):
        raise FormatError("checkpoint has an empty line")
    origin, size_text, root_text, *extensions = lines
    root = b64decode(root_text, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise FormatError(f"checkpoint root hash is {len(root)} bytes, not {HASH_SIZE}")
    size = parse_decimal(size_text, "checkpoint tree size")
    return Checkpoint(origin=origin, size=size, root=root, extensions=tuple(extensions))


# signed-note


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key id and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.key_id) != KEY_ID_SIZE:
            raise ValueError(f"key id is {len(self.key_id)} bytes, not {KEY_ID_SIZE}")
        if not self.signature:
            raise ValueError("signature is empty")

    def line(self) -> str:
        """`— <name> <base64(key id ‖ signature)>` without the newline."""
        return f"{EM_DASH} {self.name} {b64encode(self.key_id + self.signature)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A signed note: text ending in a newline, and one or more signatures over it."""

    text: bytes
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        _text(self.text, "note text")
        if not self.text.endswith(b"\n"):
            raise ValueError("note text must end with a newline")
        if not 1 <= len(self.signatures) <= MAX_SIGNATURES:
            raise ValueError(f"a note carries 1 to {MAX_SIGNATURES} signatures, not {len(self.signatures)}")


def format_note(note: Note) -> bytes:
    """The text, a blank line, then one signature line each."""
    lines = "".join(signature.line() + "\n" for signature in note.signatures)
    return note.text + b"\n" + lines.encode("utf-8")


def _parse_signature_line(line: str) -> NoteSignature:
    prefix = EM_DASH + " "
    if not line.startswith(prefix):
        raise FormatError(f"signature line does not start with an em dash and a space: {line!r}")
    parts = line[len(prefix) :].split(" ")
    if len(parts) != 2:
        raise FormatError(f"signature line is not `— <name> <signature>`: {line!r}")
    name, encoded = parts
    _check_key_name(name)
    blob = b64decode(encoded, "signature")
    if len(blob) <= KEY_ID_SIZE:
        raise FormatError(f"signature of {name!r} is too short to hold a key id and a signature")
    return NoteSignature(name=name, key_id=blob[:KEY_ID_SIZE], signature=blob[KEY_ID_SIZE:])


def parse_note(data: bytes) -> Note:
    """A signed note; the text is everything up to the last blank line."""
    _text(data, "note")
    split = data.rfind(b"\n\n")
    if split < 0:
        raise FormatError("note has no blank line between its text and its signatures")
    block = data[split + 2 :].decode("utf-8")
    if not block:
        raise FormatError("note has no signature lines after its last blank line")
    if not block.endswith("\n"):
        raise FormatError("note does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    signatures = tuple(_parse_signature_line(line) for line in lines)
    return Note(text=data[: split + 1], signatures=signatures)


# keys


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """The recommended key id: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    if not 0 <= key_type <= 0xFF:
        raise ValueError(f"key type {key_type} is not a byte")
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public).digest()[:KEY_ID_SIZE]


def vkey(name: str, key_type: int, public: bytes) -> str:
    """A verifier key string: `<name>+<hex key id>+<base64(type ‖ public key)>`."""
    _check_key_name(name)
    return f"{name}+{key_id(name, key_type, public).hex()}+{b64encode(bytes([key_type]) + public)}"


def _split_key(text: str, what: str) -> tuple[str, int, bytes, bytes]:
    parts = text.split("+", 2)  # base64 may hold '+'; names may not
    if len(parts) != 3:
        raise FormatError(f"{what} is not `<name>+<key id>+<key>`")
    name, id_hex, encoded = parts
    _check_key_name(name)
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise FormatError(f"{what} key id {id_hex!r} is not 8 lowercase hex digits")
    material = b64decode(encoded, f"{what} key")
    if len(material) < 2:
        raise FormatError(f"{what} key is too short to hold a type and a key")
    return name, material[0], material[1:], bytes.fromhex(id_hex)


def parse_vkey(text: str) -> tuple[str, int, bytes, bytes]:
    """(name, key type, public key, key id) from a verifier key; the key id must match the key."""
    name, key_type, public, stated_id = _split_key(text, "verifier key")
    if key_type in (ED25519_TYPE, COSIGNATURE_TYPE) and len(public) != ED25519_KEY_SIZE:
        raise FormatError(f"verifier key {name!r} holds {len(public)} bytes, not a {ED25519_KEY_SIZE}-byte Ed25519 key")
    if stated_id != key_id(name, key_type, public):
        raise FormatError(f"verifier key {name!r} states a key id that does not match its key")
    return name, key_type, public, stated_id


def parse_skey(text: str) -> tuple[str, int, bytes, bytes]:
    """(name, key type, private key, key id) from `PRIVATE+KEY+<name>+<hex key id>+<base64(type ‖ key)>`.

    The key id belongs to the public key, so only the signer that derives it can check it.
    """
    prefix = "PRIVATE+KEY+"
    if not text.startswith(prefix):
        raise FormatError("signer key does not start with PRIVATE+KEY+")
    return _split_key(text[len(prefix) :], "signer key")


# tlog-cosignature


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: `cosignature/v1\\ntime <seconds>\\n` and the checkpoint body."""
    _check_timestamp(timestamp)
    return COSIGNATURE_HEADER + b"time %d\n" % timestamp + body


def timestamped_signature(timestamp: int, signature: bytes) -> bytes:
    """The cosignature bytes after the key id: 8-byte big-endian timestamp ‖ signature."""
    _check_timestamp(timestamp)
    return timestamp.to_bytes(8, "big") + signature


def parse_timestamped_signature(blob: bytes, signature_size: int = 64) -> tuple[int, bytes]:
    """(timestamp, signature) from the cosignature bytes after the key id."""
    if len(blob) != 8 + signature_size:
        raise FormatError(f"a timestamped signature is {8 + signature_size} bytes, not {len(blob)}")
    timestamp = int.from_bytes(blob[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise FormatError(f"cosignature timestamp {timestamp} exceeds 2**63 - 1")
    return timestamp, blob[8:]


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp} is outside 0..2**63-1")


# tlog-proof


@dataclass(frozen=True, slots=True, kw_only=True)
class TlogProof:
    """An offline proof of inclusion: index, inclusion path, the signed checkpoint, optional extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: Note
    extra: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.index <= MAX_UINT64:
            raise ValueError(f"entry index {self.index} is outside 0..2**64-1")
        if any(len(item) != HASH_SIZE for item in self.hashes):
            raise ValueError(f"every proof hash is {HASH_SIZE} bytes")
        parse_checkpoint(self.checkpoint.text)


def format_proof(proof: TlogProof) -> bytes:
    """`c2sp.org/tlog-proof@v1`, optional `extra`, `index N`, the hashes, a blank line, the note."""
    lines = [PROOF_HEADER]
    if proof.extra:
        lines.append(f"extra {b64encode(proof.extra)}")
    lines.append(f"index {proof.index}")
    lines.extend(b64encode(item) for item in proof.hashes)
    head = "".join(line + "\n" for line in lines) + "\n"
    return head.encode("ascii") + format_note(proof.checkpoint)


def parse_proof(data: bytes) -> TlogProof:
    """A tlog-proof; the checkpoint note and its body are parsed strictly too."""
    split = data.find(b"\n\n")
    if split < 0:
        raise FormatError("proof has no blank line before its checkpoint")
    lines = _text(data[:split], "proof").split("\n")
    if lines[0] != PROOF_HEADER:
        raise FormatError(f"proof does not start with {PROOF_HEADER}")
    position, extra = 1, b""
    if len(lines) > 1 and lines[1].startswith("extra "):
        extra = b64decode(lines[1].removeprefix("extra "), "proof extra data")
        if not extra:
            raise FormatError("proof has an empty extra line")
        position = 2
    if len(lines) <= position or not lines[position].startswith("index "):
        raise FormatError("proof has no `index` line")
    index = parse_decimal(lines[position].removeprefix("index "), "proof index")
    hashes = tuple(b64decode(line, "proof hash") for line in lines[position + 1 :])
    if any(len(item) != HASH_SIZE for item in hashes):
        raise FormatError(f"a proof hash is not {HASH_SIZE} bytes")
    return TlogProof(index=index, hashes=hashes, checkpoint=parse_note(data[split + 2 :]), extra=extra)
