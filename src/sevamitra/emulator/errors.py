"""Graph API errors in Meta's JSON shape: `{"error": {"message", "type", "code", ...}}`."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse

INVALID_PARAMETER = 100
INVALID_TOKEN = 190
PARAMETER_VALUE_NOT_VALID = 131009
RATE_LIMIT_HIT = 130429
SOMETHING_WENT_WRONG = 131000
SERVICE_UNAVAILABLE = 2
MEDIA_UPLOAD_ERROR = 131053
UNDELIVERABLE = 131026

_TITLES = {
    INVALID_PARAMETER: "Invalid parameter",
    INVALID_TOKEN: "Invalid OAuth access token - Cannot parse access token",
    PARAMETER_VALUE_NOT_VALID: "Parameter value is not valid",
    RATE_LIMIT_HIT: "Rate limit hit",
    SOMETHING_WENT_WRONG: "Something went wrong",
    SERVICE_UNAVAILABLE: "Service temporarily unavailable",
    MEDIA_UPLOAD_ERROR: "Media upload error",
    UNDELIVERABLE: "Message undeliverable",
    1: "An unknown error occurred",
}

# The Meta code a fault of each HTTP status carries unless the test names another.
DEFAULT_CODE_FOR_STATUS = {
    400: INVALID_PARAMETER,
    401: INVALID_TOKEN,
    429: RATE_LIMIT_HIT,
    500: SOMETHING_WENT_WRONG,
    503: SERVICE_UNAVAILABLE,
}


def title(code: int) -> str:
    return _TITLES.get(code, "An unknown error occurred")


def error_body(
    code: int, details: str | None = None, *, message: str | None = None, subcode: int | None = None
) -> dict[str, Any]:
    """The body Meta answers with: `(#code) title`, the details under `error_data`, a trace id."""
    error: dict[str, Any] = {
        "message": message or (title(code) if code == INVALID_TOKEN else f"(#{code}) {title(code)}"),
        "type": "GraphMethodException" if code in (SERVICE_UNAVAILABLE, 2500) else "OAuthException",
        "code": code,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if code in (RATE_LIMIT_HIT, SOMETHING_WENT_WRONG, SERVICE_UNAVAILABLE):
        error["is_transient"] = True
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


def error_response(
    status: int, code: int, details: str | None = None, *, message: str | None = None, subcode: int | None = None
) -> JSONResponse:
    headers = {"Retry-After": "1"} if status == 429 else None
    if status == 401:
        headers = {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'}
    body = error_body(code, details, message=message, subcode=subcode)
    return JSONResponse(body, status_code=status, headers=headers)
