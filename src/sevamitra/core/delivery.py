"""What to do with a send that failed, and how delivery statuses advance."""

from __future__ import annotations

from enum import Enum

from sevamitra.core.messages import DeliveryState, SendResult

OUTSIDE_WINDOW = 131047  # more than 24 hours since the citizen last wrote: only templates may go
UNDELIVERABLE = 131026  # the number cannot receive the message (not on WhatsApp, old app, ...)


class Next(Enum):
    DONE = "done"
    RETRY = "retry"
    NEEDS_TEMPLATE = "needs_template"
    UNDELIVERABLE = "undeliverable"
    FAILED = "failed"


def after_send(result: SendResult, attempts: int, max_attempts: int) -> Next:
    """The outbox's next move after one attempt (`attempts` counts it)."""
    if result.ok:
        return Next.DONE
    code = result.error.code if result.error else None
    if code == OUTSIDE_WINDOW:
        return Next.NEEDS_TEMPLATE
    if code == UNDELIVERABLE:
        return Next.UNDELIVERABLE
    if result.retryable and attempts < max_attempts:
        return Next.RETRY
    return Next.FAILED


def backoff_seconds(attempts: int, jitter: float, *, base: float = 0.5, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter (`jitter` in [0, 1))."""
    return min(cap, base * 2.0 ** (attempts - 1)) * (0.5 + jitter / 2)


_RANK: dict[str, int] = {"sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5}


def advances(current: str | None, reported: DeliveryState) -> bool:
    """Whether a status report moves a message forward (reports arrive out of order)."""
    return _RANK.get(reported, 0) > _RANK.get(current or "", 0)
