"""The transparency log's entries: canonical bytes of issuance, supersession, revocation and key rotation.

An entry holds commitments and public metadata only, never personal data, so erasing a holder's
record never conflicts with the log:

    sevamitra-log-entry/v1
    event issuance
    time 1796000000
    certificate <hex SHA-256(salt ‖ certificate number)>
    kind revenue-certificate
    service revenue.income-certificate
    office Revenue, Vijayawada Rural
    key <hex kid>
    record <hex SHA-256 of the signed QR payload>

The salt (16 random bytes per certificate, kept with the certificate, never logged) makes the
certificate hash unguessable from the sequential number; whoever holds the certificate and its salt
can find its entry. Each event has its fields in a fixed order; `parse_entry` accepts exactly what
`Entry.encode` writes (re-encoding gives the same bytes), which is how an auditor checks that every
entry is well formed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

HEADER = "sevamitra-log-entry/v1"
SALT_BYTES = 16
MAX_ENTRY = 4096  # bytes; the entry bundles' length prefix allows 65,535

EventKind = Literal["issuance", "revocation", "supersession", "key-rotation"]
FIELDS: dict[str, tuple[str, ...]] = {
    "issuance": ("certificate", "kind", "service", "office", "key", "record"),
    "revocation": ("certificate", "record"),
    "supersession": ("certificate", "by"),
    "key-rotation": ("key", "public", "not-before"),
}
HASH_FIELDS = frozenset({"certificate", "record", "by"})  # 32 bytes, lower-case hex
HEX_FIELDS = {"key": 8, "public": 32}  # bytes
NUMBER_FIELDS = frozenset({"not-before"})


class EntryError(ValueError):
    """Bytes that are not a well-formed log entry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One event as logged: its kind, its time (unix seconds) and its fields in their fixed order."""

    event: EventKind
    time: int
    fields: tuple[tuple[str, str], ...]

    def encode(self) -> bytes:
        lines = [HEADER, f"event {self.event}", f"time {self.time}", *(f"{k} {v}" for k, v in self.fields)]
        data = ("\n".join(lines) + "\n").encode()
        if parse_entry(data) != self:
            raise EntryError("the entry does not survive its own parser: check its fields")
        return data

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)


def certificate_hash(number: str, salt: bytes) -> bytes:
    """The logged commitment to a certificate number."""
    if len(salt) != SALT_BYTES:
        raise EntryError(f"a salt is {SALT_BYTES} bytes")
    return hashlib.sha256(salt + number.encode()).digest()


def record_hash(cose: bytes) -> bytes:
    """The logged commitment to a certificate's signed QR payload."""
    return hashlib.sha256(cose).digest()


def issuance(
    *, number: str, salt: bytes, time: int, kind: str, service: str, office: str, kid: bytes, cose: bytes
) -> Entry:
    return Entry(
        event="issuance",
        time=time,
        fields=(
            ("certificate", certificate_hash(number, salt).hex()),
            ("kind", kind),
            ("service", service),
            ("office", _one_line(office) or "-"),
            ("key", kid.hex()),
            ("record", record_hash(cose).hex()),
        ),
    )


def revocation(*, number: str, salt: bytes, time: int, cose: bytes) -> Entry:
    fields = (("certificate", certificate_hash(number, salt).hex()), ("record", record_hash(cose).hex()))
    return Entry(event="revocation", time=time, fields=fields)


def supersession(*, number: str, salt: bytes, by: str, by_salt: bytes, time: int) -> Entry:
    fields = (("certificate", certificate_hash(number, salt).hex()), ("by", certificate_hash(by, by_salt).hex()))
    return Entry(event="supersession", time=time, fields=fields)


def key_rotation(*, kid: bytes, public: bytes, not_before: int, time: int) -> Entry:
    fields = (("key", kid.hex()), ("public", public.hex()), ("not-before", str(not_before)))
    return Entry(event="key-rotation", time=time, fields=fields)


def parse_entry(data: bytes) -> Entry:
    """The entry in `data`; EntryError unless it is exactly what `Entry.encode` would write."""
    if len(data) > MAX_ENTRY:
        raise EntryError(f"longer than {MAX_ENTRY} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EntryError("not UTF-8") from error
    if not text.endswith("\n") or "\r" in text:
        raise EntryError("lines must end with a single newline")
    lines = text[:-1].split("\n")
    if lines[0] != HEADER:
        raise EntryError(f"the first line is not {HEADER!r}")
    pairs = [_pair(line) for line in lines[1:]]
    if len(pairs) < 2 or pairs[0][0] != "event" or pairs[1][0] != "time":
        raise EntryError("an entry starts with its event and its time")
    event, time = pairs[0][1], _number(pairs[1][1], "time")
    names = FIELDS.get(event)
    if names is None:
        raise EntryError(f"unknown event {event!r}")
    if tuple(key for key, _ in pairs[2:]) != names:
        raise EntryError(f"a {event} entry has exactly {', '.join(names)}, in that order")
    for key, value in pairs[2:]:
        _check(key, value)
    return Entry(event=event, time=time, fields=tuple(pairs[2:]))  # type: ignore[arg-type]  # checked above


def _pair(line: str) -> tuple[str, str]:
    key, space, value = line.partition(" ")
    if not space or not key or not value or value != value.strip() or not value.isprintable():
        raise EntryError(f"not a 'name value' line: {line[:60]!r}")
    return key, value


def _number(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or (text.startswith("0") and text != "0"):
        raise EntryError(f"{what} is not a canonical decimal number")
    return int(text)


def _check(key: str, value: str) -> None:
    if key in HASH_FIELDS:
        _hex(value, 32, key)
    elif key in HEX_FIELDS:
        _hex(value, HEX_FIELDS[key], key)
    elif key in NUMBER_FIELDS:
        _number(value, key)


def _hex(value: str, size: int, what: str) -> None:
    if len(value) != 2 * size or value != value.lower() or not all(c in "0123456789abcdef" for c in value):
        raise EntryError(f"{what} is not {size} bytes of lower-case hex")


def _one_line(text: str) -> str:
    """The text on one line, without invisible characters (a joiner in a name would fail parsing)."""
    return " ".join("".join(char for char in text if char.isprintable() or char.isspace()).split())
