"""Stock back to Magento: the POS is the inventory master.

Each cycle, for the SKUs that exist on both sides, the POS's quantity available to sell (on hand
minus reserved, as the adapter reports it) is written to Magento's MSI source items, only where
Magento shows something else. Magento's quantities as read are kept in the ledger: a change m2pos
did not make between two reads is a *stock movement* (a shipment, a credit memo's return to
stock, an edit), which is how the effect of a credit memo is read (``restock.py``).

What a read saw is recorded *before* m2pos writes over it, and the write is bracketed by an intent:
a process killed between writing to Magento and recording what it wrote would otherwise lose the
movements that read saw (overwritten in Magento) and take its own write for a movement at the next
read. When the next read finds the intent open, it takes Magento's values as the new baseline
without reading movements from them, and marks the interval unreadable (``UNREADABLE``); so does
the first read of all, which has no baseline before it (``FIRST_READ``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from m2pos.engine.context import StoreContext
from m2pos.magento import SearchCriteria, SourceItem

log = logging.getLogger("m2pos.engine")

# Product types that hold stock themselves (configurables and bundles are made of them).
STOCK_TYPES = ("simple", "virtual")
_SKU_CHUNK = 200
# Ledger markers, per source: the last read, the first read, the last read that could not tell
# movements (its detail is the read before it, ISO 8601), the last push; and the intent bracketing a write.
LAST_READ = "stock_read:{source}"
FIRST_READ = "stock_first_read:{source}"
UNREADABLE = "stock_unreadable:{source}"
PUSH_INTENT = "stock_push"
LAST_PUSH = "stock_push:{source}"  # when m2pos last wrote quantities to Magento (the console shows it)


@dataclass
class StockReport:
    skus_matched: int = 0
    pushed: int = 0
    movements: int = 0


@dataclass
class CatalogCache:
    """Magento's stock-bearing SKUs, read again after ``catalog_refresh_seconds``."""

    skus: list[str] = field(default_factory=list)
    read_at: float | None = None


async def magento_skus(ctx: StoreContext, cache: CatalogCache) -> list[str]:
    refresh = ctx.settings.inventory.catalog_refresh_seconds
    if cache.read_at is not None and time.monotonic() - cache.read_at < refresh:
        return cache.skus
    criteria = SearchCriteria().where("type_id", "in", list(STOCK_TYPES))
    products = ctx.magento.products(criteria, fields="items[id,sku,type_id]")
    cache.skus = [p.sku async for p in products if p.sku]
    cache.read_at = time.monotonic()
    return cache.skus


async def magento_quantities(ctx: StoreContext, skus: list[str]) -> dict[str, Decimal]:
    """Magento's source quantities of ``skus`` at the configured source."""
    source = ctx.settings.inventory.source_code
    quantities: dict[str, Decimal] = {}
    for start in range(0, len(skus), _SKU_CHUNK):
        chunk = skus[start : start + _SKU_CHUNK]
        criteria = SearchCriteria().where("source_code", "eq", source).where("sku", "in", chunk)
        async for item in ctx.magento.source_items(criteria):
            quantities[item.sku] = item.quantity
    return quantities


async def sync_stock(ctx: StoreContext, cache: CatalogCache) -> StockReport:
    report = StockReport()
    inventory = ctx.settings.inventory
    if not inventory.sync:
        return report
    now = ctx.clock()
    skus = await magento_skus(ctx, cache)
    levels = await ctx.pos.stock_levels(skus) if skus else {}
    report.skus_matched = len(levels)
    seen = await magento_quantities(ctx, list(levels)) if levels else {}
    # The read happened between ``now`` and ``read_at``: "read after the credit memo" is judged by
    # ``now`` (the last-read marker), "read before it" and the movements' windows by ``read_at``.
    read_at = ctx.clock()
    source, ledger = inventory.source_code, ctx.ledger
    if levels:
        ledger.set_marker_once(FIRST_READ.format(source=source), read_at)
    if ledger.intent_open(PUSH_INTENT, 0):
        # The last write was cut off before it was recorded: what Magento shows may be m2pos's own.
        previous = ledger.last_stock_read(source)
        ledger.record_stock(source, {}, seen, read_at)  # the new baseline, no movements read from it
        ledger.set_marker(
            UNREADABLE.format(source=source), read_at, previous.isoformat() if previous else None
        )
        ledger.close_intent(PUSH_INTENT, 0, read_at)
        log.warning("stock movements unreadable after an interrupted stock write", extra={"source": source})
    else:
        report.movements = len(ledger.record_stock(source, seen, {}, read_at))
    changed = {sku: qty for sku, qty in levels.items() if seen.get(sku) != qty}
    if changed:
        ledger.start_intent(PUSH_INTENT, 0, source, read_at)
        await ctx.magento.save_source_items(
            SourceItem(sku=sku, source_code=source, quantity=qty, status=1 if qty > 0 else 0)
            for sku, qty in changed.items()
        )
        ledger.record_stock(source, {}, changed, read_at)  # what m2pos wrote is the new baseline
        ledger.close_intent(PUSH_INTENT, 0, read_at)
        ledger.set_marker(LAST_PUSH.format(source=source), read_at, f"{len(changed)} SKUs")
    report.pushed = len(changed)
    ledger.set_marker(LAST_READ.format(source=source), now)
    if changed:
        log.info("stock pushed to Magento", extra={"skus": len(changed)})
    return report
