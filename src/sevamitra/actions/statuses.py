"""Delivery statuses (sent, delivered, read, failed) onto the outbound messages they report on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sevamitra.core.messages import DeliveryStatus, Event
from sevamitra.core.ports import Clock, Statuses

# A status can overtake the send result that records its message id; wait for it a while.
RETRY_UNKNOWN = timedelta(seconds=2)
MAX_ATTEMPTS = 30


async def apply_statuses(
    statuses: Statuses, parse: Callable[[str, dict[str, Any]], Event | None], clock: Clock, *, limit: int
) -> int:
    applied = 0
    for record in await statuses.pending(limit, clock.now()):
        event = parse(record.kind, record.fragment)
        status = event if isinstance(event, DeliveryStatus) else None
        if await statuses.apply(record, status, clock.now()):
            applied += 1
        else:
            give_up = record.attempts + 1 >= MAX_ATTEMPTS
            await statuses.postpone(record, clock.now() + RETRY_UNKNOWN, give_up=give_up)
    return applied
