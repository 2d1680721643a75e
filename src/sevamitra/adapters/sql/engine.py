"""Engines for SQLite (embedded default, WAL) and PostgreSQL (production)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, **options: Any) -> AsyncEngine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if "search_path" in parsed.query:  # e.g. ?search_path=tenant_a: asyncpg takes it as a server setting
        connect_args["server_settings"] = {"search_path": str(parsed.query["search_path"])}
        parsed = parsed.difference_update_query(["search_path"])
    if parsed.query.get("prepared_statement_cache_size") == "0":  # a pooler without prepared statements
        connect_args.update(statement_cache_size=0, prepared_statement_name_func=_statement_name)
    if "poolclass" not in options:
        options.update(pool_size=10, max_overflow=10)
    return create_async_engine(parsed, connect_args=connect_args, pool_pre_ping=True, **options)


def _statement_name() -> str:
    """A name no other client's statement has: a transaction pooler may hand this process a server
    connection where another process prepared `__asyncpg_stmt_1__` (PgBouncer before 1.21)."""
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, FULL sync so an acknowledged message survives power loss,
    and BEGIN IMMEDIATE so that transactions of several processes serialise instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
