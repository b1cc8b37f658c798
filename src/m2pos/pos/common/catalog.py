"""Finding POS products by the Magento SKU: batched, cached, one look-up in flight at a time.

Every POS adapter needs the same thing: given the SKUs of an order (or of a stock sync), which POS
product each one is, by the POS field the merchant chose (code, UPC, manufacturer SKU, id…). The
adapter supplies only ``lookup``: one request (or a few) for a batch of SKUs, returning the products
it found. ``SkuResolver`` adds the cache (hits and misses, see ``TtlCache``), the batching and the
guarantee that two orders asking for the same SKU at once cost one look-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from m2pos.pos.common.cache import TtlCache

P = TypeVar("P")

ProductLookup = Callable[[Sequence[str]], Awaitable[Mapping[str, P]]]


def unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, first occurrence order, no duplicates."""
    return list(dict.fromkeys(v for v in values if v))


def chunks(values: Sequence[str], size: int) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class SkuResolver(Generic[P]):
    """SKU → POS product (``None``: the POS has no such product)."""

    def __init__(
        self,
        lookup: ProductLookup[P],
        *,
        batch_size: int = 100,
        cache: TtlCache[str, P | None] | None = None,
    ) -> None:
        self._lookup = lookup
        self.batch_size = batch_size
        self.cache: TtlCache[str, P | None] = cache if cache is not None else TtlCache()
        self._lock = asyncio.Lock()
        # SKUs that orders waiting for the lock miss: whoever holds it next looks them all up at
        # once, so concurrent orders share batches instead of sending one small batch each.
        self._queued: dict[str, None] = {}
        self.lookups = 0  # batches sent to the POS (for tests and benchmarks)

    async def resolve(self, skus: Iterable[str]) -> dict[str, P | None]:
        wanted = unique(skus)
        out: dict[str, P | None] = {}
        missing = self._from_cache(wanted, out)
        if not missing:
            return out
        self._queued.update(dict.fromkeys(missing))
        async with self._lock:  # another order may have looked these up while we waited
            missing = self._from_cache(missing, out)
            if missing:
                queued = self._from_cache(unique([*missing, *self._queued]), {})
                for sku in queued:
                    self._queued.pop(sku, None)
                answers: dict[str, P | None] = {}
                for batch in chunks(queued, self.batch_size):
                    self.lookups += 1
                    found = await self._lookup(batch)
                    for sku in batch:
                        answers[sku] = found.get(sku)
                        self.cache.put(sku, answers[sku])
                for sku in missing:  # from the answers, not the cache: it may keep nothing (ttl 0)
                    out[sku] = answers[sku]
        return out

    def remember(self, sku: str, product: P | None) -> None:
        self.cache.put(sku, product)

    def forget(self, sku: str) -> None:
        self.cache.forget(sku)

    def _from_cache(self, skus: Sequence[str], out: dict[str, P | None]) -> list[str]:
        missing = []
        for sku in skus:
            hit, product = self.cache.lookup(sku)
            if hit:
                out[sku] = product
            else:
                missing.append(sku)
        return missing
