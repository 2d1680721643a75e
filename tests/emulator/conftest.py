"""An emulator wired in-process to a fake platform that checks every webhook's signature."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from sevamitra.emulator import Emulator, create_emulator
from tests.emulator.support import FakePlatform, fast_config


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def emulator_app(platform: FakePlatform) -> AsyncIterator[Starlette]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=platform.app)) as http:
        app = create_emulator(fast_config(), http=http)
        yield app
        await app.state.emulator.aclose()


@pytest.fixture
def emulator(emulator_app: Starlette) -> Emulator:
    emulator: Emulator = emulator_app.state.emulator
    return emulator


@pytest.fixture
async def client(emulator_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.test") as client:
        yield client
