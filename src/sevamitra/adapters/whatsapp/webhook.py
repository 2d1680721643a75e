"""Inbound WhatsApp Cloud API webhooks: split a verified POST into inbox items, parse items into events.

Two steps, because Meta delivers at least once: `split_update` cuts a body into self-contained
items, each with an idempotency key, to be stored before anything else happens; later a worker
calls `parse_item` on each stored item to get a typed `core.messages` event. The wire models are
lenient (Meta adds fields); anything we cannot read is kept as an item, never dropped or raised.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from sevamitra.core.messages import (
    ChannelError,
    ChannelErrors,
    ChoiceIn,
    ContactsIn,
    DeliveryState,
    DeliveryStatus,
    Event,
    FormReplyIn,
    Inbound,
    LocationIn,
    MediaIn,
    MediaKind,
    OrderIn,
    OrderItem,
    ReactionIn,
    Sender,
    SharedContact,
    SystemIn,
    TextIn,
    UnsupportedIn,
)

InboxKind = Literal["message", "status", "payment", "errors", "other", "unreadable"]

_RAW_CAP = 64 * 1024  # characters of an unreadable body kept for inspection
# The inbox's columns hold a key of 255 characters and an address of 64: a message or status whose id
# or citizen is longer is kept as an unreadable item (keyed by its digest) rather than not stored at all.
KEY_LIMIT, ADDRESS_LIMIT = 255, 64
_Address = Annotated[str, Field(max_length=ADDRESS_LIMIT)]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxItem:
    """One unit of a webhook POST, stored alone and parsed later with `parse_item(kind, fragment)`."""

    key: str  # idempotency key: the same item redelivered has the same key; at most KEY_LIMIT characters
    kind: InboxKind
    address: str | None  # the citizen whose items must be handled in order, if any; at most ADDRESS_LIMIT
    fragment: dict[str, Any]  # JSON-ready; holds everything `parse_item` needs


# ---------------------------------------------------------------- wire format


_DIGITS = re.compile(r"[0-9]{1,12}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _unix_seconds(value: object) -> datetime:
    """Meta's timestamps: unix seconds, as a string of digits (or, leniently, an int)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 253_402_300_800:
        return _EPOCH + timedelta(seconds=value)
    raise ValueError("expected unix seconds")


