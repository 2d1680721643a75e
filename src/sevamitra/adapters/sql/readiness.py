"""Whether the database can serve: it answers at once, and its schema is at the migrations' head
(or ahead of them: the next release's migrations only add, so this release keeps working)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.migrate import head_revisions, known_revisions

log = logging.getLogger(__name__)


async def database_problem(engine: AsyncEngine, within_seconds: float) -> str | None:
    """Why the database cannot serve now, in words safe to show anyone; None when it can."""
    try:
        async with asyncio.timeout(within_seconds), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            try:
                found = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            except SQLAlchemyError:
                return "database schema not migrated"
    except TimeoutError:
        return f"database did not answer within {within_seconds:g} s"
    except (SQLAlchemyError, OSError) as error:  # the details (host names, paths) go to the log only
        log.warning("readiness: the database is unreachable: %s", error)
        return "database unreachable"
    at, heads = frozenset(found), head_revisions()
    if at and not at & known_revisions():  # migrated ahead for the next release: expand/contract keeps us working
        return None
    if at != heads:
        return f"database schema at {', '.join(sorted(at)) or 'no revision'}, migrations at {', '.join(sorted(heads))}"
    return None
