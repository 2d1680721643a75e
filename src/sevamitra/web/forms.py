"""Reading the officers' small URL-encoded forms without ever holding more than a form's worth of body."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_FORM_FIELDS = 8  # more than any of these forms has


async def small_form(request: Request, max_bytes: int) -> dict[str, str] | None:
    """The first value of each field of a URL-encoded form of at most `max_bytes`; None when larger or
    with more than MAX_FORM_FIELDS fields, {} when the body is not URL-encoded."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return None
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        return None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
