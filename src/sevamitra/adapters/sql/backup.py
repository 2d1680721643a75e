"""Copies of the database and their checks: SQLite through its online backup API, PostgreSQL through
pg_dump and pg_restore (custom format) where they are on PATH and not older than the server, else as a
logical dump of every table through SQLAlchemy (one JSON line a row). Every copy is described by the
row count and a SHA-256 of every table, read in the same snapshot as the copy, so a restore can be
checked table by table.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, MetaData, Table, delete, func, insert, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from sevamitra.adapters.sql.engine import create_engine, normalise_url

ROWS_PER_INSERT = 500
MIGRATIONS_TABLE = "alembic_version"


class BackupError(RuntimeError):
    """A copy that cannot be made or restored as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class TableDigest:
    rows: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def dialect_of(url: str) -> str:
    return "sqlite" if make_url(normalise_url(url)).drivername.startswith("sqlite") else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to copy")
    return Path(database)


# ---------------------------------------------------------------- digests


def _canonical(value: Any) -> Any:
    """One value the same way whichever copy it is read from (JSON-ready, exact)."""
    if isinstance(value, datetime):
        return {"t": (value.astimezone(UTC) if value.tzinfo else value).isoformat()}
    if isinstance(value, date | time):
        return {"t": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"b": bytes(value).hex()}
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _order(table: Table) -> list[Any]:
    return list(table.primary_key.columns) or list(table.columns)


def _reflect(connection: Connection) -> list[Table]:
    reflected = MetaData()
    reflected.reflect(connection)
    return list(reflected.sorted_tables)


async def tables_of(connection: AsyncConnection) -> list[Table]:
    """Every table of the database (its schema on PostgreSQL's search path), parents first."""
    return await connection.run_sync(_reflect)


