"""Channel-neutral messages: what a citizen sent us, and what we send back.

Inbound messages and delivery statuses are parsed from a channel's wire format at the edge; the
conversation engine only ever sees these types. Outbound messages are serialised into the outbox
with `outbound_to_dict` and rebuilt with `outbound_from_dict`, so a reply survives a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

# ---------------------------------------------------------------- who


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """A citizen as the channel names them: the phone number (wa_id) and/or the business-scoped user id."""

    wa_id: str | None = None
    user_id: str | None = None
    name: str | None = None

    @property
    def address(self) -> str:
        """The key that orders a citizen's messages: the phone when known, else the user id."""
        return self.wa_id or self.user_id or ""


# ---------------------------------------------------------------- inbound


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    message_id: str
    sender: Sender
    sent_at: datetime
    context_message_id: str | None = None  # the message this one replies to, if any
    number: str | None = None  # the business number (phone number id) it was sent to; None: the main one


@dataclass(frozen=True, slots=True, kw_only=True)
class TextIn(Inbound):
    body: str
    forwarded: bool = False  # WhatsApp marks a forwarded message: the citizen may be asking if it is real


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceIn(Inbound):
    """A tap on a reply button, a list row or a template's quick-reply button."""

    choice_id: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FormReplyIn(Inbound):
    """The answer of a WhatsApp Flow (`nfm_reply`): its JSON as sent."""

    response_json: str
    body: str | None = None


MediaKind = Literal["image", "document", "audio", "video", "sticker"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaIn(Inbound):
    kind: MediaKind
    media_id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False  # a recorded voice note rather than an audio file


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationIn(Inbound):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedContact:
    name: str
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactsIn(Inbound):
    contacts: tuple[SharedContact, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionIn(Inbound):
    emoji: str | None  # None when a reaction is removed
    reacted_message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItem:
    product_id: str
    quantity: int
    item_price: float
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIn(Inbound):
    catalog_id: str
    items: tuple[OrderItem, ...]
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemIn(Inbound):
    """A notice from the channel itself, e.g. the citizen changed their number."""

    body: str
    system_type: str | None = None
    new_wa_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedIn(Inbound):
    """Anything we cannot read (an unknown or unsupported type): stored, and answered politely."""

    original_type: str
    error_codes: tuple[int, ...] = ()


# ---------------------------------------------------------------- delivery statuses

DeliveryState = Literal["sent", "delivered", "read", "failed", "deleted", "warning", "played"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelError:
    code: int
    title: str
    message: str | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryStatus:
    """The fate of one of our outbound messages, as the channel reports it."""

    message_id: str  # the channel's id of our outbound message
    recipient: str
    state: DeliveryState
    at: datetime
    errors: tuple[ChannelError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelErrors:
    """Errors the channel reports outside any message (webhook-level `errors`)."""

    errors: tuple[ChannelError, ...]


Event = Inbound | DeliveryStatus | ChannelErrors

MediaProblem = Literal["gone", "too_large", "failed"]


class MediaError(Exception):
    """An inbound media file the channel did not give us: gone (expired or never there), larger than
    allowed (refused before download), or a failure (network, server)."""

    def __init__(self, problem: MediaProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else problem)
        self.problem: MediaProblem = problem


# ---------------------------------------------------------------- outbound


@dataclass(frozen=True, slots=True, kw_only=True)
class TextOut:
    body: str
    preview_url: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonsOut:
    """Up to three reply buttons under a body."""

    body: str
    buttons: tuple[Button, ...]
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSection:
    rows: tuple[ListRow, ...]
    title: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListOut:
    """A list behind a button: at most ten rows in all."""

    body: str
    button: str
    sections: tuple[ListSection, ...]
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CtaUrlOut:
    body: str
    display_text: str
    url: str
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentOut:
    """A document by uploaded media id or by public link."""

    filename: str
    media_id: str | None = None
    link: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageOut:
    media_id: str | None = None
    link: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioOut:
    """An audio message by uploaded media id (a spoken reply once synthesised and uploaded)."""

    media_id: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechOut:
    """Say `text` aloud as a voice note: the sender synthesises it, uploads it and sends an `AudioOut`."""

    text: str
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateOut:
    """An approved template, the only thing one may send outside the 24-hour window."""

    name: str
    language: str
    body_parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderOut:
    """A request to pay inside the chat (WhatsApp's `order_details`): one item, in paise."""

    body: str
    reference_id: str  # the order's id at the channel: its payment statuses name it
    configuration: str  # the payment configuration set up with the channel
    item_name: str
    amount_paise: int
    item_id: str = "fee"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkRead:
    """Mark an inbound message read, optionally showing the typing indicator."""

    message_id: str
    typing: bool = False


Outbound = (
    TextOut
    | ButtonsOut
    | ListOut
    | CtaUrlOut
    | DocumentOut
    | ImageOut
    | AudioOut
    | SpeechOut
    | TemplateOut
    | OrderOut
    | MarkRead
)

_OUTBOUND_KINDS: dict[str, type[Any]] = {
    "text": TextOut,
    "buttons": ButtonsOut,
    "list": ListOut,
    "cta_url": CtaUrlOut,
    "document": DocumentOut,
    "image": ImageOut,
    "audio": AudioOut,
    "speech": SpeechOut,
    "template": TemplateOut,
    "order": OrderOut,
    "mark_read": MarkRead,
}
_KIND_OF: dict[type[Any], str] = {cls: kind for kind, cls in _OUTBOUND_KINDS.items()}


def outbound_to_dict(message: Outbound) -> dict[str, Any]:
    """A JSON-ready dict, tagged with its kind."""
    return {"kind": _KIND_OF[type(message)], **asdict(message)}


def outbound_from_dict(data: dict[str, Any]) -> Outbound:
    payload = dict(data)
    kind = payload.pop("kind")
    if kind == "buttons":
        payload["buttons"] = tuple(Button(**b) for b in payload["buttons"])
    elif kind == "list":
        payload["sections"] = tuple(
            ListSection(title=s.get("title"), rows=tuple(ListRow(**r) for r in s["rows"])) for s in payload["sections"]
        )
    elif kind == "template":
        payload["body_parameters"] = tuple(payload.get("body_parameters", ()))
    message: Outbound = _OUTBOUND_KINDS[kind](**payload)
    return message


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """Where an outbound message goes: the phone when known, else the business-scoped user id."""

    wa_id: str | None = None
    user_id: str | None = None
    via: str | None = None  # the business number (phone number id) that speaks to them; None: the main one

    @staticmethod
    def of(sender: Sender, via: str | None = None) -> Recipient:
        return Recipient(wa_id=sender.wa_id, user_id=sender.user_id, via=via)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What the channel answered to one send."""

    ok: bool
    message_id: str | None = None
    retryable: bool = False  # rate limits, server errors, timeouts
    error: ChannelError | None = None
    retry_after_seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
