"""Phrasings: what citizens wrote before they picked a service from the assistant's list.

Each pick counts once per (service, text); an officer of the state team reviews them, and the
accepted ones are routed like the catalogue's own aliases from the next start.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.tables import phrasings

PROPOSED, ACCEPTED, REJECTED = "proposed", "accepted", "rejected"
MAX_TEXT = 200


async def record_phrasing(
    connection: AsyncConnection, text: str, service_id: str, language: str, now: datetime
) -> None:
    """Count one more pick of `service_id` after `text`, in the caller's transaction."""
    kept = " ".join(text.split())[:MAX_TEXT]
    insert = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    statement = insert(phrasings).values(
        service_id=service_id, text=kept, language=language, count=1, status=PROPOSED, first_at=now, last_at=now
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=["service_id", "text"], set_={"count": phrasings.c.count + 1, "last_at": now}
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrasing:
    id: int
    service_id: str
    text: str
    language: str
    count: int
    status: str


@dataclass
class SqlPhrasings:
    engine: AsyncEngine

    async def listed(self, status: str = PROPOSED, limit: int = 100) -> list[Phrasing]:
        """The most picked first."""
        query = (
            select(phrasings)
            .where(phrasings.c.status == status)
            .order_by(phrasings.c.count.desc(), phrasings.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Phrasing(
                id=r.id,
                service_id=r.service_id,
                text=r.text,
                language=r.language,
                count=int(r._mapping["count"]),  # `Row.count` is the tuple method
                status=r.status,
            )
            for r in rows
        ]

    async def review(self, phrasing_id: int, verdict: Literal["accepted", "rejected"], reviewer: str) -> bool:
        async with self.engine.begin() as connection:
            changed = await connection.execute(
                update(phrasings).where(phrasings.c.id == phrasing_id).values(status=verdict, reviewed_by=reviewer)
            )
        return changed.rowcount == 1

    async def accepted(self) -> dict[str, list[str]]:
        """Service id → its accepted phrasings: the router's extra aliases."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(phrasings.c.service_id, phrasings.c.text).where(phrasings.c.status == ACCEPTED)
            )
            found: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                found[row.service_id].append(row.text)
        return dict(found)
