"""The two cached look-ups every adapter makes, set up once: products by SKU and customers by e-mail."""

from __future__ import annotations

import time
from collections.abc import Callable

from m2pos.pos.common.cache import TtlCache
from m2pos.pos.common.catalog import P, ProductLookup, SkuResolver
from m2pos.pos.common.customers import CustomerDirectory, CustomerMatcher, PosCustomer
from m2pos.pos.common.settings import CachedOptions


def cached_lookups(
    products: ProductLookup[P],
    customers: CustomerDirectory,
    options: CachedOptions,
    *,
    default_customer_id: object | None = None,
    batch_size: int = 100,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[SkuResolver[P], CustomerMatcher]:
    """A SKU resolver and a customer matcher over the POS's calls, cached as ``options`` say.
    ``batch_size``: how many SKUs one product look-up may ask for."""
    entries, seconds = options.cache_entries, options.cache_seconds
    resolver = SkuResolver(
        products, batch_size=batch_size, cache=TtlCache[str, P | None](entries, seconds, clock)
    )
    matcher = CustomerMatcher(
        customers,
        default_customer_id=str(default_customer_id) if default_customer_id is not None else None,
        cache=TtlCache[str, PosCustomer | None](entries, seconds, clock),
    )
    return resolver, matcher
