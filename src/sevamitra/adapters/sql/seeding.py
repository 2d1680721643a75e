"""Synthetic applications in bulk (`sevamitra seed applications`), and what the dashboard benchmark
asks the database: a private schema, the plans and times of the inbox's queries, sizes, version.

Rows go in thousands to a statement: on PostgreSQL by binary COPY (asyncpg's, through the driver
connection under the SQLAlchemy connection, so inside its transaction), on SQLite by executemany.
Each batch takes its reference numbers from `reference_counters` in its own transaction, as the
platform does for one application, so the platform's numbering carries on after the seeded rows
and a batch that fails leaves a gap in the numbers, never a duplicate. Answers are sealed as the
platform seals them (as `stores.seal_json` does), with the platform's data key and in its JSON form.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.cases import SqlCases
from sevamitra.adapters.sql.engine import create_engine, is_sqlite, normalise_url
from sevamitra.adapters.sql.tables import application_events, applications, ratings, reference_counters
from sevamitra.core.applications import Status, format_reference
from sevamitra.core.officers import Officer
from sevamitra.core.ports import InboxFilter, Sealer
from sevamitra.core.workflow import Case

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_APPLICATION_COLUMNS = (
    "reference",
    "service_id",
    "service_version",
    "definition_hash",
    "address",
    "wa_id",
    "user_id",
    "language",
    "answers",
    "status",
    "decision",
    "fee_inr",
    "submitted_at",
    "due_at",
    "updated_at",
    "department_id",
    "district",
    "desk",
    "step_due_at",
    "clock_at",
    "workflow",
    "decided_at",
)
_EVENT_COLUMNS = ("reference", "at", "actor", "kind", "detail")
_RATING_COLUMNS = ("reference", "score", "at")


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedEvent:
    """One line of an application's history (`application_events`)."""

    at: datetime
    actor: str  # an officer's username, "citizen" or "clock"
    kind: str
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedApplication:
    """One synthetic application as the platform would have stored it; its reference number is
    given when it is written (`prefix`, and the year of `submitted_at`)."""

    prefix: str  # core.applications.reference_prefix(service)
    service_id: str
    service_version: int
    definition_hash: str
    address: str
    wa_id: str
    language: str
    answers: dict[str, Any]  # sealed on the way in
    status: Status
    fee_inr: int | None
    submitted_at: datetime
    due_at: datetime
    updated_at: datetime
    department_id: str
    district: str | None
    case: Case | None
    clock_at: datetime | None
    decided_at: datetime | None
    events: tuple[SeedEvent, ...] = ()
    rating: tuple[int, datetime] | None = None  # (score 1-3, when)


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """What one batch stored."""

    references: list[str]
    applications: int
    events: int
    ratings: int


