"""Meta's checks on a `POST /messages` body: required fields first, then the documented limits.

`check_message` returns the first problem as `(code, details)`, or None when Meta would accept
the body. Code 100 is a missing or malformed parameter, 131009 a value outside Meta's limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sevamitra.emulator.errors import INVALID_PARAMETER, PARAMETER_VALUE_NOT_VALID

Problem = tuple[int, str]

MESSAGE_TYPES = frozenset(
    {"text", "image", "audio", "video", "document", "sticker", "location", "contacts"}
    | {"interactive", "template", "reaction"}
)
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
INTERACTIVE_TYPES = frozenset(
    {"button", "list", "cta_url", "flow", "location_request_message", "address_message"}
    | {"product", "product_list", "catalog_message", "call_permission_request", "order_details"}
)
ORDER_PARAMETERS = (
    "reference_id",
    "type",
    "payment_type",
    "payment_configuration",
    "currency",
    "total_amount",
    "order",
)


def check_message(body: dict[str, Any]) -> Problem | None:
    """The first reason Meta would refuse this send, if any (mark-read bodies are checked elsewhere)."""
    return next(_problems(body), None)


def _problems(body: dict[str, Any]) -> Iterator[Problem]:
    if body.get("messaging_product") != "whatsapp":
        yield INVALID_PARAMETER, "The parameter messaging_product is required and must be 'whatsapp'."
        return
    if not (_str(body.get("to")) or _str(body.get("recipient"))):
        yield INVALID_PARAMETER, "The parameter to is required."
        return
    kind = body.get("type", "text")
    if kind not in MESSAGE_TYPES:
        yield INVALID_PARAMETER, f"Param type must be one of {{{', '.join(sorted(MESSAGE_TYPES))}}}."
        return
    content = body.get(kind)
    if not isinstance(content, dict):
        yield INVALID_PARAMETER, f"The parameter {kind} is required."
        return
    if kind == "text":
        yield from _text(content)
    elif kind == "interactive":
        yield from _interactive(content)
    elif kind in MEDIA_TYPES:
        yield from _media(kind, content)
    elif kind == "template":
        if not _str(content.get("name")) or not _str(_dict(content.get("language")).get("code")):
            yield INVALID_PARAMETER, "The parameters template['name'] and template['language']['code'] are required."
    elif kind == "location":
        if not all(isinstance(content.get(k), int | float) for k in ("latitude", "longitude")):
            yield INVALID_PARAMETER, "The parameters location['latitude'] and location['longitude'] are required."
    elif kind == "reaction" and not _str(content.get("message_id")):
        yield INVALID_PARAMETER, "The parameter reaction['message_id'] is required."


def _text(text: dict[str, Any]) -> Iterator[Problem]:
    body = text.get("body")
    if not isinstance(body, str) or not body:
        yield INVALID_PARAMETER, "The parameter text['body'] is required."
    else:
        yield from _length("Message body", body, 1, 4096)


def _media(kind: str, media: dict[str, Any]) -> Iterator[Problem]:
    if bool(_str(media.get("id"))) == bool(_str(media.get("link"))):
        yield INVALID_PARAMETER, f"Exactly one of {kind}['id'] and {kind}['link'] is required."
    if isinstance(media.get("caption"), str):
        yield from _length("Caption", media["caption"], 0, 1024)


def _interactive(it: dict[str, Any]) -> Iterator[Problem]:
    kind = it.get("type")
    if kind not in INTERACTIVE_TYPES:
        yield INVALID_PARAMETER, f"Param interactive['type'] must be one of {sorted(INTERACTIVE_TYPES)}."
        return
    action = it.get("action")
    if not isinstance(action, dict):
        yield INVALID_PARAMETER, "The parameter interactive['action'] is required."
        return
    if kind in ("button", "list", "cta_url", "order_details"):
        body = _dict(it.get("body")).get("text")
        if not isinstance(body, str) or not body:
            yield INVALID_PARAMETER, "The parameter interactive['body']['text'] is required."
            return
        yield from _length("Body text", body, 1, 1024)
    header = _dict(it.get("header"))
    if header.get("type") == "text":
        yield from _length("Header text", str(header.get("text", "")), 1, 60)
    if "footer" in it:
        yield from _length("Footer text", str(_dict(it.get("footer")).get("text", "")), 1, 60)
    if kind == "button":
        yield from _buttons(action)
    elif kind == "list":
        yield from _list(action)
    elif kind == "cta_url":
        params = _dict(action.get("parameters"))
        if action.get("name") != "cta_url" or not _str(params.get("url")):
            yield INVALID_PARAMETER, "The parameters action['name'] = 'cta_url' and its url are required."
        yield from _length("Display text", str(params.get("display_text", "")), 1, 20)
    elif kind == "order_details":
        yield from _order_details(action)


def _buttons(action: dict[str, Any]) -> Iterator[Problem]:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        count = len(buttons) if isinstance(buttons, list) else 0
        yield PARAMETER_VALUE_NOT_VALID, f"Buttons count invalid. Min: 1, Max: 3, got {count}."
        return
    replies = [_dict(_dict(b).get("reply")) for b in buttons]
    for reply in replies:
        yield from _length("Button id", str(reply.get("id", "")), 1, 256)
        yield from _length("Button title", str(reply.get("title", "")), 1, 20)
    for key in ("id", "title"):
        values = [r.get(key) for r in replies]
        if len(set(values)) != len(values):
            yield PARAMETER_VALUE_NOT_VALID, f"Button {key}s must be unique."


def _list(action: dict[str, Any]) -> Iterator[Problem]:
    yield from _length("List button text", str(action.get("button", "")), 1, 20)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        yield PARAMETER_VALUE_NOT_VALID, "Sections count invalid. Min: 1, Max: 10."
        return
    rows = [_dict(r) for s in sections for r in _dict(s).get("rows") or []]
    if not 1 <= len(rows) <= 10:
        yield PARAMETER_VALUE_NOT_VALID, f"Total row count invalid. Min: 1, Max: 10, got {len(rows)}."
        return
    for section in map(_dict, sections):
        if len(sections) > 1 or "title" in section:
            yield from _length("Section title", str(section.get("title", "")), 1, 24)
    for row in rows:
        yield from _length("Row id", str(row.get("id", "")), 1, 200)
        yield from _length("Row title", str(row.get("title", "")), 1, 24)
        if "description" in row:
            yield from _length("Row description", str(row["description"]), 0, 72)
    ids = [r.get("id") for r in rows]
    if len(set(ids)) != len(ids):
        yield PARAMETER_VALUE_NOT_VALID, "Row ids must be unique."


def _order_details(action: dict[str, Any]) -> Iterator[Problem]:
    """`review_and_pay`: its parameters, a reference id of at most 35 characters, and a total that adds up."""
    params = _dict(action.get("parameters"))
    if action.get("name") != "review_and_pay" or not all(key in params for key in ORDER_PARAMETERS):
        yield (
            INVALID_PARAMETER,
            f"action['name'] = 'review_and_pay' and the parameters {ORDER_PARAMETERS} are required.",
        )
        return
    yield from _length("Reference id", str(params["reference_id"]), 1, 35)
    if params["currency"] != "INR":
        yield PARAMETER_VALUE_NOT_VALID, "Currency must be INR."
    order = _dict(params["order"])
    parts = [_value(order.get(key)) for key in ("subtotal", "tax", "shipping")]
    if _value(params["total_amount"]) != sum(parts) - _value(order.get("discount")):
        yield PARAMETER_VALUE_NOT_VALID, "total_amount must be subtotal + tax + shipping - discount."


def _value(amount: object) -> int:
    """An amount's `value` (0 when absent)."""
    value = _dict(amount).get("value", 0)
    return value if isinstance(value, int) else 0


def _length(what: str, value: str, low: int, high: int) -> Iterator[Problem]:
    if not low <= len(value) <= high:
        yield PARAMETER_VALUE_NOT_VALID, f"{what} length invalid. Min length: {low}, Max length: {high}."


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""
