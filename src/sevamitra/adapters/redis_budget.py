"""The send budgets of WhatsApp numbers, shared by every sending process through Redis.

The same token bucket as the PostgreSQL row (adapters.sql.budget), kept in one hash per number and
taken by one Lua script against Redis's own clock: a batch of sends is one round trip and never a
hot row under many senders. A missing hash is a full bucket, so each hash expires once it would
have refilled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import redis.asyncio as redis

from sevamitra.core.ratelimit import waits

# KEYS[1]: the number's hash; ARGV: rate, capacity, count. Returns the balance left, as a string
# (a Lua number would come back truncated to an integer). The time is kept as whole seconds and
# microseconds, as TIME gives it, so that no precision is lost on the way.
_TAKE = """
local rate, capacity, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = redis.call('TIME')
local seconds, micros = tonumber(now[1]), tonumber(now[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'seconds', 'micros')
local tokens = capacity
if state[1] then
  local elapsed = (seconds - tonumber(state[2])) + (micros - tonumber(state[3])) / 1000000
  tokens = math.min(capacity, tonumber(state[1]) + math.max(0, elapsed) * rate)
end
tokens = tokens - count
local balance = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 'tokens', balance, 'seconds', now[1], 'micros', now[2])
redis.call('PEXPIRE', KEYS[1], math.max(5000, math.ceil((capacity - tokens) / rate * 1000) + 1000))
return balance
"""


class RedisSendBudget:
    """A token bucket per number, one hash each under `prefix` in Redis."""

    def __init__(
        self, client: redis.Redis, rate: float, capacity: float, prefix: str = "sevamitra:send-budget:"
    ) -> None:
        self.rate = rate  # sends a second
        self.capacity = capacity  # the largest burst
        self.prefix = prefix
        self._script = client.register_script(_TAKE)

    async def take(self, number: str, count: int = 1) -> list[float]:
        """Take `count` sends of `number`; returns the seconds to wait before each (0: now), in order."""
        if count < 1:
            return []
        balance = await self._script(keys=[self.prefix + number], args=[self.rate, self.capacity, count])
        return waits(float(balance), count, self.rate)


def redis_send_budget(
    url: str, rate: float, capacity: float, prefix: str = "sevamitra:send-budget:"
) -> tuple[RedisSendBudget, Callable[[], Awaitable[None]]]:
    """A budget on its own connection pool to `url`, and the callable that closes the pool."""
    client = redis.Redis.from_url(url)
    return RedisSendBudget(client, rate, capacity, prefix), client.aclose
