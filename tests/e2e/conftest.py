"""The whole platform on a real port: uvicorn, the in-process worker, and the emulator mounted at /emulator."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from sevamitra.adapters.chain.evm import EvmChain
from sevamitra.bootstrap import Platform, build, build_emulator
from sevamitra.settings import Settings
from sevamitra.testing.rights import consented as consented_before
from sevamitra.web.app import create_app
from tests.conftest import IN_CI

CHROMIUM = os.environ.get("SEVAMITRA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's headless Chromium under Playwright: skipped where it is missing, but never in CI."""
    if not HAVE_CHROMIUM:
        if IN_CI:
            pytest.fail("CI must run the browser tests: install Debian's chromium")
        pytest.skip("no chromium here (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Running:
    url: str
    settings: Settings
    http: httpx.AsyncClient
    platform: Platform

    async def new_citizen(self, wa_id: str, name: str = "Lakshmi", *, consented: bool = True) -> None:
        """A citizen in the emulator's chat; `consented`: one who accepted the consent notice in force before
        writing (tests of the first contact itself pass False: tests/e2e/test_privacy_chat.py)."""
        response = await self.http.post(f"{self.url}/emulator/_chat/citizens", json={"wa_id": wa_id, "name": name})
        response.raise_for_status()
        notice, turns = self.platform.context.notice, self.platform.turns
        if consented and notice is not None and turns.rights is not None:
            now = self.platform.clock.now()
            await consented_before(turns.conversations, turns.rights.store, wa_id=wa_id, notice=notice, now=now)

    async def send(self, wa_id: str, **message: str) -> str:
        response = await self.http.post(f"{self.url}/emulator/_chat/{wa_id}/send", json=message)
        response.raise_for_status()
        message_id: str = response.json()["message"]["id"]
        return message_id

    async def chat(self, wa_id: str) -> list[dict[str, object]]:
        response = await self.http.get(f"{self.url}/emulator/_chat/{wa_id}/messages", params={"after": 0})
        response.raise_for_status()
        messages: list[dict[str, object]] = response.json()["messages"]
        return messages

    async def replies(self, wa_id: str, at_least: int, timeout: float = 15.0) -> list[dict[str, object]]:
        """The platform's messages to this citizen, once there are `at_least` of them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            out = [m for m in await self.chat(wa_id) if m["direction"] == "out"]
            if len(out) >= at_least or asyncio.get_running_loop().time() > deadline:
                return out
            await asyncio.sleep(0.1)


@pytest.fixture
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with platform_on_port(database_url, tmp_path) as started:
        yield started


@asynccontextmanager
async def platform_on_port(
    database_url: str, tmp_path: Path, *, chain: EvmChain | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    """The platform under uvicorn on a free loopback port, with its worker and the emulator (and, given
    a chain, anchoring in it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="dev",
        database_url=database_url,
        graph_api_url=f"{url}/emulator",
        public_url=url,
        whatsapp_app_secret="e2e-secret",
        whatsapp_access_token="e2e-token",
        whatsapp_verify_token="e2e-verify",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        **overrides,
    )
    async with serving(settings, port, chain=chain) as started:
        yield started


@asynccontextmanager
async def serving(settings: Settings, port: int, *, chain: EvmChain | None = None) -> AsyncIterator[Running]:
    url = f"http://127.0.0.1:{port}"
    emulator = build_emulator(settings, webhook_url=f"{url}/webhooks/whatsapp")
    platform = build(settings, chain=chain)
    app = create_app(platform, run_worker=True, emulator=emulator)
    async with uvicorn_on(app, port), httpx.AsyncClient(timeout=10) as http:
        yield Running(url=url, settings=settings, http=http, platform=platform)


@asynccontextmanager
async def uvicorn_on(app: Any, port: int, **options: Any) -> AsyncIterator[None]:
    """Any ASGI app under uvicorn on a loopback port (with `uvicorn.Config` `options`), until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task
