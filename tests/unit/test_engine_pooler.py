"""`?prepared_statement_cache_size=0` in a PostgreSQL URL readies the engine for a transaction pooler
without prepared statements (PgBouncer before 1.21, or `max_prepared_statements = 0`): no cached
statements, and statement names no other process uses (docs/operations/pooling.md)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from sqlalchemy import event, text

from sevamitra.adapters.sql.engine import create_engine

PGBOUNCER_URL = os.environ.get("SEVAMITRA_TEST_PGBOUNCER_URL")  # e.g. postgresql://postgres@127.0.0.1:6432/test


class Refused(Exception):
    """Raised instead of connecting: what the driver would be given is all these tests need."""


async def driver_arguments(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    given: dict[str, Any] = {}

    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        given.update(cparams)
        raise Refused

    event.listen(engine.sync_engine, "do_connect", capture)
    with pytest.raises(Refused):
        async with engine.connect():
            pass
    await engine.dispose()
    return given


async def test_a_plain_url_keeps_prepared_statements() -> None:
    given = await driver_arguments("postgresql://sevamitra@db.example:5432/sevamitra")
    assert "statement_cache_size" not in given and "prepared_statement_name_func" not in given


async def test_a_cache_size_of_zero_turns_prepared_statements_off_and_names_them_uniquely() -> None:
    given = await driver_arguments(
        "postgresql://sevamitra@pgbouncer:6432/sevamitra?prepared_statement_cache_size=0&search_path=tenant_a"
    )
    assert given["prepared_statement_cache_size"] == 0  # SQLAlchemy's cache of prepared statements
    assert given["statement_cache_size"] == 0  # asyncpg's own
    assert given["server_settings"] == {"search_path": "tenant_a"}
    names = {given["prepared_statement_name_func"]() for _ in range(100)}
    assert len(names) == 100 and all(n.startswith("__asyncpg_") for n in names)


@pytest.mark.skipif(not PGBOUNCER_URL, reason="SEVAMITRA_TEST_PGBOUNCER_URL is not set")
async def test_three_processes_through_pgbouncer_in_transaction_mode() -> None:
    """Three engines (as three processes would) share a PgBouncer's few server connections."""
    assert PGBOUNCER_URL is not None
    sep = "&" if "?" in PGBOUNCER_URL else "?"
    engines = [create_engine(f"{PGBOUNCER_URL}{sep}prepared_statement_cache_size=0") for _ in range(3)]

    async def queries(engine: Any, i: int) -> None:
        for j in range(20):
            async with engine.begin() as connection:
                assert await connection.scalar(text(f"SELECT {i} + :n"), {"n": j}) == i + j
                await connection.scalar(text("SELECT count(*) FROM pg_class WHERE relpages >= :p"), {"p": j})

    try:
        await asyncio.gather(*(queries(engine, i) for engine in engines for i in range(8)))
    finally:
        for engine in engines:
            await engine.dispose()
