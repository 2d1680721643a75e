"""Officers' credentials: argon2id password hashes and TOTP (RFC 6238) second factors.

The only importer of `argon2` and `pyotp`. Verification never raises on a wrong password or a
wrong code, and compares in constant time.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from datetime import UTC, datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # long enough for any passphrase, short enough to bound the hashing work
TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
TOTP_WINDOW = 1  # steps either side of now: a phone's clock may be that far off

_CODE = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")  # ASCII digits only: str.isdigit() also takes ౧౨౩
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) defaults; holds parameters only


def hash_password(password: str) -> str:
    """An argon2id hash in PHC string form, salt included."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; False (never an exception) for a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's defaults."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def _unknown_account_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


def verify_nothing(password: str) -> bool:
    """Spend the time of one verification against no account, so that unknown usernames answer as
    slowly as known ones. Always False."""
    verify_password(_unknown_account_hash(), password)
    return False


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """What makes a password unacceptable; empty when it is fine."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"it must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"it must be at most {MAX_PASSWORD_LENGTH} characters long")
    if password and len({_character_class(ch) for ch in password}) < 2:
        problems.append("it must mix kinds of characters (letters, digits, capitals or symbols), not only one kind")
    if username and username.casefold() in password.casefold():
        problems.append("it must not contain the username")
    return problems


def _character_class(ch: str) -> str:
    if ch.isascii() and ch.isdigit():
        return "digit"
    if ch.islower():
        return "lower"
    if ch.isupper():
        return "upper"
    if ch.isalpha():  # scripts without case, such as Telugu
        return "letter"
    return "other"


def new_totp_secret() -> str:
    """A fresh base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def totp_uri(secret: str, username: str, issuer: str = "Sevamitra") -> str:
    """The `otpauth://` URI an authenticator app scans from a QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def totp_code(secret: str, at: datetime) -> str:
    """The code an authenticator shows at `at` (for tests and demonstrations)."""
    return _totp(secret).at(at)


def totp_match(secret: str, code: str, at: datetime) -> datetime | None:
    """The start of the time step whose code `code` is, within one step of `at`; None when it is
    none of them. Every candidate is compared, in constant time, whatever matched first."""
    if not _CODE.fullmatch(code):
        return None
    totp = _totp(secret)
    now_step = totp.timecode(at)
    matched: int | None = None
    for step in range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            matched = step
    if matched is None:
        return None
    return datetime.fromtimestamp(matched * TOTP_STEP_SECONDS, tz=UTC)


def totp_ok(secret: str, code: str, at: datetime) -> bool:
    """Whether `code` is the code of `at`'s time step or of one step either side of it."""
    return totp_match(secret, code, at) is not None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
