"""Accepting a webhook delivery: nothing is acknowledged before it is stored."""

from __future__ import annotations

from collections.abc import Sequence

from sevamitra.core.ports import Clock, Inbox, NewInboxItem


async def receive(inbox: Inbox, items: Sequence[NewInboxItem], clock: Clock) -> int:
    """Store a delivery's items (duplicates ignored); returns how many were new."""
    return await inbox.add(items, clock.now())
