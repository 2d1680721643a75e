"""A citizen's pace: how many messages a minute their turns take, as a token bucket kept with the conversation.

A citizen who writes faster than `Pace` allows is told once to wait a moment; their extra messages stay in
the inbox and are taken at the pace's rate, in order, never dropped. Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SLOW_DOWN = "pacing.slow_down"  # the text the citizen gets once when they are slowed
_EPSILON = 1e-9  # tokens lost to floating point


@dataclass(frozen=True, slots=True, kw_only=True)
class Pace:
    per_minute: float  # messages a minute, once the burst is spent
    burst: int  # messages taken at once after a quiet spell

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Bucket:
    """What is kept between turns: tokens left at `at`, and whether the citizen has been told to wait."""

    tokens: float
    at: datetime | None = None
    warned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "at": self.at.isoformat() if self.at else None, "warned": self.warned}

    @staticmethod
    def from_dict(data: object, pace: Pace) -> Bucket:
        """The kept bucket; a full one for a citizen with none (or an unreadable one)."""
        if not isinstance(data, dict):
            return Bucket(tokens=float(pace.burst))
        try:
            at = data.get("at")
            return Bucket(
                tokens=float(data.get("tokens", pace.burst)),
                at=datetime.fromisoformat(at) if isinstance(at, str) else None,
                warned=bool(data.get("warned", False)),
            )
        except (TypeError, ValueError):
            return Bucket(tokens=float(pace.burst))


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    bucket: Bucket  # to keep
    wait: timedelta  # zero: take the message now; else leave it (and those after it) this long
    warn: bool  # tell the citizen to wait a moment (once per spell of haste)


def admit(bucket: Bucket, pace: Pace, now: datetime) -> Admission:
    """Whether one more message may be taken now, with the bucket refilled up to `now`."""
    tokens = float(pace.burst)
    if bucket.at is not None:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        tokens = min(float(pace.burst), bucket.tokens + elapsed * pace.per_second)
    warned = bucket.warned and tokens < pace.burst  # a full bucket means they calmed down: warn again next time
    if tokens >= 1.0 - _EPSILON:  # a message deferred to the moment its token is due is taken then
        return Admission(
            bucket=Bucket(tokens=max(tokens - 1.0, 0.0), at=now, warned=warned), wait=timedelta(0), warn=False
        )
    wait = timedelta(seconds=(1.0 - tokens) / pace.per_second)
    return Admission(bucket=Bucket(tokens=tokens, at=now, warned=True), wait=wait, warn=not warned)
