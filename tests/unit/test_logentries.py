"""Transparency log entries: one canonical encoding per event, strict parsing, and no personal data."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sevamitra.core.logentries import (
    FIELDS,
    HASH_FIELDS,
    HEADER,
    HEX_FIELDS,
    MAX_ENTRY,
    SALT_BYTES,
    Entry,
    EntryError,
    certificate_hash,
    issuance,
    key_rotation,
    parse_entry,
    record_hash,
    revocation,
    supersession,
)

NUMBER = "AP-REV-INC-2026-000123"
SALT = bytes(range(16))
TIME = 1_796_000_000
KID = bytes(range(8))
PUBLIC = bytes(range(32, 64))
COSE = b"signed QR payload"


def an_issuance(**changes: object) -> Entry:
    values: dict[str, object] = {
        "number": NUMBER,
        "salt": SALT,
        "time": TIME,
        "kind": "revenue-certificate",
        "service": "revenue.income-certificate",
        "office": "Revenue, Vijayawada Rural",
        "kid": KID,
        "cose": COSE,
    }
    values.update(changes)
    return issuance(**values)  # type: ignore[arg-type]


EVENTS = {
    "issuance": an_issuance(),
    "revocation": revocation(number=NUMBER, salt=SALT, time=TIME, cose=COSE),
    "supersession": supersession(number=NUMBER, salt=SALT, by="AP-REV-INC-2026-000124", by_salt=SALT[::-1], time=TIME),
    "key-rotation": key_rotation(kid=KID, public=PUBLIC, not_before=TIME - 86_400, time=TIME),
}
ISSUANCE = EVENTS["issuance"].encode()


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_each_event_encodes_and_parses_back_to_the_same_entry(event: str) -> None:
    entry = EVENTS[event]
    data = entry.encode()
    assert parse_entry(data) == entry
    assert parse_entry(data).encode() == data
    lines = data.decode().split("\n")
    assert lines[:3] == [HEADER, f"event {event}", f"time {TIME}"] and lines[-1] == ""
    assert tuple(line.split(" ", 1)[0] for line in lines[3:-1]) == FIELDS[event]


def test_an_issuance_entry_reads_as_documented() -> None:
    documented = (
        b"sevamitra-log-entry/v1\n"
        b"event issuance\n"
        b"time 1796000000\n"
        b"certificate " + hashlib.sha256(SALT + NUMBER.encode()).hexdigest().encode() + b"\n"
        b"kind revenue-certificate\n"
        b"service revenue.income-certificate\n"
        b"office Revenue, Vijayawada Rural\n"
        b"key 0001020304050607\n"
        b"record " + hashlib.sha256(COSE).hexdigest().encode() + b"\n"
    )
    assert documented == ISSUANCE


def test_entry_fields_are_looked_up_by_name() -> None:
    entry = EVENTS["supersession"]
    assert entry.get("by") == certificate_hash("AP-REV-INC-2026-000124", SALT[::-1]).hex()
    assert entry.get("record") is None


def replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


def line_of(data: bytes, name: bytes) -> bytes:
    return next(line + b"\n" for line in data.split(b"\n") if line.startswith(name + b" "))


CERTIFICATE_HEX = certificate_hash(NUMBER, SALT).hex().encode()
KEY_ROTATION = EVENTS["key-rotation"].encode()
REJECTED = {
    "wrong header": (replace(ISSUANCE, b"entry/v1", b"entry/v2"), "the first line is not"),
    "no header": (ISSUANCE.split(b"\n", 1)[1], "the first line is not"),
    "unknown event": (replace(ISSUANCE, b"event issuance", b"event minting"), "unknown event 'minting'"),
    "time before event": (
        replace(ISSUANCE, b"event issuance\ntime 1796000000", b"time 1796000000\nevent issuance"),
        "starts with its event and its time",
    ),
    "fields out of order": (
        replace(
            ISSUANCE,
            b"kind revenue-certificate\nservice revenue.income-certificate",
            b"service revenue.income-certificate\nkind revenue-certificate",
        ),
        "in that order",
    ),
    "missing field": (replace(ISSUANCE, line_of(ISSUANCE, b"record"), b""), "exactly certificate, kind"),
    "extra field": (ISSUANCE + b"holder Lakshmi\n", "exactly certificate, kind"),
    "repeated field": (ISSUANCE + line_of(ISSUANCE, b"record"), "exactly certificate, kind"),
    "fields of another event": (replace(ISSUANCE, b"event issuance", b"event revocation"), "a revocation entry has"),
    "upper-case hex": (replace(ISSUANCE, CERTIFICATE_HEX, CERTIFICATE_HEX.upper()), "lower-case hex"),
    "short hash": (replace(ISSUANCE, CERTIFICATE_HEX, CERTIFICATE_HEX[:-2]), "certificate is not 32 bytes"),
    "long hash": (replace(ISSUANCE, CERTIFICATE_HEX, CERTIFICATE_HEX + b"00"), "certificate is not 32 bytes"),
    "not hex": (replace(ISSUANCE, CERTIFICATE_HEX, b"g" + CERTIFICATE_HEX[1:]), "lower-case hex"),
    "short key id": (replace(ISSUANCE, b"key 0001020304050607", b"key 00010203040506"), "key is not 8 bytes"),
    "short public key": (
        replace(KEY_ROTATION, PUBLIC.hex().encode(), PUBLIC[:31].hex().encode()),
        "public is not 32 bytes",
    ),
    "leading-zero time": (replace(ISSUANCE, b"time 1796000000", b"time 01796000000"), "time is not a canonical"),
    "negative time": (replace(ISSUANCE, b"time 1796000000", b"time -1796000000"), "time is not a canonical"),
    "non-ASCII digits in time": (
        replace(ISSUANCE, b"time 1796000000", "time ١٧٩٦".encode()),
        "time is not a canonical",
    ),
    "leading-zero not-before": (
        replace(KEY_ROTATION, b"not-before 1", b"not-before 01"),
        "not-before is not a canonical",
    ),
    "CRLF": (ISSUANCE.replace(b"\n", b"\r\n"), "single newline"),
    "no final newline": (ISSUANCE[:-1], "single newline"),
    "empty": (b"", "single newline"),
    "trailing space": (replace(ISSUANCE, b"kind revenue-certificate", b"kind revenue-certificate "), "'name value'"),
    "two spaces": (replace(ISSUANCE, b"kind revenue-certificate", b"kind  revenue-certificate"), "'name value'"),
    "no value": (replace(ISSUANCE, b"kind revenue-certificate", b"kind"), "'name value'"),
    "blank line": (ISSUANCE + b"\n", "'name value'"),
    "tab in a value": (replace(ISSUANCE, b"Vijayawada Rural", b"Vijayawada\tRural"), "'name value'"),
    "non-UTF-8": (replace(ISSUANCE, b"Vijayawada", b"Vijayawad\xe1"), "not UTF-8"),
    "over MAX_ENTRY": (replace(ISSUANCE, b"Vijayawada", b"V" * MAX_ENTRY), f"longer than {MAX_ENTRY} bytes"),
}


@pytest.mark.parametrize(("data", "reason"), list(REJECTED.values()), ids=list(REJECTED))
def test_parse_entry_rejects_anything_encode_would_not_write(data: bytes, reason: str) -> None:
    with pytest.raises(EntryError, match=re.escape(reason)):
        parse_entry(data)


def test_an_entry_of_exactly_max_entry_bytes_is_accepted() -> None:
    padding = MAX_ENTRY - len(ISSUANCE)
    data = replace(ISSUANCE, b"Vijayawada", b"Vijayawada" + b"x" * padding)
    assert len(data) == MAX_ENTRY
    assert parse_entry(data).encode() == data


def test_an_entry_whose_fields_do_not_parse_refuses_to_encode() -> None:
    with pytest.raises(EntryError, match="'name value'"):
        an_issuance(kind="").encode()
    with pytest.raises(EntryError, match="lower-case hex"):
        Entry(event="revocation", time=TIME, fields=(("certificate", "AB" * 32), ("record", "00" * 32))).encode()
    with pytest.raises(EntryError, match="a revocation entry has exactly"):
        Entry(event="revocation", time=TIME, fields=(("certificate", "00" * 32),)).encode()


def test_certificate_hash_is_the_salted_sha256_of_the_number() -> None:
    assert certificate_hash(NUMBER, SALT) == hashlib.sha256(SALT + NUMBER.encode()).digest()
    assert certificate_hash(NUMBER, SALT) != certificate_hash(NUMBER, bytes(16))
    assert certificate_hash(NUMBER, SALT) != certificate_hash("AP-REV-INC-2026-000124", SALT)
    assert record_hash(COSE) == hashlib.sha256(COSE).digest()


@pytest.mark.parametrize("size", [0, 8, SALT_BYTES - 1, SALT_BYTES + 1, 32])
def test_certificate_hash_rejects_a_salt_of_the_wrong_size(size: int) -> None:
    with pytest.raises(EntryError, match=f"a salt is {SALT_BYTES} bytes"):
        certificate_hash(NUMBER, bytes(size))
    with pytest.raises(EntryError, match=f"a salt is {SALT_BYTES} bytes"):
        revocation(number=NUMBER, salt=bytes(size), time=TIME, cose=COSE)


def test_an_office_over_several_lines_is_folded_to_one() -> None:
    entry = an_issuance(office="  Revenue,\nVijayawada\r\n\tRural \u2028 Office\n")
    assert entry.get("office") == "Revenue, Vijayawada Rural Office"
    assert parse_entry(entry.encode()) == entry


@pytest.mark.parametrize("office", ["", "   ", "\n\r\n"])
def test_an_office_with_no_text_is_logged_as_a_dash(office: str) -> None:
    entry = an_issuance(office=office)
    assert entry.get("office") == "-"
    assert parse_entry(entry.encode()) == entry


numbers = st.builds(
    "AP-{}-{}-{}-{:06d}".format,
    st.from_regex(r"[A-Z]{2,4}", fullmatch=True),
    st.from_regex(r"[A-Z]{2,4}", fullmatch=True),
    st.integers(2020, 2099),
    st.integers(0, 999_999),
)
salts = st.binary(min_size=SALT_BYTES, max_size=SALT_BYTES)
aadhaar = st.from_regex(r"[2-9][0-9]{11}", fullmatch=True)


def assert_no_personal_data(data: bytes, *secrets: str) -> None:
    """Hex commitments have their exact width; no other value holds a 12-digit run; no secret appears."""
    for secret in secrets:
        assert secret.encode() not in data
        assert secret.lower().encode() not in data
    for line in data.decode().split("\n")[1:-1]:
        name, value = line.split(" ", 1)
        if name in HASH_FIELDS or name in HEX_FIELDS:
            size = 32 if name in HASH_FIELDS else HEX_FIELDS[name]
            assert re.fullmatch(f"[0-9a-f]{{{2 * size}}}", value), line
        else:
            assert not re.search(r"[0-9]{12}", value), line


@settings(max_examples=200, deadline=None)
@given(numbers, numbers, salts, salts, aadhaar, st.integers(0, 9_999_999_999))
def test_no_entry_holds_the_certificate_number_or_a_12_digit_number(
    number: str, by: str, salt: bytes, by_salt: bytes, holder_id: str, time: int
) -> None:
    cose = b"holder " + holder_id.encode() + b" certificate " + number.encode()
    entries = [
        an_issuance(number=number, salt=salt, time=time, cose=cose),
        revocation(number=number, salt=salt, time=time, cose=cose),
        supersession(number=number, salt=salt, by=by, by_salt=by_salt, time=time),
    ]
    for entry in entries:
        data = entry.encode()
        assert parse_entry(data) == entry
        assert_no_personal_data(data, number, by, holder_id)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=8, max_size=8), st.binary(min_size=32, max_size=32), st.integers(0, 2**40))
def test_key_rotation_entries_hold_only_the_public_key(kid: bytes, public: bytes, not_before: int) -> None:
    entry = key_rotation(kid=kid, public=public, not_before=not_before, time=TIME)
    data = entry.encode()
    assert parse_entry(data) == entry
    assert entry.get("public") == public.hex() and entry.get("not-before") == str(not_before)
