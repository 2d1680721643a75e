"""uvicorn's HTTP protocol with deadlines on reading a request, so a slow client cannot hold a connection.

uvicorn closes an idle kept-alive connection (`timeout_keep_alive`), but sets no limit on how long a
request's line and headers, or its body, may take to arrive, nor on the size of the headers (httptools
has none): a client sending one header byte every few seconds (a slowloris) would keep its connection,
and the memory its headers fill, for ever. Here:

- the request line and headers must be in within `header_seconds` of the connection or the request's
  first byte, and hold at most `header_max_bytes`: else 408 (or 431) and the connection is closed;
- the body must be in within `body_seconds`, plus a second for each `body_min_rate` bytes received (as
  Apache's mod_reqtimeout does: a large upload on a slow line is fine, a trickle is not): else 408, or,
  once the app has answered, the connection is closed and the app reads a disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from sevamitra.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadLimits:
    header_seconds: float = 15.0
    header_max_bytes: int = 32 * 1024
    body_seconds: float = 20.0
    body_min_rate: int = 500  # bytes a second that earn the body another second

    @staticmethod
    def of(settings: Settings) -> ReadLimits:
        return ReadLimits(
            header_seconds=settings.http_header_seconds,
            header_max_bytes=settings.http_header_max_bytes,
            body_seconds=settings.http_body_seconds,
            body_min_rate=settings.http_body_min_rate,
        )


class GuardedHttp(HttpToolsProtocol):
    """`HttpToolsProtocol` with the read deadlines and header limit above (one timer per connection)."""

    limits: ClassVar[ReadLimits] = ReadLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._phase: str | None = None  # "headers" or "body" while a request is being read
        self._header_bytes = 0
        self._body_started = 0.0
        self._body_bytes = 0
        self._cut = False

    # the connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()  # a connection that never sends a byte is a slow client too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._cut:
            super().data_received(data)

    def handle_websocket_upgrade(self) -> None:
        self._stop()
        super().handle_websocket_upgrade()

    # the parser's callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase != "headers":
            self._await_headers()

    def on_url(self, url: bytes) -> None:
        self._count_header(len(url))
        if not self._cut:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header(len(name) + len(value) + 4)
        if not self._cut:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._cut:
            return
        self._stop()
        super().on_headers_complete()
        self._phase, self._body_bytes = "body", 0
        self._body_started = self.loop.time()
        self._at(self._body_started + self.limits.body_seconds, self._check_body)

    def on_body(self, body: bytes) -> None:
        if not self._cut:
            self._body_bytes += len(body)
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._cut:
            self._stop()
            super().on_message_complete()

    # deadlines

    def _await_headers(self) -> None:
        self._stop()
        self._phase, self._header_bytes = "headers", 0
        self._at(self.loop.time() + self.limits.header_seconds, self._headers_late)

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.header_max_bytes and not self._cut:
            self._cut_off(431, b"request headers too large\n")

    def _headers_late(self) -> None:
        self._timer = None
        self._cut_off(408, b"request took too long to arrive\n")

    def _check_body(self) -> None:
        self._timer = None
        now = self.loop.time()
        if self.flow.read_paused:  # the app has not read what came; the client is not the slow one
            self._at(now + self.limits.body_seconds, self._check_body)
            return
        due = self._body_started + self.limits.body_seconds + self._body_bytes / self.limits.body_min_rate
        if now < due:
            self._at(due, self._check_body)
            return
        self._cut_off(408, b"request took too long to arrive\n")

    def _at(self, when: float, callback: Any) -> None:
        self._timer = self.loop.call_at(when, callback)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._phase = None

    def _cut_off(self, status: int, text: bytes) -> None:
        """Answer `status` where no answer is under way, and close the connection."""
        phase = self._phase
        self._stop()
        self._cut = True
        log.info("a client's request %s did not arrive in time or in size: answered %s and closed", phase, status)
        cycle, quiet = self.cycle, False
        if cycle is not None and not cycle.response_complete:
            # the app waiting on this body reads a disconnect and answers no one; an answer already started
            # (or a previous request's, pipelined) is not interrupted by ours
            quiet = cycle.response_started or phase != "body"
            cycle.disconnected = True
            cycle.message_event.set()
        if not quiet and not self.transport.is_closing():
            head = b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            self.transport.write(STATUS_LINE[status] + head % len(text) + text)
        self.transport.close()


def configure(settings: Settings) -> None:
    """Take the read limits from the settings (in each process that serves)."""
    GuardedHttp.limits = ReadLimits.of(settings)
