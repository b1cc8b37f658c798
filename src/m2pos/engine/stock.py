"""Stock back to Magento: the POS is the inventory master.

Each cycle, for the SKUs that exist on both sides, the POS's quantity available to sell (on hand
minus reserved, as the adapter reports it) is written to Magento's MSI source items, only where
Magento shows something else. Magento's quantities as read are kept in the ledger: a change m2pos
did not make between two reads is a *stock movement* (a shipment, a credit memo's return to
stock, an edit), which is how the effect of a credit memo is read (``restock.py``).
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
    changed = {sku: qty for sku, qty in levels.items() if seen.get(sku) != qty}
    if changed:
        await ctx.magento.save_source_items(
            SourceItem(sku=sku, source_code=inventory.source_code, quantity=qty, status=1 if qty > 0 else 0)
            for sku, qty in changed.items()
        )
    report.pushed = len(changed)
    movements = ctx.ledger.record_stock(inventory.source_code, seen, changed, now)
    report.movements = len(movements)
    ctx.ledger.set_marker(f"stock_read:{inventory.source_code}", now)
    if changed:
        log.info("stock pushed to Magento", extra={"skus": len(changed)})
    return report
