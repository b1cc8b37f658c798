"""Request-rate budgets shared by every worker (distributed mode): a token bucket per store and
system kept in Redis, so that a store's Magento or POS never sees more than its budget however many
workers touch it at once.

Each acquisition runs one Lua script, atomic in Redis, on Redis's own clock: it refills the bucket
at ``rate`` per second up to ``burst``, takes a token if there is one, or says how long until there
is. The process's own ``RateLimiter`` paces first, so one worker never bursts past the budget alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from m2pos.engine.ratelimit import RateLimiter

_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(t))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class SharedRateLimiter(RateLimiter):
    def __init__(
        self,
        redis: Redis,
        key: str,
        rate: float,
        burst: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(rate, burst, sleep=sleep)
        self.key = key
        self._redis = redis
        self._take: Any = redis.register_script(_TAKE)
        self._shared_sleep = sleep
        self.waited_for_others = 0.0  # seconds spent waiting for the shared bucket (metrics, tests)

    async def acquire(self) -> None:
        await super().acquire()
        while True:
            wait = float(await self._take(keys=[self.key], args=[self.rate, self.burst]))
            if wait <= 0:
                return
            self.waited_for_others += wait
            await self._shared_sleep(wait)


class Budgets:
    """The shared limiters of one cycle: ``limiter(store, system, rate)``; close when done."""

    def __init__(self, redis_url: str) -> None:
        self._redis: Redis = Redis.from_url(redis_url)

    def limiter(self, store: str, system: str, rate: float) -> RateLimiter:
        return SharedRateLimiter(self._redis, f"m2pos:budget:{store}:{system}", rate)

    async def aclose(self) -> None:
        await self._redis.aclose()