class SqlSeeder:
    """Writes batches of synthetic applications, their history and their ratings."""

    def __init__(self, engine: AsyncEngine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self.sqlite = is_sqlite(engine)

    async def count(self) -> int:
        """How many applications the database holds."""
        async with self.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(applications)) or 0)

    async def write(self, batch: Sequence[SeedApplication]) -> Written:
        """Store a batch in one transaction, under reference numbers taken from the counters now."""
        wanted = Counter((a.prefix, a.submitted_at.year) for a in batch)
        async with self.engine.begin() as connection:
            following = await self._take_numbers(connection, wanted)
            references = []
            for a in batch:
                key = (a.prefix, a.submitted_at.year)
                references.append(format_reference(a.prefix, key[1], following[key]))
                following[key] += 1
            rows, events, scores = self._rows(batch, references)
            if self.sqlite:
                await connection.execute(
                    insert(applications), [dict(zip(_APPLICATION_COLUMNS, r, strict=True)) for r in rows]
                )
                if events:
                    await connection.execute(
                        insert(application_events), [dict(zip(_EVENT_COLUMNS, e, strict=True)) for e in events]
                    )
                if scores:
                    await connection.execute(
                        insert(ratings), [dict(zip(_RATING_COLUMNS, s, strict=True)) for s in scores]
                    )
            else:
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection  # asyncpg's connection, in this transaction
                await driver.copy_records_to_table("applications", records=rows, columns=_APPLICATION_COLUMNS)
                if events:
                    await driver.copy_records_to_table("application_events", records=events, columns=_EVENT_COLUMNS)
                if scores:
                    await driver.copy_records_to_table("ratings", records=scores, columns=_RATING_COLUMNS)
        return Written(references=references, applications=len(rows), events=len(events), ratings=len(scores))

    async def _take_numbers(
        self, connection: AsyncConnection, wanted: Counter[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        """Take `n` numbers for each (prefix, year) in one statement, as `stores.next_number` takes
        them one prefix at a time: {(prefix, year): the first number taken}. The counters' rows
        stay locked until the batch commits; every writer locks them in the same order."""
        counters = reference_counters.c
        values = [{"prefix": p, "year": y, "last": n} for (p, y), n in sorted(wanted.items())]
        statement = (sqlite_insert if self.sqlite else pg_insert)(reference_counters).values(values)
        upsert = statement.on_conflict_do_update(
            index_elements=[counters.prefix, counters.year], set_={"last": counters.last + statement.excluded.last}
        ).returning(counters.prefix, counters.year, counters.last)
        taken = await connection.execute(upsert)
        return {(r.prefix, r.year): int(r.last) - wanted[(r.prefix, r.year)] + 1 for r in taken}

    def _rows(
        self, batch: Sequence[SeedApplication], references: Sequence[str]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        # SQLite takes JSON columns as Python values (SQLAlchemy encodes them); asyncpg's COPY as text.
        as_json = (lambda value: value) if self.sqlite else _json_text
        rows: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        scores: list[tuple[Any, ...]] = []
        for a, reference in zip(batch, references, strict=True):
            case = a.case
            rows.append(
                (
                    reference,
                    a.service_id,
                    a.service_version,
                    a.definition_hash,
                    a.address,
                    a.wa_id,
                    None,
                    a.language,
                    self.sealer.seal(_JSON.encode(a.answers).encode()),  # = stores._seal
                    a.status.value,
                    None,
                    a.fee_inr,
                    a.submitted_at,
                    a.due_at,
                    a.updated_at,
                    a.department_id,
                    a.district,
                    case.desk if case else None,
                    case.step_due_at if case else None,
                    a.clock_at,
                    as_json(case.to_dict()) if case else None,
                    a.decided_at,
                )
            )
            events.extend(
                (reference, e.at, e.actor, e.kind, as_json(e.detail) if e.detail is not None else None)
                for e in a.events
            )
            if a.rating is not None:
                scores.append((reference, a.rating[0], a.rating[1]))
        return rows, events, scores

    async def tidy(self) -> str:
        """After a bulk load: fresh planner statistics (and, on PostgreSQL, the visibility map that
        index-only scans need), as autovacuum would make them a little later. Says what it ran."""
        if self.sqlite:
            async with self.engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
            return "ANALYZE"
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE) applications, application_events, ratings"))
        return "VACUUM (ANALYZE) applications, application_events, ratings"


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # as `stores.seal_json` writes JSON, made once


def _json_text(value: Any) -> str:
    return _JSON.encode(value)


# --- a private PostgreSQL schema, for benchmarks ------------------------------------------


def schema_url(database_url: str, schema: str) -> str:
    """The URL of `schema` on the database of `database_url` (its `search_path`)."""
    _check_schema(schema)
    parsed = make_url(normalise_url(database_url))
    return parsed.update_query_dict({"search_path": schema}).render_as_string(hide_password=False)


async def create_schema(database_url: str, schema: str) -> bool:
    """Create the schema if it is not there; True when it was made now."""
    _check_schema(schema)
    engine = create_engine(_without_search_path(database_url))
    try:
        async with engine.begin() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name"), {"name": schema}
            )
            if found:
                return False
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            return True
    finally:
        await engine.dispose()


async def drop_schema(database_url: str, schema: str) -> None:
    _check_schema(schema)
    engine = create_engine(_without_search_path(database_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


def _check_schema(schema: str) -> None:
    if not SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"a schema name is lowercase letters, digits and '_' (at most 63): {schema!r}")


def _without_search_path(database_url: str) -> str:
    parsed = make_url(normalise_url(database_url))
    return parsed.difference_update_query(["search_path"]).render_as_string(hide_password=False)


# --- what the benchmark reads from the database -------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Explained:
    """One statement of the inbox, as PostgreSQL ran it under EXPLAIN ANALYZE."""

    statement: str  # "count" or "page"
    planning_ms: float
    execution_ms: float
    plan: str  # the plan's nodes, outermost first: "Limit > Index Scan (ix_applications_desk)"
    rows: int  # rows the statement returned


async def explain_inbox(
    engine: AsyncEngine, sealer: Sealer, officer: Officer, wanted: InboxFilter
) -> tuple[int, list[Explained]]:
    """Run the officer's inbox once through `SqlCases.inbox`, catching the exact SQL and parameters
    it sends, then run each of those statements again under EXPLAIN (ANALYZE, BUFFERS): the inbox's
    total, and each statement's plan and times. PostgreSQL only."""
    if is_sqlite(engine):
        raise ValueError("EXPLAIN ANALYZE figures are PostgreSQL's")
    sent: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "applications" in statement:
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    try:
        _, total = await SqlCases(engine, sealer).inbox(officer, wanted)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
    found: list[Explained] = []
    async with engine.connect() as connection:
        for statement, parameters in sent:
            result = await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            )
            document = result.scalar_one()
            report = (json.loads(document) if isinstance(document, str) else document)[0]
            top = report["Plan"]
            found.append(
                Explained(
                    statement="count" if "count(" in statement.lower() else "page",
                    planning_ms=float(report["Planning Time"]),
                    execution_ms=float(report["Execution Time"]),
                    plan=" > ".join(_nodes(top)),
                    rows=int(top.get("Actual Rows", 0)),
                )
            )
    return total, found


def _nodes(node: dict[str, Any]) -> list[str]:
    """The plan's node types, depth first, each with the index or table it reads."""
    kind = node["Node Type"]
    where = node.get("Index Name") or node.get("Relation Name")
    names = [f"{kind} ({where})" if where else kind]
    for child in node.get("Plans", []):
        names += _nodes(child)
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseFacts:
    version: str
    applications: int  # rows
    table_bytes: int  # the heap (with TOAST)
    index_bytes: int
    events_bytes: int  # application_events, with its indexes


async def database_facts(engine: AsyncEngine) -> DatabaseFacts:
    """The server's version and the size of what the dashboard reads. PostgreSQL only."""
    async with engine.connect() as connection:
        version = str(await connection.scalar(text("SHOW server_version")))
        count = int(await connection.scalar(select(func.count()).select_from(applications)) or 0)
        sizes = (
            await connection.execute(
                text(
                    "SELECT pg_table_size('applications'), pg_indexes_size('applications'),"
                    " pg_total_relation_size('application_events')"
                )
            )
        ).one()
    return DatabaseFacts(
        version=version,
        applications=count,
        table_bytes=int(sizes[0]),
        index_bytes=int(sizes[1]),
        events_bytes=int(sizes[2]),
    )
