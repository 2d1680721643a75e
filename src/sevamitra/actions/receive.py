"""Accepting a webhook delivery: nothing is acknowledged before it is stored."""

from __future__ import annotations

from collections.abc import Sequence

from sevamitra.core.ports import NO_METER, Clock, Inbox, Meter, NewInboxItem


async def receive(inbox: Inbox, items: Sequence[NewInboxItem], clock: Clock, meter: Meter = NO_METER) -> int:
    """Store a delivery's items (duplicates ignored); returns how many were new. The delivery is counted
    as stored, as a duplicate (Meta delivered all of it before) or as unavailable (it could not be stored)."""
    try:
        new = await inbox.add(items, clock.now())
    except Exception:
        meter.count("webhook_deliveries", outcome="unavailable")
        raise
    meter.count("webhook_deliveries", outcome="duplicate" if items and not new else "stored")
    return new
