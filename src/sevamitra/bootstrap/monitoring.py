"""Monitoring: send outcomes counted as the outbox records them, the gauges read from the database at
each scrape, and readiness."""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.metrics import QUEUES, PrometheusMeter
from sevamitra.adapters.sql.analytics import Scope, SqlAnalytics
from sevamitra.adapters.sql.queues import queues
from sevamitra.adapters.sql.readiness import database_problem
from sevamitra.core.messages import ChannelError
from sevamitra.core.ports import Meter, Outbox, OutboxRecord

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

    async def sent(self, record: OutboxRecord, message_id: str | None, now: datetime) -> None:
        await self._outbox.sent(record, message_id, now)
        self._meter.count("messages_sent", result="sent")

    async def retry(self, record: OutboxRecord, error: ChannelError | None, at: datetime) -> None:
        await self._outbox.retry(record, error, at)
        self._meter.count("messages_sent", result="retry")

    async def give_up(
        self,
        record: OutboxRecord,
        outcome: str,
        error: ChannelError | None,
        now: datetime,
        follow_up: dict[str, Any] | None = None,
    ) -> None:
        await self._outbox.give_up(record, outcome, error, now, follow_up)
        self._meter.count("messages_sent", result=outcome)  # failed, outside_window or undeliverable


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
