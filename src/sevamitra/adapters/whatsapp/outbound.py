"""Core outbound messages → WhatsApp Cloud API request bodies, checked against WhatsApp's limits.

`to_graph_body` builds the JSON of `POST /{version}/{phone_number_id}/messages`. Limits are checked
before anything is sent and broken ones raise `OutboundLimitError`: a message that breaks them is a
bug in whoever built it, so it is never retried. Lengths count Python characters (code points).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, assert_never
from urllib.parse import urlsplit

from sevamitra.core.messages import (
    AudioOut,
    Button,
    ButtonsOut,
    CtaUrlOut,
    DocumentOut,
    ImageOut,
    ListOut,
    ListRow,
    ListSection,
    MarkRead,
    OrderOut,
    Outbound,
    Recipient,
    SpeechOut,
    TemplateOut,
    TextOut,
)

TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
CTA_DISPLAY_TEXT_MAX = 20
CAPTION_MAX = 1024
ORDER_ITEM_NAME_MAX = 60
ORDER_REFERENCE_ID = re.compile(r"[A-Za-z0-9_.-]{1,35}")  # Meta: at most 35 letters, digits, `_`, `-`, `.`
PAISE_OFFSET = 100  # an amount is {value, offset}: value / offset rupees


class OutboundLimitError(ValueError):
    """A message breaks one of WhatsApp's documented limits (a programming error, never retried)."""


def to_graph_body(recipient: Recipient, message: Outbound) -> dict[str, Any]:
    """The Graph API request body that sends `message` to `recipient`."""
    content: dict[str, Any]
    match message:
        case MarkRead():
            return _mark_read(message)
        case TextOut():
            text = _required("text body", message.body, TEXT_BODY_MAX)
            content = {"type": "text", "text": {"body": text, "preview_url": message.preview_url}}
        case ButtonsOut():
            content = _interactive("button", message.body, message.header, message.footer, _buttons(message))
        case ListOut():
            content = _interactive("list", message.body, message.header, message.footer, _list(message))
        case CtaUrlOut():
            content = _interactive("cta_url", message.body, message.header, message.footer, _cta(message))
        case DocumentOut():
            document = _media("document", message.media_id, message.link, message.caption)
            document["filename"] = _required("document filename", message.filename)
            content = {"type": "document", "document": document}
        case ImageOut():
            image = _media("image", message.media_id, message.link, message.caption)
            content = {"type": "image", "image": image}
        case AudioOut():
            content = {"type": "audio", "audio": _media("audio", message.media_id, message.link, None)}
        case SpeechOut():
            raise OutboundLimitError("speech is synthesised and uploaded by the sender, then sent as audio")
        case TemplateOut():
            content = {"type": "template", "template": _template(message)}
        case OrderOut():
            content = _interactive("order_details", message.body, None, None, _order_details(message))
        case _:
            assert_never(message)
    return {**_address(recipient), **content}


def _address(recipient: Recipient) -> dict[str, Any]:
    """The phone number (`to`) when known, else Meta's business-scoped user id (`recipient`)."""
    if recipient.wa_id:
        key, value = "to", recipient.wa_id
    elif recipient.user_id:
        key, value = "recipient", recipient.user_id
    else:
        raise OutboundLimitError("the recipient has neither a wa_id nor a user_id")
    return {"messaging_product": "whatsapp", "recipient_type": "individual", key: value}


def _mark_read(message: MarkRead) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": _required("message id to mark read", message.message_id),
    }
    if message.typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def _interactive(
    kind: str, body: str, header: str | None, footer: str | None, action: dict[str, Any]
) -> dict[str, Any]:
    interactive: dict[str, Any] = {"type": kind}
    if header is not None:
        interactive["header"] = {"type": "text", "text": _required("header text", header, HEADER_TEXT_MAX)}
    interactive["body"] = {"text": _required("interactive body", body, INTERACTIVE_BODY_MAX)}
    if footer is not None:
        interactive["footer"] = {"text": _required("footer", footer, FOOTER_MAX)}
    interactive["action"] = action
    return {"type": "interactive", "interactive": interactive}


def _buttons(message: ButtonsOut) -> dict[str, Any]:
    buttons = message.buttons
    if not 1 <= len(buttons) <= BUTTONS_MAX:
        raise OutboundLimitError(f"{len(buttons)} reply buttons; WhatsApp allows 1 to {BUTTONS_MAX}")
    _unique("button id", (button.id for button in buttons))
    _unique("button title", (button.title for button in buttons))
    return {"buttons": [_reply_button(button) for button in buttons]}


def _reply_button(button: Button) -> dict[str, Any]:
    reply = {
        "id": _required("button id", button.id, BUTTON_ID_MAX),
        "title": _required("button title", button.title, BUTTON_TITLE_MAX),
    }
    return {"type": "reply", "reply": reply}