async def digests(connection: AsyncConnection) -> dict[str, TableDigest]:
    """Each table's row count and the SHA-256 of its rows, in key order, as this connection sees them."""
    found = {}
    for table in await tables_of(connection):
        digest, rows = hashlib.sha256(), 0
        result = await connection.stream(select(table).order_by(*_order(table)))
        async for row in result:
            line = json.dumps([_canonical(v) for v in row], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            digest.update(line.encode() + b"\n")
            rows += 1
        found[table.name] = TableDigest(rows=rows, sha256=digest.hexdigest())
    return found


async def revision(connection: AsyncConnection) -> str | None:
    """The schema's migration revision."""
    names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    if MIGRATIONS_TABLE not in names:
        return None
    found = await connection.scalar(text(f"SELECT version_num FROM {MIGRATIONS_TABLE}"))  # noqa: S608 (a constant)
    return str(found) if found is not None else None


async def database_digests(url: str) -> dict[str, TableDigest]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await digests(connection)
    finally:
        await engine.dispose()


async def is_empty(url: str) -> bool:
    """Whether the database (its schema, on PostgreSQL) has no tables yet."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return not await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- SQLite


def _sqlite_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as reader, closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)  # a consistent copy while others keep writing (WAL included)


async def sqlite_backup(url: str, target: Path) -> dict[str, TableDigest]:
    """A copy of the SQLite database through the online backup API; the digests read from the copy."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    await asyncio.to_thread(_sqlite_copy, source, target)
    return await database_digests(f"sqlite+aiosqlite:///{target}")


async def sqlite_restore(copy: Path, url: str) -> None:
    """The copy written into the target database file, which must not hold tables yet."""
    target = sqlite_path(url)
    if target.exists() and not await is_empty(url):
        raise BackupError(f"{target} already holds tables: restore into a new database")
    await asyncio.to_thread(_sqlite_copy, copy, target)


# ---------------------------------------------------------------- PostgreSQL: pg_dump, or a logical dump


@dataclass(frozen=True, slots=True)
class Libpq:
    """How pg_dump and pg_restore reach the database the platform's URL names."""

    uri: str  # postgresql://user@host:port/database, no password
    schema: str | None  # the search path's schema, when the URL names one
    env: Mapping[str, str]  # PGPASSWORD, when the URL holds one

    @staticmethod
    def of(url: str) -> Libpq:
        parsed = make_url(normalise_url(url))
        schema = parsed.query.get("search_path")
        password = parsed.password
        plain = parsed.set(drivername="postgresql", password=None).difference_update_query(["search_path"])
        env = {"PGPASSWORD": str(password)} if password else {}
        return Libpq(uri=plain.render_as_string(), schema=str(schema) if schema else None, env=env)


def _major(version: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version)
    return int(found.group(1)) if found else 0


async def pg_tools_problem(connection: AsyncConnection) -> str | None:
    """Why pg_dump and pg_restore cannot copy this server (missing, or older than it); None when they can."""
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH"
    server = int(await connection.scalar(text("SHOW server_version_num")) or 0) // 10000
    process = await asyncio.create_subprocess_exec("pg_dump", "--version", stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    client = _major(out.decode().rsplit(" ", 1)[-1])
    return f"pg_dump {client} is older than the server ({server})" if client < server else None


async def _run(arguments: Sequence[str], env: Mapping[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *arguments, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{arguments[0]} failed: {err.decode(errors='replace').strip()[-2000:]}")


@asynccontextmanager
async def pg_snapshot(url: str) -> AsyncIterator[tuple[AsyncConnection, str]]:
    """A read-only, repeatable-read transaction and the id of its exported snapshot: pg_dump given the id
    copies exactly what this connection reads."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            snapshot = str(await connection.scalar(text("SELECT pg_export_snapshot()")))
            yield connection, snapshot
            await connection.rollback()
    finally:
        await engine.dispose()


async def pg_dump(url: str, snapshot: str, target: Path) -> None:
    libpq = Libpq.of(url)
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    arguments = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
    arguments += [f"--schema={libpq.schema}"] if libpq.schema else []
    await _run([*arguments, f"--file={target}", f"--dbname={libpq.uri}"], libpq.env)


async def pg_restore(dump: Path, url: str) -> None:
    """The dump restored in one transaction; its schema keeps its name (the URL's search path must name it)."""
    if not await is_empty(url):
        raise BackupError("the target database already holds tables: restore into a new database")
    libpq = Libpq.of(url)
    arguments = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    await _run([*arguments, f"--dbname={libpq.uri}", str(dump)], libpq.env)


def _encode(value: Any) -> Any:
    if isinstance(value, dict | list):
        return {"$j": value}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, inner),) = value.items()
    if tag == "$t":
        return datetime.fromisoformat(inner)
    if tag == "$date":
        return date.fromisoformat(inner)
    if tag == "$b":
        return base64.b64decode(inner)
    if tag == "$d":
        return Decimal(inner)
    return inner  # "$j": a JSON column's value as it was


async def logical_dump(connection: AsyncConnection, folder: Path) -> None:
    """Every table as `<name>.jsonl`, a row a line (typed values tagged), read through this connection."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    for table in await tables_of(connection):
        with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
            result = await connection.stream(select(table).order_by(*_order(table)))
            async for row in result:
                out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False, separators=(",", ":")) + "\n")


def _rows(path: Path, table: Table) -> Iterable[dict[str, Any]]:
    names = [column.name for column in table.columns]
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield dict(zip(names, (_decode(v) for v in json.loads(line)), strict=True))


async def logical_restore(folder: Path, url: str) -> None:
    """The tables' rows into a database just migrated to the dump's revision (the migrations' own table
    excepted, and rows the migrations seeded replaced); PostgreSQL's sequences moved past the ids restored."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in await tables_of(connection):
                path = folder / f"{table.name}.jsonl"
                if table.name == MIGRATIONS_TABLE or not path.exists():
                    continue
                if await connection.scalar(select(func.count()).select_from(table)):
                    await connection.execute(delete(table))  # rows a migration seeded: the dump has them as they were
                batch: list[dict[str, Any]] = []
                for row in _rows(path, table):
                    batch.append(row)
                    if len(batch) == ROWS_PER_INSERT:
                        await connection.execute(insert(table), batch)
                        batch = []
                if batch:
                    await connection.execute(insert(table), batch)
                if connection.dialect.name == "postgresql":
                    await _move_sequences(connection, table)
    finally:
        await engine.dispose()


async def _move_sequences(connection: AsyncConnection, table: Table) -> None:
    for column in table.primary_key.columns:
        if isinstance(column.type, Integer):
            last = await connection.scalar(select(func.max(column)))
            await connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, :column), :value, :called)"),
                {"table": table.name, "column": column.name, "value": last or 1, "called": last is not None},
            )
