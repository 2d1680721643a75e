"""A request id for every HTTP request: on its log lines and in the `X-Request-Id` response header.

An incoming `X-Request-Id` (from a proxy or load balancer) is kept when it is a short, safe token, so
that one id follows a request across services; anything else is replaced by a fresh one.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sevamitra.core.logcontext import REQUEST_ID, bound

HEADER = "X-Request-Id"
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # nothing that could forge a log line or a header


def request_id(incoming: str | None) -> str:
    """The incoming id when it is safe to keep; else a new one."""
    return incoming if incoming and SAFE.fullmatch(incoming) else uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: binds the request id while the request is answered, and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(Headers(scope=scope).get(HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        with bound(REQUEST_ID, rid):
            await self.app(scope, receive, send_with_id)
