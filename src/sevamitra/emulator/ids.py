"""Identifiers shaped like Meta's: message ids, media ids, business-scoped user ids, phone numbers."""

from __future__ import annotations

import base64
import secrets


def message_id(wa_id: str, *, outbound: bool) -> str:
    """A new `wamid.`: base64 of the citizen's number and a random token, laid out as Meta's are."""
    number = wa_id.encode()
    direction = b"\x11" if outbound else b"\x12"  # Meta's ids differ in this byte by direction
    token = secrets.token_hex(10).upper().encode()
    raw = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00" + direction + b"\x18\x14" + token + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def media_id() -> str:
    """A new media id: sixteen digits, as Meta's are."""
    return str(10**15 + secrets.randbelow(9 * 10**15))


def user_id(wa_id: str) -> str:
    """The business-scoped user id of a citizen, derived from the number so it stays stable."""
    return f"IN.{int(wa_id) % 10**15:015d}"


def new_wa_id() -> str:
    """A fresh Indian mobile number of the form 9199xxxxxxxx."""
    return f"9199{secrets.randbelow(10**8):08d}"


def normalise_wa_id(value: str) -> str | None:
    """Digits of a phone number written with `+`, spaces or dashes; None when it is not one."""
    digits = value.strip().lstrip("+").replace(" ", "").replace("-", "")
    return digits if digits.isdigit() and 8 <= len(digits) <= 15 else None
