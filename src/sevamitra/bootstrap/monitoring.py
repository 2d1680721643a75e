"""Monitoring: send outcomes counted as the outbox records them, the gauges read from the database at
each scrape, and readiness."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.metrics import QUEUES, PrometheusMeter
from sevamitra.adapters.sql.analytics import Scope, SqlAnalytics
from sevamitra.adapters.sql.queues import queues
from sevamitra.adapters.sql.readiness import database_problem
from sevamitra.core.ports import Meter, Outbox, OutboxRecord, Settled

log = logging.getLogger(__name__)

READY_SECONDS = 2.0  # a database slower than this to answer `SELECT 1` is as good as down
SCRAPE_SECONDS = 5.0  # the gauges' queries, before the scrape answers without them


class MeteredOutbox:
    """An outbox that counts each send's result as it records it: sent, retry, or why it gave up."""

    def __init__(self, outbox: Outbox, meter: Meter) -> None:
        self._outbox = outbox
        self._meter = meter

    async def claim(self, limit: int, now: datetime, lease_seconds: float) -> list[OutboxRecord]:
        return await self._outbox.claim(limit, now, lease_seconds)

    async def settle(self, outcomes: Sequence[Settled]) -> None:
        await self._outbox.settle(outcomes)
        for outcome in outcomes:
            if outcome.tried:  # sent, retry, or why it gave up: failed, outside_window or undeliverable
                self._meter.count("messages_sent", result="retry" if outcome.state == "pending" else outcome.state)


async def exposition(meter: PrometheusMeter, engine: AsyncEngine, now: datetime) -> tuple[bytes, str]:
    """The metrics, with the queues and the overdue applications read from the database now; when it does
    not answer, those gauges read NaN and the counters are served all the same."""
    try:
        async with asyncio.timeout(SCRAPE_SECONDS):
            waiting = await queues(engine, now)
            overdue = (await SqlAnalytics(engine).backlog(Scope(), now)).overdue  # as the dashboard counts them
    except Exception:  # any failure of the database: the scrape must still answer
        log.warning("metrics: the database's gauges could not be read", exc_info=True)
        for name in QUEUES:
            meter.queue(name, math.nan, math.nan)
        meter.sla_breaches(math.nan)
    else:
        for name, queue in waiting.items():
            meter.queue(name, queue.waiting, queue.oldest_age_seconds)
        meter.sla_breaches(overdue)
    return meter.exposition()


async def readiness(engine: AsyncEngine) -> str | None:
    """Why this process should not take traffic now; None when the database answers and is migrated."""
    return await database_problem(engine, READY_SECONDS)
