"""Payment providers (httpx for their APIs, hmac for their webhooks): a simulated gateway for
development and tests, Razorpay Payment Links, and WhatsApp's own payments in India.

Each provider module has a class with `create(order)` and a `parse_webhook(raw_body, headers,
secret)` that checks the signature on the raw bytes before reading anything.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from sevamitra.core.payments import SignatureInvalid, SignatureMissing

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def hex_hmac(raw_body: bytes, secret: str) -> str:
    """HMAC-SHA256 of the raw body, hex: what the providers here sign webhooks with."""
    if not secret:
        raise ValueError("a webhook secret must not be empty")
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (Starlette's headers are already; a plain dict may not be)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def check_hex_signature(raw_body: bytes, given: str | None, secret: str, *, prefix: str = "") -> None:
    """Raise SignatureMissing or SignatureInvalid unless `given` is `prefix` + the body's hex HMAC."""
    if not given:
        raise SignatureMissing("no signature header")
    digest = given.removeprefix(prefix) if prefix else given
    if (prefix and digest == given) or not _HEX_DIGEST.fullmatch(digest):
        raise SignatureInvalid("malformed signature")
    if not hmac.compare_digest(digest.lower(), hex_hmac(raw_body, secret)):
        raise SignatureInvalid("signature does not match the body")
