"""X-Series' request window: ``300 × registers + 50`` requests per 5 minutes (pos-apis §3).

A fixed window that opens with the first request after the previous one closed [I]; every response
carries ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``; past the limit the answer is 429 with
``Retry-After`` as an HTTP date (the window's end).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import formatdate


class RequestWindow:
    def __init__(
        self,
        limit: int,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._start: float | None = None
        self._used = 0
        self.refused = 0  # 429s drawn (for tests and benchmarks)

    def take(self) -> tuple[bool, list[tuple[str, str]]]:
        """(allowed, headers) for one request."""
        with self._lock:
            now = self._clock()
            if self._start is None or now >= self._start + self.window_seconds:
                self._start, self._used = now, 0
            allowed = self._used < self.limit
            if allowed:
                self._used += 1
            else:
                self.refused += 1
            headers = [
                ("X-RateLimit-Limit", str(self.limit)),
                ("X-RateLimit-Remaining", str(max(0, self.limit - self._used))),
            ]
            if not allowed:
                end = self._start + self.window_seconds
                # an HTTP date has whole seconds: round up so that a client waiting for it is not early
                headers.append(("Retry-After", formatdate(int(end) + 1, usegmt=True)))
            return allowed, headers

    def reset(self) -> None:
        with self._lock:
            self._start, self._used = None, 0