_UnixTime = Annotated[datetime, PlainValidator(_unix_seconds)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class _Change(_Wire):
    field: str
    value: Any = None


class _Entry(_Wire):
    changes: list[_Change] = []


class _Update(_Wire):
    entry: list[_Entry]


class _Profile(_Wire):
    name: str | None = None


class _Contact(_Wire):
    wa_id: _Address | None = None
    user_id: _Address | None = None
    profile: _Profile | None = None


class _Message(_Wire):
    """The part common to every message type; the type-specific object is read separately."""

    id: str = Field(min_length=1, max_length=KEY_LIMIT)
    timestamp: _UnixTime
    type: str = "unknown"
    from_: _Address | None = Field(default=None, alias="from")
    from_user_id: _Address | None = None
    context: Any = None
    errors: Any = None


class _Status(_Wire):
    id: str = Field(min_length=1, max_length=KEY_LIMIT - 32)  # its key adds `status:` and the state
    status: DeliveryState
    timestamp: _UnixTime
    recipient_id: _Address | None = None
    recipient_user_id: _Address | None = None
    errors: Any = None


class _ErrorData(_Wire):
    details: str | None = None


class _Error(_Wire):
    code: int
    title: str = ""
    message: str | None = None
    error_data: _ErrorData | None = None


class _Text(_Wire):
    body: str


class _Media(_Wire):
    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class _Location(_Wire):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class _ContactName(_Wire):
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class _Phone(_Wire):
    phone: str | None = None
    wa_id: str | None = None


class _SharedContact(_Wire):
    name: _ContactName = _ContactName()
    phones: list[_Phone] = []


class _Reaction(_Wire):
    message_id: str
    emoji: str | None = None


class _ProductItem(_Wire):
    product_retailer_id: str
    quantity: int
    item_price: float
    currency: str


class _Order(_Wire):
    catalog_id: str
    product_items: list[_ProductItem]
    text: str | None = None


class _System(_Wire):
    body: str
    type: str | None = None
    wa_id: str | None = None
    new_wa_id: str | None = None


class _QuickReply(_Wire):
    payload: str
    text: str


class _Reply(_Wire):
    id: str
    title: str
    description: str | None = None


class _FlowReply(_Wire):
    response_json: str
    body: str | None = None


class _Interactive(_Wire):
    type: str
    button_reply: _Reply | None = None
    list_reply: _Reply | None = None
    nfm_reply: _FlowReply | None = None


# ---------------------------------------------------------------- splitting


def split_update(raw_body: bytes) -> list[InboxItem]:
    """Cut a webhook body into inbox items; never raises, whatever the bytes.

    A body that is not a webhook update at all becomes one "unreadable" item.
    """
    try:
        data = _DECODER.decode(raw_body.decode("utf-8"))
        update = _Update.model_validate(data)
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and ValidationError
        text = raw_body[: 4 * _RAW_CAP].decode("utf-8", errors="replace")[:_RAW_CAP]
        return [_item("unreadable", {"raw": text}, digest=_sha256(raw_body))]
    return [item for entry in update.entry for change in entry.changes for item in _split_change(change)]


def _split_change(change: _Change) -> list[InboxItem]:
    value = change.value
    if change.field != "messages":
        return [_item("other", {"field": change.field, "value": value})]
    if not isinstance(value, dict):
        return [_unreadable_part(value)]
    metadata = value.get("metadata")
    contacts = [c for c in _as_list(value.get("contacts")) if isinstance(c, dict)]
    items = [_message_item(raw, metadata, contacts) for raw in _as_list(value.get("messages"))]
    items += [_status_item(raw, metadata) for raw in _as_list(value.get("statuses"))]
    if errors := _as_list(value.get("errors")):
        items.append(_item("errors", {"metadata": metadata, "errors": errors}))
    # a "messages" change of a shape we do not know is kept, not dropped
    return items or [_item("other", {"field": change.field, "value": value})]


def _message_item(raw: object, metadata: object, contacts: list[dict[str, Any]]) -> InboxItem:
    try:
        message = _Message.model_validate(raw)
    except ValidationError:
        return _unreadable_part(raw)
    raw_contact, contact = _matching_contact(message, contacts)
    # the address of `_sender(message, raw_contact)`, without validating the contact again
    wa_id = message.from_ or (contact.wa_id if contact else None)
    user_id = message.from_user_id or (contact.user_id if contact else None)
    return InboxItem(
        key=message.id,
        kind="message",
        address=wa_id or user_id or None,
        fragment={"metadata": metadata, "contact": raw_contact, "message": raw},
    )


def _status_item(raw: object, metadata: object) -> InboxItem:
    if isinstance(raw, dict) and raw.get("type") == "payment":  # settled as it arrives; kept for the record
        return _item("payment", {"metadata": metadata, "status": raw})
    try:
        status = _Status.model_validate(raw)
    except ValidationError:
        return _unreadable_part(raw)
    return InboxItem(
        key=f"status:{status.id}:{status.status}",
        kind="status",
        address=status.recipient_id or status.recipient_user_id,
        fragment={"metadata": metadata, "status": raw},
    )


def _matching_contact(
    message: _Message, contacts: list[dict[str, Any]]
) -> tuple[dict[str, Any], _Contact] | tuple[None, None]:
    """The sender's `contacts[]` entry, raw and read: matched by phone or user id, else a sole entry
    naming no one else."""
    parsed = [(raw, contact) for raw in contacts if (contact := _contact(raw)) is not None]
    for raw, contact in parsed:
        if _same(message.from_, contact.wa_id) or _same(message.from_user_id, contact.user_id):
            return raw, contact
    if len(parsed) == 1:
        raw, contact = parsed[0]
        if not (_clash(message.from_, contact.wa_id) or _clash(message.from_user_id, contact.user_id)):
            return raw, contact
    return None, None


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and a == b


def _clash(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


def _item(kind: InboxKind, fragment: dict[str, Any], *, digest: str | None = None) -> InboxItem:
    """An item without a natural id, keyed by the digest of its canonical JSON."""
    return InboxItem(key=digest or _sha256(_canonical(fragment)), kind=kind, address=None, fragment=fragment)


def _unreadable_part(raw: object) -> InboxItem:
    canonical = _canonical(raw)
    return _item("unreadable", {"raw": canonical[:_RAW_CAP].decode()}, digest=_sha256(canonical))


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _as_list(value: object) -> list[Any]:
    """A list as is, a lone value as a list of one, absence as empty."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    """A JSON number as a float; one too large for a float (`1e999`) is refused, as PostgreSQL's json
    would refuse the `Infinity` it becomes, and the delivery could never be stored."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:40]} is too large for a float")
    return value


# json.loads would build one per call
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite)


