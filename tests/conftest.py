"""Shared fixtures: the databases every storage and end-to-end test runs on."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.engine import create_engine, normalise_url
from sevamitra.adapters.sql.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POSTGRES_URL = os.environ.get("SEVAMITRA_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Platforms under test route with the lexical router alone: embedding the catalogue takes tens of
# seconds per fresh cache. The evaluation and embeddings tests turn embeddings on themselves.
os.environ.setdefault("SEVAMITRA_ASSISTANT_EMBEDDINGS", "false")


RECURSION_LIMIT = sys.getrecursionlimit()


@pytest.fixture(autouse=True)
def _recursion_limit_restored() -> Iterator[None]:
    """py-evm (under eth-tester) raises Python's recursion limit when a test chain is made; put it back,
    or a later test's deeply nested JSON would overflow the C stack instead of raising RecursionError."""
    yield
    sys.setrecursionlimit(RECURSION_LIMIT)


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI must test PostgreSQL too: set SEVAMITRA_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database: SQLite in a temp dir, and PostgreSQL in its own schema."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip("SEVAMITRA_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = normalise_url(POSTGRES_URL)

    async def create_schema() -> None:
        engine = create_engine(base)
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await engine.dispose()

    async def drop_schema() -> None:
        engine = create_engine(base)
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(create_schema())
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}search_path={schema}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(drop_schema())


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()
