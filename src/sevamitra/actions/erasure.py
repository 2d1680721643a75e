"""Worker chores for citizens' personal data: erasures carried out when due, and Aadhaar numbers masked
in the text of messages once they are processed (core.erasure)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sevamitra.core.ports import Erasures

log = logging.getLogger(__name__)


async def erase_due(erasures: Erasures, now: datetime, retention: timedelta, *, limit: int) -> int:
    """Carry out the erasures that fell due, each in a transaction of its own; one still held back by an
    open application is put off. Returns how many were carried out or put off."""
    handled = 0
    for request_id in await erasures.due(now, limit):
        outcome = await erasures.carry_out(request_id, now, retention)
        if outcome is None:  # another worker has it, or the citizen's turn is running: a later round
            continue
        handled += 1
        if outcome.done:
            log.info("erasure %s carried out: %s", request_id, dict(outcome.erased))
        else:
            log.info("erasure %s put off to %s: an application is still open", request_id, outcome.postponed_to)
    return handled


async def mask_processed_messages(erasures: Erasures, now: datetime, *, limit: int) -> int:
    """Mask Aadhaar numbers in messages the worker has answered (the application keeps the number, sealed)."""
    return await erasures.mask_processed_messages(now, limit)
