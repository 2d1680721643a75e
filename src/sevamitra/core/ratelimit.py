"""A token bucket as pure arithmetic: the caller owns the clock and the sleeping."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens added per second
    capacity: float  # the largest burst
    tokens: float = 0.0
    updated: float | None = None  # monotonic seconds of the last refill

    def take(self, now: float) -> float:
        """Take one token; returns how long to wait before using it (0 when available now)."""
        return self.take_many(now, 1)[0]

    def take_many(self, now: float, count: int) -> list[float]:
        """Take `count` tokens; returns how long to wait before using each, in order."""
        if self.updated is None:
            self.tokens, self.updated = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= count
        return waits(self.tokens, count, self.rate)


def waits(balance: float, count: int, rate: float) -> list[float]:
    """The waits of the last `count` tokens taken from a bucket left at `balance` (negative: owed)."""
    return [max(0.0, -(balance + count - 1 - i) / rate) for i in range(count)]