# ---------------------------------------------------------------- parsing


def parse_item(kind: str, fragment: dict[str, Any]) -> Event | None:
    """The event an inbox item carries; None for "other" and "unreadable" items.

    Deterministic. Also None for a fragment that `split_update` would not have produced.
    """
    try:
        if kind == "message":
            return _parse_message(fragment)
        if kind == "status":
            return _parse_status(fragment)
        if kind == "errors":
            return ChannelErrors(errors=_channel_errors(fragment.get("errors")))
    except ValidationError:
        return None
    return None


def _phone_number_id(metadata: object) -> str | None:
    """The business number a message was sent to, from the update's `metadata`."""
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return number if isinstance(number, str) and number else None


def _parse_message(fragment: dict[str, Any]) -> Inbound:
    raw = fragment.get("message")
    message = _Message.model_validate(raw)
    common: dict[str, Any] = {
        "message_id": message.id,
        "sender": _sender(message, fragment.get("contact")),
        "sent_at": message.timestamp,
        "context_message_id": _context_id(message.context),
        "number": _phone_number_id(fragment.get("metadata")),
    }
    body = raw.get(message.type) if isinstance(raw, dict) else None
    build = _BUILDERS.get(message.type)
    if build is not None:
        try:
            built = build(body, common)
        except ValueError:  # the type-specific object is missing or malformed
            pass
        else:
            if isinstance(built, TextIn) and _forwarded(message.context):
                built = replace(built, forwarded=True)
            return built
    return _unsupported(message, body, common)


def _parse_status(fragment: dict[str, Any]) -> DeliveryStatus:
    status = _Status.model_validate(fragment.get("status"))
    return DeliveryStatus(
        message_id=status.id,
        recipient=status.recipient_id or status.recipient_user_id or "",
        state=status.status,
        at=status.timestamp,
        errors=_channel_errors(status.errors),
    )


def _sender(message: _Message, raw_contact: object) -> Sender:
    contact = _contact(raw_contact) or _Contact()
    return Sender(
        wa_id=message.from_ or contact.wa_id,
        user_id=message.from_user_id or contact.user_id,
        name=contact.profile.name if contact.profile else None,
    )


def _contact(raw: object) -> _Contact | None:
    try:
        return _Contact.model_validate(raw)
    except ValidationError:
        return None


def _context_id(context: object) -> str | None:
    found = context.get("id") if isinstance(context, dict) else None
    return found if isinstance(found, str) else None


def _errors(raw: object) -> Iterator[_Error]:
    """The well-formed entries of an `errors` array; the rest are skipped."""
    for entry in _as_list(raw):
        try:
            yield _Error.model_validate(entry)
        except ValidationError:
            continue


def _channel_errors(raw: object) -> tuple[ChannelError, ...]:
    return tuple(
        ChannelError(
            code=e.code,
            title=e.title,
            message=e.message,
            details=e.error_data.details if e.error_data else None,
        )
        for e in _errors(raw)
    )


