"""Per-system request-rate budgets: a token bucket, and an httpx transport that spends from it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

_EPSILON = 1e-9


class RateLimiter:
    """At most ``rate`` acquisitions per second on average, bursts up to ``burst``.

    Waiters are served in arrival order (one lock), so a burst of concurrent orders cannot starve
    one another or exceed the budget. ``clock`` and ``sleep`` are injectable so that tests run on a
    fake clock.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = asyncio.Lock()
        self.acquired = 0  # requests sent under this budget
        self.errors = 0  # of those, answered >= 400 or not answered (RateLimitedTransport counts)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1 - _EPSILON:  # refills are float sums: 0.9999999999 is a token
                    self._tokens = max(0.0, self._tokens - 1)
                    self.acquired += 1
                    return
                await self._sleep((1 - self._tokens) / self.rate)


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so that every request first takes a token from ``limiter``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.limiter.acquire()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception:
            self.limiter.errors += 1
            raise
        if response.status_code >= 400:
            self.limiter.errors += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
