"""The `X-Hub-Signature-256` header: HMAC-SHA256 of the raw webhook body with the app secret.

Check it on the raw bytes, before parsing anything. See
https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re

_PREFIX = "sha256="
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class SignatureCheck(enum.Enum):
    """The outcome of checking a webhook signature; only VALID may be processed."""

    MISSING = "missing"
    INVALID = "invalid"
    VALID = "valid"


def sign(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta would send with this body: `sha256=<hex>`."""
    return _PREFIX + _digest(raw_body, app_secret)


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> SignatureCheck:
    """Check a header against the body in constant time. A malformed header is INVALID."""
    expected = _digest(raw_body, app_secret)
    if not header:
        return SignatureCheck.MISSING
    given = header.removeprefix(_PREFIX)
    if given == header or not _HEX_DIGEST.fullmatch(given):
        return SignatureCheck.INVALID
    if hmac.compare_digest(given.lower(), expected):
        return SignatureCheck.VALID
    return SignatureCheck.INVALID


def _digest(raw_body: bytes, app_secret: str) -> str:
    if not app_secret:
        raise ValueError("the app secret must not be empty")
    return hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
