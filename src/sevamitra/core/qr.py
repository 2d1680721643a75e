"""The certificate QR text: `<PUBLIC URL>/V/<base32 of the payload>`, all in QR alphanumeric mode.

The payload is the COSE_Sign1 bytes, zlib-compressed when that is shorter. Upper-case base32
(RFC 4648, no padding) and an upper-cased URL keep every character in the QR alphanumeric set,
which packs 5.5 bits a character instead of 8. Reading is strict and bounded: a scanner's text is
untrusted, so its size and its inflated size are capped before anything is allocated.
"""

from __future__ import annotations

import base64
import re
import zlib
from typing import Literal

PATH = "/V/"
ZLIB_FIRST_BYTE = 0x78  # CMF of a deflate stream with a 32 KiB window; COSE_Sign1 (tag 18) starts 0xD2
ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*")  # the QR alphanumeric character set
BASE32 = re.compile(r"[A-Z2-7]*")

Reason = Literal["wrong_prefix", "not_base32", "too_large", "bad_compression", "empty"]


class QrError(ValueError):
    """QR text that does not carry a certificate payload; `reason` says why."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason


def qr_text(public_url: str, cose: bytes) -> str:
    """The text to encode in the QR: the upper-cased public URL, `/V/`, then base32 of the payload.

    The payload is compressed when that is shorter, and always when it starts like a zlib stream.
    """
    if not cose:
        raise ValueError("nothing to encode")
    prefix = public_url.strip().rstrip("/").upper()
    if not ALPHANUMERIC.fullmatch(prefix):
        raise ValueError(f"the public URL {public_url!r} has characters outside the QR alphanumeric set")
    compressed = zlib.compress(cose, 9)
    payload = compressed if len(compressed) < len(cose) or cose[0] == ZLIB_FIRST_BYTE else cose
    return prefix + PATH + base64.b32encode(payload).decode("ascii").rstrip("=")


def payload_of(
    text: str,
    *,
    public_url: str | None = None,
    max_text: int = 4096,
    max_inflated: int = 16384,
) -> bytes:
    """The payload bytes (COSE_Sign1) from scanned QR text: the full URL in any case, or bare base32.

    With `public_url`, the text must be that URL's verification link (compared case-insensitively).
    Raises QrError; never inflates more than `max_inflated` bytes.
    """
    text = text.strip()
    if not text:
        raise QrError("empty")
    if len(text) > max_text:
        raise QrError("too_large", f"{len(text)} characters, at most {max_text}")
    upper = text.upper()
    if public_url is not None:
        prefix = public_url.strip().rstrip("/").upper() + PATH
        if not upper.startswith(prefix):
            raise QrError("wrong_prefix", "not this service's verification link")
        encoded = upper[len(prefix) :]
    elif "/" in upper:
        head, found, encoded = upper.rpartition(PATH)
        if not found or not head:
            raise QrError("wrong_prefix", "no /V/ in the link")
    else:
        encoded = upper
    data = _base32(encoded)
    if data[0] == ZLIB_FIRST_BYTE:
        return _inflate(data, max_inflated)
    return data


def _base32(encoded: str) -> bytes:
    if not encoded:
        raise QrError("empty")
    if not BASE32.fullmatch(encoded):
        raise QrError("not_base32", "characters outside A-Z, 2-7")
    try:
        data = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except ValueError as error:  # binascii.Error: a length no byte string encodes to
        raise QrError("not_base32", str(error)) from error
    if base64.b32encode(data).decode("ascii").rstrip("=") != encoded:
        raise QrError("not_base32", "not the canonical encoding")  # stray trailing bits
    return data


def _inflate(data: bytes, max_inflated: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_inflated)
    except zlib.error as error:
        raise QrError("bad_compression", str(error)) from error
    if inflater.unconsumed_tail or (not inflater.eof and len(out) >= max_inflated):
        raise QrError("too_large", f"inflates beyond {max_inflated} bytes")
    if not inflater.eof or inflater.unused_data:
        raise QrError("bad_compression", "truncated or trailing data")
    if not out:
        raise QrError("empty")
    return out
