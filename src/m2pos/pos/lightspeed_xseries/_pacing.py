"""Pacing for X-Series' request window, so that a 429 is never drawn when it could be avoided.

X-Series allows ``X-RateLimit-Limit`` requests per 5-minute window and says after each request how
many are left (``X-RateLimit-Remaining``); it does not say when the window ends. The pacer keeps:

* ``remaining``: the lowest count seen in the current window (responses can arrive out of order),
  minus the requests in flight — requests are let through while that is above zero, so a burst
  goes as fast as the window allows;
* the window's end: estimated as the moment the first response of a window arrived plus the window
  length. That is never earlier than the real end (the window opened when the server took that
  request, before its response came back), so waiting for it cannot draw a 429;
* when the budget is spent: wait for that end, then let one request probe the new window and the
  others wait for its headers.

A 429 (other apps share the store's window, or the estimate was wrong) gives the exact end in
``Retry-After``; the pacer waits for it and the client re-sends (a 429 was not processed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class WindowPacer:
    def __init__(
        self,
        window_seconds: float = 300.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._cond = asyncio.Condition()
        self.remaining: int | None = None  # None: unknown (first request, or a new window)
        self.limit: int | None = None
        self.window_end: float | None = None
        self.in_flight = 0
        self.waits = 0  # times a request waited for the window (benchmarks)

    async def acquire(self) -> None:
        async with self._cond:
            while True:
                now = self._clock()
                if self.window_end is not None and now >= self.window_end:
                    self.remaining, self.window_end = None, None  # a new window: probe it
                if self.remaining is None:
                    if self.in_flight == 0:
                        break
                    await self._cond.wait()  # a probe is out; its headers tell the rest
                    continue
                if self.remaining - self.in_flight > 0:
                    break
                if self.window_end is None or self.in_flight > 0:
                    await self._cond.wait()
                    continue
                self.waits += 1
                delay = self.window_end - now
                self._cond.release()
                try:
                    await self._sleep(delay)
                finally:
                    await self._cond.acquire()
            self.in_flight += 1

    async def release(self, remaining: int | None, limit: int | None) -> None:
        """After a response (``None``: it carried no window headers, e.g. a connection error)."""
        async with self._cond:
            self.in_flight -= 1
            if remaining is not None:
                now = self._clock()
                if self.window_end is None or now >= self.window_end:
                    self.window_end = now + self.window_seconds
                    self.remaining = remaining
                else:
                    self.remaining = remaining if self.remaining is None else min(self.remaining, remaining)
                self.limit = limit if limit is not None else self.limit
            elif self.remaining is None and self.window_end is None:
                self.remaining = None
            self._cond.notify_all()

    async def refused(self, wait_seconds: float) -> None:
        """A 429: the window is spent until ``wait_seconds`` from now."""
        async with self._cond:
            self.in_flight -= 1
            self.remaining = 0
            self.window_end = self._clock() + max(0.0, wait_seconds)
            self._cond.notify_all()
