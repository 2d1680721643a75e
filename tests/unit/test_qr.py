"""The certificate QR text: alphanumeric-mode URL + base32, optional zlib, strict bounded reading."""

from __future__ import annotations

import base64
import os
import re
import time
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sevamitra.core.qr import QrError, payload_of, qr_text

URL = "http://127.0.0.1:8000"
QR_PATTERN = re.compile(r"^HTTPS?://[A-Z0-9.:\-]+(?:/[A-Z0-9.\-]+)*/V/([A-Z2-7]+)$")
# A stand-in COSE_Sign1 (tag 18 ...): repetitive enough to compress.
COMPRESSIBLE = bytes.fromhex("d284") + b"certificate " * 30
INCOMPRESSIBLE = bytes.fromhex("d284") + os.urandom(64)
REASONS = ("wrong_prefix", "not_base32", "too_large", "bad_compression", "empty")


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def encoded_part(text: str) -> str:
    match = QR_PATTERN.fullmatch(text)
    assert match, text
    return match.group(1)


def unbase32(encoded: str) -> bytes:
    return base64.b32decode(encoded + "=" * (-len(encoded) % 8))


def reason(text: str, *, public_url: str | None = None, max_text: int = 4096, max_inflated: int = 16384) -> str:
    with pytest.raises(QrError) as raised:
        payload_of(text, public_url=public_url, max_text=max_text, max_inflated=max_inflated)
    return raised.value.reason


@pytest.mark.parametrize("url", [URL, "https://sevamitra.ap.gov.in", "https://ap.gov.in/sevamitra/"])
def test_qr_text_is_an_upper_case_link_in_the_alphanumeric_set(url: str) -> None:
    text = qr_text(url, COMPRESSIBLE)
    assert QR_PATTERN.fullmatch(text)
    assert text.startswith(url.rstrip("/").upper() + "/V/")


def test_qr_text_round_trips_to_the_payload() -> None:
    for payload in (COMPRESSIBLE, INCOMPRESSIBLE):
        assert payload_of(qr_text(URL, payload)) == payload


def test_compression_is_used_only_when_shorter() -> None:
    squeezed = unbase32(encoded_part(qr_text(URL, COMPRESSIBLE)))
    assert squeezed[0] == 0x78 and zlib.decompress(squeezed) == COMPRESSIBLE
    assert unbase32(encoded_part(qr_text(URL, INCOMPRESSIBLE))) == INCOMPRESSIBLE


def test_a_payload_that_looks_like_zlib_is_always_compressed() -> None:
    looks_like_zlib = b"\x78" + os.urandom(40)
    assert unbase32(encoded_part(qr_text(URL, looks_like_zlib)))[0] == 0x78
    assert payload_of(qr_text(URL, looks_like_zlib)) == looks_like_zlib


def test_a_public_url_outside_the_alphanumeric_set_is_refused() -> None:
    with pytest.raises(ValueError, match="alphanumeric"):
        qr_text("https://example.org/a_b?x=1", COMPRESSIBLE)


def test_a_lower_cased_link_with_surrounding_whitespace_reads() -> None:
    text = qr_text(URL, COMPRESSIBLE)
    assert payload_of(f"  {text.lower()}\n", public_url=URL) == COMPRESSIBLE


def test_bare_base32_reads_without_the_link() -> None:
    encoded = encoded_part(qr_text(URL, INCOMPRESSIBLE))
    assert payload_of(encoded) == INCOMPRESSIBLE
    assert payload_of(encoded.lower()) == INCOMPRESSIBLE


def test_the_prefix_is_compared_case_insensitively_and_ignores_a_trailing_slash() -> None:
    text = qr_text("https://Sevamitra.AP.gov.in/", INCOMPRESSIBLE)
    assert payload_of(text, public_url="https://sevamitra.ap.gov.in") == INCOMPRESSIBLE


