"""The emulator's behaviour: Meta's side of one business phone number, with simulated citizens.

Citizens' messages become signed webhooks; the platform's Graph API sends land in the citizen's
chat and are answered with `sent`, `delivered` and (once the chat page shows them) `read` statuses.

Faults for tests, each taken by the next `POST /messages` call, in the order queued (in process, or
over `POST /_control/faults`, see `control.py`):

- an error answer: an HTTP status and Meta's code, in Meta's JSON (`inject_faults([429, 500])`; 429
  carries `Retry-After: 1`; 401 answers code 190, an invalid or expired access token);
- `timeout`: no answer for `seconds` (`inject_timeouts`), so a client that waits less times out; the
  message is not sent; once the hold is over (or the client has gone) a 504 is answered;
- `reset`: the status line and headers go out and the connection is closed before the body
  (`inject_resets`): over a real socket the client sees the connection drop (aiohttp's payload error,
  httpx's `RemoteProtocolError`); the message is not sent. An in-process ASGI client sees a short body.

`set_access_token` makes the emulated Graph API accept another token (the platform's one has expired or
been revoked: every call answers 401 with code 190 until the platform uses the new one); `reset` brings
back the configured token.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from sevamitra.emulator import ids, payloads
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.errors import UNDELIVERABLE
from sevamitra.emulator.state import STATUS_ORDER, ChatEntry, Citizen, EmulatorState, Fault
from sevamitra.emulator.webhooks import WebhookSender

RE_ENGAGEMENT = 131047
WINDOW_SECONDS = 24 * 3600
_OUTSIDE_WINDOW = (
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
)
_ERROR_DOCS = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


class Emulator:
    """Meta's side, in memory. `aclose()` stops deliveries and closes the HTTP client it made."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._configured_token = config.access_token
        self.state = EmulatorState()
        self.webhooks = WebhookSender(config, http)
        self._clock = clock
        self._timers: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ the citizens' side

    def add_citizen(self, name: str = "", wa_id: str | None = None) -> Citizen:
        return self.state.add_citizen(name, wa_id)

    def citizen_sends(
        self, wa_id: str, kind: str, content: dict[str, Any], *, context_id: str | None = None
    ) -> ChatEntry:
        """A citizen sends a message of this webhook `type`; the signed update goes out in the background."""
        citizen = self.state.add_citizen(wa_id=wa_id)
        now = self._clock()
        message: dict[str, Any] = {}
        if context_id:
            message["context"] = {"from": self.config.display_phone_number, "id": context_id}
        message_id = ids.message_id(wa_id, outbound=False)
        message |= {"from": wa_id, "id": message_id, "timestamp": str(int(now)), "type": kind, kind: content}
        update = payloads.message_update(
            self.config, name=citizen.name, wa_id=wa_id, user_id=citizen.user_id, message=message
        )
        citizen.last_inbound_at, citizen.typing_until = now, 0.0
        entry = self.state.append(
            id=message_id,
            wa_id=wa_id,
            direction="in",
            timestamp=int(now),
            status="sent",
            message=message,
            update=payloads.encode(update),
        )
        self._deliver_inbound(entry)
        return entry

    def send_text(self, wa_id: str, text: str) -> ChatEntry:
        return self.citizen_sends(wa_id, "text", {"body": text})

    def choose(self, wa_id: str, choice_id: str) -> ChatEntry:
        """Tap the reply button or list row with this id on the latest platform message that offers it."""
        offer = self.offering(wa_id, choice_id)
        if offer is None:
            raise KeyError(f"no platform message to {wa_id} offers the choice {choice_id!r}")
        entry, kind, content = offer
        return self.citizen_sends(wa_id, "interactive", {"type": kind, kind: content}, context_id=entry.id)

    def offering(self, wa_id: str, choice_id: str) -> tuple[ChatEntry, str, dict[str, str]] | None:
        """The latest platform message offering this choice, the reply type and its content."""
        for entry in reversed(self.state.outbound(wa_id)):
            action = ((entry.body or {}).get("interactive") or {}).get("action") or {}
            for button in action.get("buttons") or []:
                reply = button.get("reply") or {}
                if reply.get("id") == choice_id:
                    return entry, "button_reply", {"id": choice_id, "title": str(reply.get("title", ""))}
            for row in (r for s in action.get("sections") or [] for r in s.get("rows") or []):
                if row.get("id") == choice_id:
                    return entry, "list_reply", {k: str(row[k]) for k in ("id", "title", "description") if k in row}
        return None

    def redeliver(self, message_id: str) -> ChatEntry | None:
        """Send a citizen's update again, byte for byte, as Meta's at-least-once delivery does."""
        entry = self.state.entry(message_id)
        if entry is None or entry.direction != "in":
            return None
        self.webhooks.deliver(entry.wa_id, entry.update, kind="message", message_id=entry.id)
        return entry

    def citizen_pays(self, wa_id: str, message_id: str, *, paid: bool) -> dict[str, Any]:
        """Pay (or fail to pay) an `order_details` message the platform sent this citizen: Meta's signed
        `payment` status follows as a webhook. Raises KeyError when there is no such order."""
        entry = self.state.entry(message_id)
        interactive = ((entry.body or {}).get("interactive") or {}) if entry else {}
        if entry is None or entry.wa_id != wa_id or interactive.get("type") != "order_details":
            raise KeyError(f"no order {message_id!r} to {wa_id}")
        item = payloads.payment_status(
            message_id,
            interactive["action"]["parameters"],
            paid=paid,
            recipient_id=wa_id,
            timestamp=int(self._clock()),
            transaction_id=secrets.token_hex(8),
        )
        body = payloads.encode(payloads.status_update(self.config, item))
        self.webhooks.deliver(wa_id, body, kind="payment", message_id=message_id)
        return item

    def citizen_reads(self, wa_id: str, up_to: int) -> int:
        """The chat page has shown the platform's messages up to this seq: each becomes `read`."""
        shown = [e for e in self.state.outbound(wa_id) if e.seq <= up_to and e.status in ("sent", "delivered")]
        for entry in shown:
            self._advance(entry, "read")
        return len(shown)

    # ------------------------------------------------------------ the platform's side (Graph API)

    def business_sends(self, body: dict[str, Any]) -> dict[str, Any]:
        """Accept a valid `POST /messages` body; returns Meta's answer. Statuses follow as webhooks."""
        to = str(body.get("recipient") or body.get("to"))
        by_user_id = "recipient" in body or ids.normalise_wa_id(to) is None
        citizen = self._recipient(to, by_user_id=by_user_id)
        now = self._clock()
        message_id = ids.message_id(citizen.wa_id if citizen else to, outbound=True)
        contact = {"input": to, "wa_id": citizen.wa_id if citizen else to}
        if citizen is not None and by_user_id:
            contact["user_id"] = citizen.user_id
        sent: dict[str, str] = {"id": message_id}
        if body.get("type") == "template":
            sent["message_status"] = "accepted"
        answer = {"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent]}
        if citizen is None:
            error = _error(UNDELIVERABLE, "Message undeliverable", "The recipient is not a WhatsApp user.")
            self._emit_status(to, message_id, "failed", recipient_id=to, conversation_id="", errors=[error])
            return answer
        citizen.typing_until = 0.0
        entry = self.state.append(
            id=message_id, wa_id=citizen.wa_id, direction="out", timestamp=int(now), status="accepted", body=body
        )
        last = citizen.last_inbound_at
        if body.get("type") != "template" and (last is None or now - last > WINDOW_SECONDS):
            entry.status = "failed"
            entry.errors = [_error(RE_ENGAGEMENT, "Re-engagement message", _OUTSIDE_WINDOW)]
            self._emit_status(
                citizen.wa_id, message_id, "failed", recipient_id=citizen.wa_id, conversation_id="", errors=entry.errors
            )
            return answer
        self._advance(entry, "sent")
        self._schedule(entry, "delivered", self.config.delivered_after)
        return answer

    def _recipient(self, to: str, *, by_user_id: bool) -> Citizen | None:
        """Who a send is for: a known business-scoped user id, or any phone number (a new citizen if unknown)."""
        if by_user_id:
            return self.state.citizen_by_user_id(to)
        return self.state.add_citizen(wa_id=ids.normalise_wa_id(to))

    def business_marks_read(self, message_id: str, *, typing: bool = False) -> bool:
        """Mark a citizen's message (and the ones before it) read; optionally show "typing…"."""
        entry = self.state.entry(message_id)
        if entry is None or entry.direction != "in":
            return False
        for earlier in self.state.inbound(entry.wa_id):
            if earlier.seq <= entry.seq and earlier.status in ("sent", "delivered"):
                earlier.status = "read"
        citizen = self.state.citizen(entry.wa_id)
        if typing and citizen is not None:
            citizen.typing_until = self._clock() + self.config.typing_seconds
        return True

    def is_typing(self, wa_id: str) -> bool:
        citizen = self.state.citizen(wa_id)
        return citizen is not None and citizen.typing_until > self._clock()

    def close_window(self, wa_id: str) -> None:
        """Pretend the citizen's last message is over 24 hours old: only templates reach them now."""
        citizen = self.state.citizen(wa_id)
        if citizen is not None:
            citizen.last_inbound_at = self._clock() - WINDOW_SECONDS - 1

    # ------------------------------------------------------------ faults and lifecycle

    def inject_faults(self, statuses: list[int], error_codes: dict[int | str, int] | None = None) -> int:
        return self.state.inject_faults(statuses, error_codes)

    def inject_timeouts(self, count: int = 1, seconds: float = 30.0) -> int:
        """The next `count` sends get no answer for `seconds`; returns how many faults wait."""
        return self.state.inject(Fault(0, 0, kind="timeout", seconds=seconds) for _ in range(count))

    def inject_resets(self, count: int = 1) -> int:
        """The next `count` sends have their connection dropped before the answer's body."""
        return self.state.inject(Fault(0, 0, kind="reset") for _ in range(count))

    def set_access_token(self, token: str) -> None:
        """Accept only this bearer token from now on (until `reset`): the platform's has expired."""
        self.config.access_token = token

    def reset(self) -> None:
        """A clean slate: no citizens, messages, media, faults or pending status timers; the configured token."""
        for task in self._timers:
            task.cancel()
        self.state.reset()
        self.config.access_token = self._configured_token

    async def wait_idle(self) -> None:
        """Return once every scheduled status and queued webhook has gone out (or been given up)."""
        while self._timers or self.webhooks.busy():
            await asyncio.gather(*self._timers, return_exceptions=True)
            await self.webhooks.wait_idle()

    async def aclose(self) -> None:
        for task in self._timers:
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        await self.webhooks.aclose()

    # ------------------------------------------------------------ internals

    def _deliver_inbound(self, entry: ChatEntry) -> None:
        def done(ok: bool) -> None:
            if not ok:
                entry.status = "failed"
            elif entry.status == "sent":
                entry.status = "delivered"

        self.webhooks.deliver(entry.wa_id, entry.update, kind="message", message_id=entry.id, on_result=done)

    def _advance(self, entry: ChatEntry, target: str) -> None:
        """Move an outbound message forward to `target`, sending each status passed on the way."""
        citizen = self.state.citizen(entry.wa_id)
        have = STATUS_ORDER.index(entry.status) + 1 if entry.status in STATUS_ORDER else 0
        for status in STATUS_ORDER[have : STATUS_ORDER.index(target) + 1]:
            entry.status = status
            self._emit_status(
                entry.wa_id,
                entry.id,
                status,
                recipient_id=entry.wa_id,
                conversation_id=citizen.conversation_id if citizen else "",
            )

    def _schedule(self, entry: ChatEntry, target: str, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            if self.state.entry(entry.id) is entry:  # not forgotten by a reset meanwhile
                self._advance(entry, target)

        task = asyncio.create_task(later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def _emit_status(
        self,
        key: str,
        message_id: str,
        status: str,
        *,
        recipient_id: str,
        conversation_id: str,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        item = payloads.status(
            message_id,
            status,
            recipient_id=recipient_id,
            timestamp=int(self._clock()),
            conversation_id=conversation_id,
            errors=errors,
        )
        body = payloads.encode(payloads.status_update(self.config, item))
        self.webhooks.deliver(key, body, kind="status", message_id=message_id)


def _error(code: int, title: str, details: str) -> dict[str, Any]:
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}, "href": _ERROR_DOCS}
