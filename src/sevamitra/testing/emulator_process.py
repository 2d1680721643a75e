"""The emulator for crash runs: `sevamitra emulator`'s app, its webhook deliveries at most `--deliveries`
at a time.

The emulator delivers each citizen's updates from a task of its own, all through one httpx client.
With thousands of citizens waiting on a platform that is down or slow, thousands of requests queue
in that client's connection pool, and httpcore (1.0) walks the whole queue for every request it
places: the process spent its time there and stopped answering anything. Here the client's transport
lets a bounded number of requests into the pool and the rest wait their turn on a semaphore, which
costs nothing per waiter. Everything else is the emulator as `sevamitra emulator` builds it (the
same settings: number, app secret, access token).

`python -m sevamitra.testing.emulator_process --port 8001 --webhook-url http://.../webhooks/whatsapp`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

import httpx
import uvicorn

from sevamitra.emulator.app import create_emulator
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.settings import Settings


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
    app = create_emulator(config, http=http)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