def _unsupported(message: _Message, body: object, common: dict[str, Any]) -> UnsupportedIn:
    inner = body.get("type") if message.type == "unsupported" and isinstance(body, dict) else None
    return UnsupportedIn(
        original_type=inner if isinstance(inner, str) else message.type,
        error_codes=tuple(e.code for e in _errors(message.errors)),
        **common,
    )


def _forwarded(context: object) -> bool:
    """Meta sets `context.forwarded` (and `frequently_forwarded`) on a forwarded message."""
    return isinstance(context, dict) and bool(context.get("forwarded") or context.get("frequently_forwarded"))


def _text(body: object, common: dict[str, Any]) -> Inbound:
    return TextIn(body=_Text.model_validate(body).body, **common)


def _media(kind: MediaKind, body: object, common: dict[str, Any]) -> Inbound:
    media = _Media.model_validate(body)
    return MediaIn(
        kind=kind,
        media_id=media.id,
        mime_type=media.mime_type,
        sha256=media.sha256,
        caption=media.caption,
        filename=media.filename,
        voice=media.voice,
        **common,
    )


def _location(body: object, common: dict[str, Any]) -> Inbound:
    place = _Location.model_validate(body)
    return LocationIn(
        latitude=place.latitude, longitude=place.longitude, name=place.name, address=place.address, **common
    )


def _shared_contacts(body: object, common: dict[str, Any]) -> Inbound:
    cards = [_SharedContact.model_validate(card) for card in _as_list(body)]
    if not cards:
        raise ValueError("no contacts shared")
    return ContactsIn(
        contacts=tuple(
            SharedContact(
                name=_full_name(card.name),
                phones=tuple(p for p in (phone.phone or phone.wa_id for phone in card.phones) if p),
            )
            for card in cards
        ),
        **common,
    )


def _full_name(name: _ContactName) -> str:
    parts = (name.first_name, name.last_name)
    return name.formatted_name or " ".join(p for p in parts if p)


def _reaction(body: object, common: dict[str, Any]) -> Inbound:
    reaction = _Reaction.model_validate(body)
    return ReactionIn(emoji=reaction.emoji or None, reacted_message_id=reaction.message_id, **common)


def _order(body: object, common: dict[str, Any]) -> Inbound:
    order = _Order.model_validate(body)
    items = tuple(
        OrderItem(
            product_id=i.product_retailer_id,
            quantity=i.quantity,
            item_price=i.item_price,
            currency=i.currency,
        )
        for i in order.product_items
    )
    return OrderIn(catalog_id=order.catalog_id, items=items, text=order.text or None, **common)


def _system(body: object, common: dict[str, Any]) -> Inbound:
    system = _System.model_validate(body)
    new_wa_id = system.new_wa_id or system.wa_id
    return SystemIn(body=system.body, system_type=system.type, new_wa_id=new_wa_id, **common)


def _quick_reply(body: object, common: dict[str, Any]) -> Inbound:
    button = _QuickReply.model_validate(body)
    return ChoiceIn(choice_id=button.payload, title=button.text, **common)


def _interactive(body: object, common: dict[str, Any]) -> Inbound:
    interactive = _Interactive.model_validate(body)
    reply = interactive.button_reply if interactive.type == "button_reply" else None
    reply = interactive.list_reply if interactive.type == "list_reply" else reply
    if reply is not None:
        return ChoiceIn(choice_id=reply.id, title=reply.title, description=reply.description, **common)
    flow = interactive.nfm_reply if interactive.type == "nfm_reply" else None
    if flow is not None:
        return FormReplyIn(response_json=flow.response_json, body=flow.body, **common)
    raise ValueError(f"no {interactive.type} object in an interactive message")


_BUILDERS: dict[str, Callable[[object, dict[str, Any]], Inbound]] = {
    "text": _text,
    "image": partial(_media, "image"),
    "document": partial(_media, "document"),
    "audio": partial(_media, "audio"),
    "video": partial(_media, "video"),
    "sticker": partial(_media, "sticker"),
    "location": _location,
    "contacts": _shared_contacts,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "button": _quick_reply,
    "interactive": _interactive,
}
