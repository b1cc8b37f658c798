"""A small bounded cache with an age limit, for look-ups a POS adapter repeats (customers, products).

Entries expire ``ttl_seconds`` after they were stored, so a product created or renamed in the POS is
seen again within that time; at most ``max_entries`` are kept (least recently used go first), so a
long-running process does not grow without bound. Negative results ("no such SKU") are cached the
same way: they are answers too, and asking again would cost a request per order.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_MISSING = object()


class TtlCache(Generic[K, V]):
    def __init__(
        self,
        max_entries: int = 10_000,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return self._lookup(key) is not _MISSING

    def get(self, key: K) -> V | None:
        found = self._lookup(key)
        return None if found is _MISSING else found  # type: ignore[return-value]

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """(whether ``key`` is cached, its value): tells a cached ``None`` from a miss."""
        found = self._lookup(key)
        return (False, None) if found is _MISSING else (True, found)  # type: ignore[return-value]

    def put(self, key: K, value: V) -> None:
        self._data[key] = (self._clock() + self.ttl_seconds, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def forget(self, key: K) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()

    def _lookup(self, key: object) -> object:
        entry = self._data.get(key)  # type: ignore[arg-type]
        if entry is None:
            return _MISSING
        expires, value = entry
        if expires <= self._clock():
            del self._data[key]  # type: ignore[arg-type]
            return _MISSING
        self._data.move_to_end(key)  # type: ignore[arg-type]
        return value
