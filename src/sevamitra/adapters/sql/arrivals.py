"""Arrivals through service links and posters, counted by source tag: which posters bring citizens in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.tables import arrivals


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrivalCount:
    source: str | None  # None: links without a tag
    service_id: str
    arrivals: int
    new_citizens: int  # of them, first contacts with the platform
    last_at: datetime


@dataclass
class SqlArrivals:
    engine: AsyncEngine

    async def counts(self, since: datetime, limit: int = 200) -> list[ArrivalCount]:
        """Per source and service since `since`, the most arrivals first."""
        total = func.count().label("total")
        query = (
            select(
                arrivals.c.source,
                arrivals.c.service_id,
                total,
                func.sum(cast(arrivals.c.first_contact, Integer)).label("new"),
                func.max(arrivals.c.arrived_at).label("last_at"),
            )
            .where(arrivals.c.arrived_at >= since)
            .group_by(arrivals.c.source, arrivals.c.service_id)
            .order_by(total.desc(), arrivals.c.source, arrivals.c.service_id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            ArrivalCount(
                source=r.source,
                service_id=r.service_id,
                arrivals=r.total,
                new_citizens=int(r.new or 0),
                last_at=r.last_at,
            )
            for r in rows
        ]