def _list(message: ListOut) -> dict[str, Any]:
    sections = message.sections
    rows = [row for section in sections for row in section.rows]
    if len(sections) > LIST_SECTIONS_MAX:
        raise OutboundLimitError(f"{len(sections)} sections; WhatsApp allows at most {LIST_SECTIONS_MAX}")
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        raise OutboundLimitError(f"{len(rows)} list rows in all; WhatsApp allows 1 to {LIST_ROWS_MAX}")
    _unique("list row id", (row.id for row in rows))
    return {
        "button": _required("list button label", message.button, LIST_BUTTON_MAX),
        "sections": [_section(section, titled=len(sections) > 1) for section in sections],
    }


def _section(section: ListSection, *, titled: bool) -> dict[str, Any]:
    if not section.rows:
        raise OutboundLimitError("a list section has no rows")
    if titled and section.title is None:
        raise OutboundLimitError("every section needs a title when a list has more than one")
    body: dict[str, Any] = {}
    if section.title is not None:
        body["title"] = _required("section title", section.title, SECTION_TITLE_MAX)
    body["rows"] = [_row(row) for row in section.rows]
    return body


def _row(row: ListRow) -> dict[str, Any]:
    item = {
        "id": _required("row id", row.id, ROW_ID_MAX),
        "title": _required("row title", row.title, ROW_TITLE_MAX),
    }
    if row.description is not None:
        item["description"] = _required("row description", row.description, ROW_DESCRIPTION_MAX)
    return item


def _cta(message: CtaUrlOut) -> dict[str, Any]:
    parameters = {
        "display_text": _required("CTA display text", message.display_text, CTA_DISPLAY_TEXT_MAX),
        "url": _http_url("CTA URL", message.url),
    }
    return {"name": "cta_url", "parameters": parameters}


def _media(kind: str, media_id: str | None, link: str | None, caption: str | None) -> dict[str, Any]:
    if (media_id is None) == (link is None):
        raise OutboundLimitError(f"a {kind} needs exactly one of media_id and link")
    media: dict[str, Any] = {}
    if media_id is not None:
        media["id"] = _required(f"{kind} media id", media_id)
    if link is not None:
        media["link"] = _http_url(f"{kind} link", link)
    if caption is not None:
        media["caption"] = _required(f"{kind} caption", caption, CAPTION_MAX)
    return media


def _template(message: TemplateOut) -> dict[str, Any]:
    template: dict[str, Any] = {
        "name": _required("template name", message.name),
        "language": {"code": _required("template language", message.language)},
    }
    if message.body_parameters:
        parameters = [
            {"type": "text", "text": _required("template body parameter", text)} for text in message.body_parameters
        ]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return template


def _order_details(message: OrderOut) -> dict[str, Any]:
    """`review_and_pay` for one item: India's UPI payments, digital goods, no tax on a government fee."""
    if not ORDER_REFERENCE_ID.fullmatch(message.reference_id):
        raise OutboundLimitError(f"the order reference_id {message.reference_id!r} breaks Meta's rules")
    if message.amount_paise <= 0:
        raise OutboundLimitError("an order must be for a positive amount")
    paise = message.amount_paise
    item = {
        "retailer_id": _required("order item id", message.item_id),
        "name": _required("order item name", message.item_name, ORDER_ITEM_NAME_MAX),
        "amount": _amount(paise),
        "quantity": 1,
    }
    parameters = {
        "reference_id": message.reference_id,
        "type": "digital-goods",
        "payment_type": "upi",
        "payment_configuration": _required("payment configuration", message.configuration),
        "currency": "INR",
        "total_amount": _amount(paise),
        "order": {"status": "pending", "items": [item], "subtotal": _amount(paise), "tax": _amount(0)},
    }
    return {"name": "review_and_pay", "parameters": parameters}


def _amount(paise: int) -> dict[str, int]:
    return {"value": paise, "offset": PAISE_OFFSET}


def _required(what: str, value: str, limit: int | None = None) -> str:
    """`value`, unless it is blank or longer than `limit` characters."""
    if not value.strip():
        raise OutboundLimitError(f"the {what} must not be empty")
    if limit is not None and len(value) > limit:
        raise OutboundLimitError(f"the {what} has {len(value)} characters; WhatsApp allows at most {limit}")
    return value


def _http_url(what: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OutboundLimitError(f"the {what} must be an http(s) URL, not {url!r}")
    return url


def _unique(what: str, values: Iterable[str]) -> None:
    repeated = sorted(value for value, count in Counter(values).items() if count > 1)
    if repeated:
        raise OutboundLimitError(f"each {what} must be unique; repeated: {repeated}")
