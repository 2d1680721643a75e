"""The platform's whole app (webhook, pages, dashboard, emulator) under uvicorn with `sevamitra serve`'s
limits: its HTTP protocol, read deadlines, keep-alive and concurrency, on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from sevamitra.bootstrap import Platform, build, build_emulator
from sevamitra.cli.serve import server_options
from sevamitra.settings import Settings
from sevamitra.web.app import create_app
from tests.e2e.conftest import free_port, uvicorn_on


@dataclass
class Served:
    url: str
    port: int
    settings: Settings
    platform: Platform
    app: Starlette
    http: httpx.AsyncClient


def settings_for(database_url: str, tmp_path: Path, port: int, **overrides: Any) -> Settings:
    url = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {
        "env": "dev",
        "database_url": database_url,
        "graph_api_url": f"{url}/emulator",
        "public_url": url,
        "whatsapp_app_secret": "limits-secret",
        "whatsapp_access_token": "limits-token",
        "whatsapp_verify_token": "limits-verify",
        "cache_dir": tmp_path / "cache",
        "keys_dir": tmp_path / "keys",
        "log_dir": tmp_path / "tlog",
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def on_uvicorn(app: Any, settings: Settings, port: int) -> AsyncIterator[None]:
    """Any ASGI app under uvicorn as `serve` configures it, until the block ends."""
    async with uvicorn_on(app, port, **server_options(settings)):
        yield


@asynccontextmanager
async def served(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Served]:
    """`create_app` with the emulator mounted and no worker (these tests look at HTTP, not turns)."""
    port = free_port()
    settings = settings_for(database_url, tmp_path, port, **overrides)
    url = f"http://127.0.0.1:{port}"
    emulator = build_emulator(settings, webhook_url=f"{url}/webhooks/whatsapp")
    platform = build(settings)
    app = create_app(platform, run_worker=False, emulator=emulator)
    async with on_uvicorn(app, settings, port), httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield Served(url=url, port=port, settings=settings, platform=platform, app=app, http=http)
