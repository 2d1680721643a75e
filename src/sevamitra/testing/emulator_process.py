"""The emulator for crash runs: `sevamitra emulator`'s APIs, made to last thousands of citizens.

Two costs of the emulator grow with the whole run, and at a soak's size they made it Meta's
bottleneck, then stopped it answering (both seen with py-spy):

- It delivers each citizen's updates from a task of its own, all through one httpx client. With
  thousands of citizens waiting on a platform that is down or slow, thousands of requests queue in
  that client's connection pool, and httpcore (1.0) walks the whole queue for every request it
  places. Here the client's transport lets `--deliveries` requests into the pool at a time and the
  rest wait on a semaphore, which costs nothing per waiter.
- Its state finds a citizen's chat by walking every message of every citizen (each read receipt and
  each tapped reply does), and a citizen by user id by walking every citizen. Here `IndexedState`
  keeps both by key, with the same answers.

Otherwise it is the emulator as `sevamitra emulator` builds it, from the same settings (number, app
secret, access token), without the chat page.

`python -m sevamitra.testing.emulator_process --port 8001 --webhook-url http://.../webhooks/whatsapp`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from sevamitra.emulator.chat_api import ChatApi
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.control import ControlApi
from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.graph_api import GraphApi
from sevamitra.emulator.qr_api import QrCodeApi
from sevamitra.emulator.state import ChatEntry, Citizen, EmulatorState
from sevamitra.settings import Settings


class IndexedState(EmulatorState):
    """`EmulatorState` with each citizen's chat and each user id looked up by key."""

    def reset(self) -> None:
        super().reset()
        self._chats: dict[str, list[ChatEntry]] = {}
        self._user_ids: dict[str, Citizen] = {}

    def add_citizen(self, name: str = "", wa_id: str | None = None) -> Citizen:
        citizen = super().add_citizen(name, wa_id)
        self._user_ids[citizen.user_id] = citizen
        return citizen

    def citizen_by_user_id(self, user_id: str) -> Citizen | None:
        return self._user_ids.get(user_id)

    def append(self, **fields: Any) -> ChatEntry:
        entry = super().append(**fields)
        self._chats.setdefault(entry.wa_id, []).append(entry)
        return entry

    def chat(self, wa_id: str, after: int = 0) -> list[ChatEntry]:
        return [e for e in self._chats.get(wa_id, ()) if e.seq > after]


class BoundedTransport(httpx.AsyncBaseTransport):
    """At most `limit` requests (and their answers read) through `inner` at once; the rest wait."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._slots = asyncio.Semaphore(limit)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._slots:
            response = await self._inner.handle_async_request(request)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])  # as sent: decoded later, once
            finally:
                await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, content=raw, request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def emulator_app(config: EmulatorConfig, http: httpx.AsyncClient) -> Starlette:
    """The emulator's chat API, test controls, QR codes and Graph API over an `IndexedState`."""
    emulator = Emulator(config, http=http)
    emulator.state = IndexedState()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.aclose()

    apis = (ChatApi(emulator), ControlApi(emulator), QrCodeApi(emulator), GraphApi(emulator))  # Graph API last
    app = Starlette(routes=[route for api in apis for route in api.routes()], lifespan=lifespan)
    app.state.emulator = emulator
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sevamitra.testing.emulator_process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--deliveries", type=int, default=64, help="webhook requests in flight at once")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    config = EmulatorConfig(
        webhook_url=args.webhook_url,
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        access_token=settings.whatsapp_access_token.get_secret_value(),
        phone_number_id=settings.whatsapp_phone_number_id,
        display_phone_number=settings.whatsapp_display_phone_number,
    )
    limits = httpx.Limits(max_connections=args.deliveries, max_keepalive_connections=args.deliveries)
    transport = BoundedTransport(httpx.AsyncHTTPTransport(limits=limits), args.deliveries)
    http = httpx.AsyncClient(transport=transport, timeout=config.webhook_timeout)
    app = emulator_app(config, http)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