@pytest.mark.parametrize("public_url", ["https://evil.example", "http://127.0.0.1:8001", "https://127.0.0.1:8000"])
def test_another_services_link_is_a_wrong_prefix(public_url: str) -> None:
    assert reason(qr_text(URL, COMPRESSIBLE), public_url=public_url) == "wrong_prefix"


def test_a_link_without_the_verification_path_is_a_wrong_prefix() -> None:
    assert reason("https://example.org/certificate/ABCDEFGH") == "wrong_prefix"


@pytest.mark.parametrize("text", ["", "   ", "\n", f"{URL}/V/"])
def test_nothing_to_read_is_empty(text: str) -> None:
    assert reason(text) == "empty"


@pytest.mark.parametrize("garbage", ["ABC1DEFG", "ABCDEFG=", "ABC DEF", "ÄBCDEFGH", "ABCDEFG!"])
def test_characters_outside_base32_are_not_base32(garbage: str) -> None:
    assert reason(f"{URL}/V/{garbage}") == "not_base32"


@pytest.mark.parametrize("length", [1, 3, 6])
def test_a_length_no_bytes_encode_to_is_not_base32(length: int) -> None:
    assert reason("A" * length) == "not_base32"


def test_stray_trailing_bits_are_not_base32() -> None:
    assert b32(b"\x00") == "AA"
    assert reason("AB") == "not_base32"  # 'B' sets bits past the one byte


def test_a_truncated_compressed_payload_is_bad_compression() -> None:
    text = qr_text(URL, COMPRESSIBLE)
    encoded = encoded_part(text)
    cut = encoded[: len(encoded) // 2]
    cut = cut[: len(cut) - len(cut) % 8]  # keep it valid base32 so the inflater sees it
    assert reason(cut) == "bad_compression"


def test_garbage_after_a_zlib_stream_is_bad_compression() -> None:
    assert reason(b32(zlib.compress(COMPRESSIBLE) + b"\x00")) == "bad_compression"


def test_a_corrupt_zlib_stream_is_bad_compression() -> None:
    assert reason(b32(b"\x78\x9c\xff\xff\xff\xff")) == "bad_compression"


def test_oversized_text_is_too_large_before_any_decoding() -> None:
    assert reason("A" * 4097) == "too_large"
    assert reason("A" * 64, max_text=63) == "too_large"


def test_a_decompression_bomb_in_a_qr_sized_text_is_too_large() -> None:
    bomb = zlib.compress(bytes(2_000_000), 9)
    text = f"{URL}/V/{b32(bomb)}"
    assert len(text) <= 4096
    assert reason(text) == "too_large"


def test_a_ten_megabyte_bomb_fails_fast_in_bounded_memory() -> None:
    bomb = zlib.compress(bytes(10_000_000), 9)
    text = f"{URL}/V/{b32(bomb)}"
    assert reason(text) == "too_large"  # by its length alone
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert reason(text, max_text=10**6) == "too_large"  # by the inflate bound
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 1_000_000  # nowhere near the 10 MB it would inflate to


def test_a_payload_inflating_to_exactly_the_limit_reads() -> None:
    payload = bytes.fromhex("d284") + bytes(998)
    assert payload_of(b32(zlib.compress(payload)), max_inflated=1000) == payload
    assert reason(b32(zlib.compress(payload + b"\x00")), max_inflated=1000) == "too_large"


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_either_reads_or_raises_qr_error(text: str) -> None:
    try:
        outcome: object = payload_of(text)
    except QrError as error:
        outcome = error.reason
    assert isinstance(outcome, bytes) or outcome in REASONS


@given(st.binary(min_size=1, max_size=400), st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_payload_round_trips_through_the_qr_text(payload: bytes, lower: bool) -> None:
    text = qr_text(URL, payload)
    assert QR_PATTERN.fullmatch(text)
    assert payload_of(text.lower() if lower else text, public_url=URL) == payload
