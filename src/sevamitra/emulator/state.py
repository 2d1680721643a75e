"""Meta's side of the world, in memory: simulated citizens, both directions of each chat, media, faults."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sevamitra.emulator import ids
from sevamitra.emulator.errors import DEFAULT_CODE_FOR_STATUS

Direction = Literal["in", "out"]  # in: citizen → platform (a webhook); out: platform → citizen (Graph API)
STATUS_ORDER = ("sent", "delivered", "read")


@dataclass(kw_only=True)
class Citizen:
    """A simulated WhatsApp user."""

    wa_id: str
    name: str
    user_id: str
    conversation_id: str = field(default_factory=lambda: secrets.token_hex(16))
    last_inbound_at: float | None = None  # opens Meta's 24-hour customer-service window
    typing_until: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"wa_id": self.wa_id, "name": self.name, "user_id": self.user_id}


@dataclass(kw_only=True)
class ChatEntry:
    """One message in a chat: an outbound Graph body, or an inbound webhook message and its exact update."""

    seq: int
    id: str
    wa_id: str
    direction: Direction
    timestamp: int
    status: str
    body: dict[str, Any] | None = None  # outbound: the Graph API request body as sent
    message: dict[str, Any] | None = None  # inbound: the `messages[]` item of the webhook
    update: bytes = b""  # inbound: the signed update's exact bytes, for redelivery
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seq": self.seq,
            "id": self.id,
            "direction": self.direction,
            "timestamp": self.timestamp,
            "status": self.status,
        }
        if self.direction == "out":
            data["body"] = self.body
        else:
            data["message"] = self.message
        if self.errors:
            data["errors"] = self.errors
        return data


@dataclass(frozen=True, kw_only=True)
class Media:
    """An uploaded file, by the business (Graph API) or by a citizen (the chat page)."""

    id: str
    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def sha256_b64(self) -> str:
        """The digest as inbound media webhooks carry it."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass(kw_only=True)
class MessageQrCode:
    """A WhatsApp message QR code: scanning it opens a chat with the business, this text typed in."""

    code: str
    prefilled_message: str
    seq: int  # creation order: lists show the newest first, and paging cursors name this
    creation_time: int


FaultKind = Literal["error", "timeout", "reset"]


@dataclass(frozen=True)
class Fault:
    """An injected failure for the next Graph `messages` call: an error answer (`status` and Meta `code`);
    a `timeout`, no answer for `seconds` (longer than the client waits); or a `reset`, the connection
    dropped after the status line and before the body. Only an `error` carries a meaningful status and code."""

    status: int
    code: int
    kind: FaultKind = "error"
    seconds: float = 0.0


class EmulatorState:
    """Everything the emulator knows. Reset gives a clean slate."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every citizen, message, media file, QR code and pending fault."""
        self.citizens: dict[str, Citizen] = {}
        self.entries: list[ChatEntry] = []
        self.media: dict[str, Media] = {}
        self.faults: deque[Fault] = deque()
        self.qr_codes: dict[str, MessageQrCode] = {}
        self._by_id: dict[str, ChatEntry] = {}
        self._seq = 0

    # ------------------------------------------------------------ citizens

    def add_citizen(self, name: str = "", wa_id: str | None = None) -> Citizen:
        """Create a citizen (a fresh 9199… number when none is given); an existing number is returned as is."""
        wa_id = wa_id or self._fresh_wa_id()
        if (known := self.citizens.get(wa_id)) is not None:
            return known
        citizen = Citizen(wa_id=wa_id, name=name.strip() or f"Citizen {wa_id[-4:]}", user_id=ids.user_id(wa_id))
        self.citizens[wa_id] = citizen
        return citizen

    def citizen(self, wa_id: str) -> Citizen | None:
        return self.citizens.get(wa_id)

    def citizen_by_user_id(self, user_id: str) -> Citizen | None:
        return next((c for c in self.citizens.values() if c.user_id == user_id), None)

    def _fresh_wa_id(self) -> str:
        while (wa_id := ids.new_wa_id()) in self.citizens:
            pass
        return wa_id

    # ------------------------------------------------------------ chats

    def append(self, **fields: Any) -> ChatEntry:
        """Add a message to its chat with the next sequence number."""
        self._seq += 1
        entry = ChatEntry(seq=self._seq, **fields)
        self.entries.append(entry)
        self._by_id[entry.id] = entry
        return entry

    def entry(self, message_id: str) -> ChatEntry | None:
        return self._by_id.get(message_id)

    def chat(self, wa_id: str, after: int = 0) -> list[ChatEntry]:
        """A citizen's messages, both directions, in order; only those after `after` when given."""
        return [e for e in self.entries if e.wa_id == wa_id and e.seq > after]

    def outbound(self, wa_id: str) -> list[ChatEntry]:
        """What the platform sent this citizen."""
        return [e for e in self.chat(wa_id) if e.direction == "out"]

    def inbound(self, wa_id: str) -> list[ChatEntry]:
        """What this citizen sent the platform."""
        return [e for e in self.chat(wa_id) if e.direction == "in"]

    # ------------------------------------------------------------ media

    def add_media(self, data: bytes, mime_type: str, filename: str | None = None) -> Media:
        media = Media(id=ids.media_id(), data=data, mime_type=mime_type, filename=filename)
        self.media[media.id] = media
        return media

    # ------------------------------------------------------------ message QR codes

    def add_qr_code(self, code: str, prefilled_message: str, creation_time: int) -> MessageQrCode:
        self._seq += 1  # shared with chat entries: any increasing number orders the list
        qr_code = MessageQrCode(
            code=code, prefilled_message=prefilled_message, seq=self._seq, creation_time=creation_time
        )
        self.qr_codes[code] = qr_code
        return qr_code

    # ------------------------------------------------------------ faults

    def inject_faults(self, statuses: Iterable[int], error_codes: Mapping[int | str, int] | None = None) -> int:
        """Make the next Graph `messages` calls fail with these HTTP statuses, in order; returns how many wait.

        `error_codes` maps an HTTP status to the Meta error code to answer with (429 → 130429 by default).
        """
        codes = {int(k): int(v) for k, v in (error_codes or {}).items()}
        for status in statuses:
            self.faults.append(Fault(int(status), codes.get(int(status), DEFAULT_CODE_FOR_STATUS.get(int(status), 1))))
        return len(self.faults)

    def inject(self, faults: Iterable[Fault]) -> int:
        """Queue faults of any kind after those waiting; returns how many wait."""
        self.faults.extend(faults)
        return len(self.faults)

    def take_fault(self) -> Fault | None:
        return self.faults.popleft() if self.faults else None
