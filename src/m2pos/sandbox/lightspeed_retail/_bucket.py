"""R-Series' leaky-bucket rate limit (pos-apis §2 [V]): a bucket of ``size`` units that drains at
``drip`` units per second; a GET costs 1, a write 10. A request that would overflow it is refused
with 429 and a ``Retry-After`` (seconds) before anything is done. Every answer carries
``X-LS-API-Bucket-Level: used/size`` and ``X-LS-API-Drip-Rate``."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

READ_COST = 1.0
WRITE_COST = 10.0


def cost_of(method: str) -> float:
    return READ_COST if method.upper() in ("GET", "HEAD") else WRITE_COST


class LeakyBucket:
    def __init__(self, size: float = 90.0, drip: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.size = size
        self.drip = drip
        self._clock = clock
        self._level = 0.0
        self._at = clock()
        self._lock = threading.Lock()
        self.refused = 0

    def _drain(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.drip)
        self._at = now

    def take(self, cost: float) -> float | None:
        """Add ``cost``; None when it fits, else the seconds to wait (nothing is added)."""
        with self._lock:
            self._drain()
            if self._level + cost > self.size + 1e-9:
                self.refused += 1
                return max(1.0, math.ceil((self._level + cost - self.size) / self.drip))
            self._level += cost
            return None

    def headers(self) -> list[tuple[str, str]]:
        with self._lock:
            self._drain()
            return [
                ("X-LS-API-Bucket-Level", f"{self._level:.6f}/{self.size:g}"),
                ("X-LS-API-Drip-Rate", f"{self.drip:g}"),
            ]

    def reset(self) -> None:
        with self._lock:
            self._level, self._at = 0.0, self._clock()
