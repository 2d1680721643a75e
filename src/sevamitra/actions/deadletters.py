"""Dead letters: messages given up for good (retries exhausted, or refused for good), which officers of the
right role list and queue again.

Least privilege: only the state administrator. A message to a citizen belongs to no district, department
or desk, so no narrower scope covers it: a district or department administrator would see (and could
message) citizens outside their scope, and the officers who decide applications have no part in
delivery. The list shows each citizen's number masked, never a message's text; a retry queues the same
message again, a power the state administrator already holds (a broadcast to the whole state).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sevamitra.core.officers import Officer
from sevamitra.core.ports import DeadLetters

DEAD_LETTER_ROLES = frozenset({"state_admin"})


class NotAllowed(Exception):
    """The officer may not see or retry dead letters."""


def may_handle_dead_letters(officer: Officer) -> bool:
    return officer.active and officer.role in DEAD_LETTER_ROLES


def masked(address: str) -> str:
    """A citizen's number as the list shows it: the country code and the last four digits."""
    if len(address) <= 6:
        return "•" * len(address)
    return address[:2] + "•" * (len(address) - 6) + address[-4:]


async def retry_dead_letters(
    store: DeadLetters, officer: Officer, ids: Sequence[int] | None, *, now: datetime, ip: str | None
) -> int:
    """Queue these dead letters again (every waiting one when `ids` is None); returns how many were queued.
    The store marks them and writes the audit row in the same transaction."""
    if not may_handle_dead_letters(officer):
        raise NotAllowed(f"{officer.role} may not retry dead letters")
    return await store.retry(ids, officer_id=officer.id, now=now, ip=ip)
