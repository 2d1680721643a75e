"""The emulator as one ASGI app: the chat page, its JSON API, test controls and the Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sevamitra.emulator.chat_api import ChatApi
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.control import ControlApi
from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.graph_api import GraphApi
from sevamitra.emulator.qr_api import QrCodeApi

STATIC_TYPES = {
    "chat.html": "text/html; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "chat.js": "text/javascript; charset=utf-8",
}


@cache
def static_file(name: str) -> bytes:
    """A file of the page, read from the installed package."""
    return resources.files("sevamitra.emulator").joinpath("static", name).read_bytes()


async def _page(request: Request) -> Response:
    return _static_response("chat.html")


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        return PlainTextResponse("not found", status_code=404)
    return _static_response(name)


def _static_response(name: str) -> Response:
    return Response(static_file(name), media_type=STATIC_TYPES[name], headers={"Cache-Control": "no-cache"})


def create_emulator(config: EmulatorConfig, *, http: httpx.AsyncClient | None = None) -> Starlette:
    """Build the emulator app; its `Emulator` is `app.state.emulator`.

    Standalone, the app's lifespan closes the emulator on shutdown. Mounted inside another app
    (whose lifespan does not reach mounted apps) the host should `await app.state.emulator.aclose()`.
    Nothing starts before the first request: the webhook client is made on first use.
    """
    emulator = Emulator(config, http=http)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.aclose()

    routes = [
        Route("/", _page, methods=["GET"]),
        Route("/chat", _page, methods=["GET"]),
        Route("/static/{name}", _static, methods=["GET"]),
        *ChatApi(emulator).routes(),
        *ControlApi(emulator).routes(),
        *QrCodeApi(emulator).routes(),
        *GraphApi(emulator).routes(),  # last: `/{version}/{media_id}` matches broadly
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
