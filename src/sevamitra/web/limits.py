"""The largest request body any route takes, as ASGI middleware: 413 before the route reads too much.

A declared `Content-Length` over the limit is answered at once, without reading the body; a body sent
without one (chunked) is counted as it arrives and cut off at the limit. Routes keep their own, smaller
limits (a sign-in form, a payment webhook); this is the ceiling over all of them. The WhatsApp webhook's
POSTs never come here: `App` answers them first, and `Webhook.answer` checks their size itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_TOO_LARGE = b"request body too large\n"


class BodyTooLarge(Exception):
    """Raised into the route when its body grows past the limit; answered 413 here."""


class BodyLimit:
    """ASGI middleware: request bodies of at most `max_bytes` (or the larger limit of a path prefix)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefixes: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefixes = dict(prefixes or {})  # e.g. the emulator's Graph API takes Meta's 100 MB documents

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.prefixes.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:  # the route answered before reading all of it: nothing more can be said
                return
            await _refuse(send)


async def _refuse(send: Send) -> None:
    # The connection is kept: uvicorn discards the rest of the body as it comes (within the read deadlines
    # of `GuardedHttp`), so the client reads this answer instead of a reset.
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(_TOO_LARGE)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": _TOO_LARGE})
