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
        if self.updated is None:
            self.tokens, self.updated = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
