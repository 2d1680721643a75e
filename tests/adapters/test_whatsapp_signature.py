import hashlib
import hmac

import pytest

from sevamitra.adapters.whatsapp.signature import SignatureCheck, sign, verify_signature

SECRET = "app-secret-for-tests"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_sign_produces_the_hmac_sha256_header_meta_sends() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == f"sha256={expected}"


def test_a_correctly_signed_body_is_valid() -> None:
    assert verify_signature(BODY, sign(BODY, SECRET), SECRET) is SignatureCheck.VALID


def test_an_uppercase_hex_digest_is_valid() -> None:
    header = sign(BODY, SECRET)
    assert verify_signature(BODY, "sha256=" + header.removeprefix("sha256=").upper(), SECRET) is (SignatureCheck.VALID)


@pytest.mark.parametrize("header", [None, ""])
def test_an_absent_header_is_missing(header: str | None) -> None:
    assert verify_signature(BODY, header, SECRET) is SignatureCheck.MISSING


def test_a_signature_made_with_another_secret_is_invalid() -> None:
    assert verify_signature(BODY, sign(BODY, "another-secret"), SECRET) is SignatureCheck.INVALID


def test_a_body_altered_by_one_byte_is_invalid() -> None:
    header = sign(BODY, SECRET)
    altered = BODY[:-2] + bytes([BODY[-2] ^ 0x01]) + BODY[-1:]
    assert verify_signature(altered, header, SECRET) is SignatureCheck.INVALID


def test_an_empty_body_is_checked_like_any_other() -> None:
    assert verify_signature(b"", sign(b"", SECRET), SECRET) is SignatureCheck.VALID
    assert verify_signature(b"", sign(BODY, SECRET), SECRET) is SignatureCheck.INVALID


_GOOD_HEX = sign(BODY, SECRET).removeprefix("sha256=")


@pytest.mark.parametrize(
    "header",
    [
        _GOOD_HEX,  # no prefix
        f"sha1={_GOOD_HEX}",
        f"SHA256={_GOOD_HEX}",
        f" sha256={_GOOD_HEX}",
        "sha256=",
        f"sha256={_GOOD_HEX[:-1]}",  # too short
        f"sha256={_GOOD_HEX}00",  # too long
        f"sha256={_GOOD_HEX[:-1]}g",  # not hex
        "sha256=" + "é" * 64,  # not ASCII
        f"sha256=sha256={_GOOD_HEX}",
    ],
)
def test_a_malformed_header_is_invalid(header: str) -> None:
    assert verify_signature(BODY, header, SECRET) is SignatureCheck.INVALID


def test_an_empty_app_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="app secret"):
        verify_signature(BODY, sign(BODY, SECRET), "")
    with pytest.raises(ValueError, match="app secret"):
        sign(BODY, "")
