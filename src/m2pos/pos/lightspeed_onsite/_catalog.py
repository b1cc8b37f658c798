"""OnSite's look-ups behind the POS-agnostic pieces of ``m2pos.pos.common``: products by the
configured SKU field, helper products, customers, tax codes, payment methods and inventory.

Batching: ``code`` and ``product_id`` look-ups go out as one ``IN {…}`` filter per batch, because the
product listing carries the code and the id. The listing does *not* carry ``upc`` or
``manufacturer_sku`` [V: the listing fields of a real server], so a batch answer could not be mapped
back to the SKUs: those fields are looked up one SKU per request (concurrently, and cached).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from decimal import Decimal

from m2pos.pos.common.cache import TtlCache
from m2pos.pos.common.catalog import chunks, unique
from m2pos.pos.common.customers import CustomerDetails, PosCustomer
from m2pos.pos.common.helpers import HelperProduct, HelperRecord
from m2pos.pos.lightspeed_onsite._client import OnSiteCallError, OnSiteClient, decimal, in_filter, quote
from m2pos.pos.lightspeed_onsite._mapping import (
    OnSiteProduct,
    customer_addresses_body,
    customer_body,
    helper_body,
    read_customer,
    read_helper,
    read_product,
)
from m2pos.pos.lightspeed_onsite._settings import SkuField

BATCH = 100


def _best(products: Sequence[OnSiteProduct]) -> OnSiteProduct | None:
    """Among products sharing a SKU value: not a master model (a matrix parent), lowest id."""
    sellable = sorted((p for p in products if not p.master_model), key=lambda p: p.id)
    return sellable[0] if sellable else None


class OnSiteCatalog:
    def __init__(self, client: OnSiteClient, sku_field: SkuField, cache_seconds: float = 300.0) -> None:
        self.client = client
        self.sku_field = sku_field
        self._tax_codes: TtlCache[str, dict[str, int]] = TtlCache(1, cache_seconds)
        self._tax_lock = asyncio.Lock()

    # -- products by SKU --------------------------------------------------------------------------

    async def products_by_sku(self, skus: Sequence[str]) -> Mapping[str, OnSiteProduct]:
        if self.sku_field == "code":
            return await self._batch("code", skus, lambda p: p.code)
        if self.sku_field == "product_id":
            ids = [s for s in skus if s.isdigit()]
            if not ids:
                return {}
            return await self._batch("id", ids, lambda p: str(p.id), numeric=True)
        found = await asyncio.gather(*(self._one(self.sku_field, sku) for sku in skus))
        return {sku: product for sku, product in zip(skus, found, strict=True) if product is not None}

    async def list_products(self, flt: str) -> list[OnSiteProduct]:
        root = await self.client.get("products/", {"filter": flt})
        return [read_product(node) for node in root if node.tag == "product"]

    async def _batch(
        self, field: str, values: Sequence[str], key: object, numeric: bool = False
    ) -> dict[str, OnSiteProduct]:
        out: dict[str, OnSiteProduct] = {}
        for batch in chunks(unique(values), BATCH):
            flt = f"{field} IN {{{', '.join(batch)}}}" if numeric else in_filter(field, batch)
            grouped: dict[str, list[OnSiteProduct]] = {}
            for product in await self.list_products(flt):
                grouped.setdefault(key(product), []).append(product)  # type: ignore[operator]
            for value, group in grouped.items():
                best = _best(group)
                if best is not None and value in batch:
                    out[value] = best
        return out

    async def _one(self, field: str, sku: str) -> OnSiteProduct | None:
        return _best(await self.list_products(f"{field} == {quote(sku)}"))

    # -- reference data -----------------------------------------------------------------------------

    async def tax_code_id(self, name: str) -> int | None:
        """By exact name, else ignoring case and spaces. All tax codes are read once per cache period."""
        async with self._tax_lock:
            codes = self._tax_codes.get("all")
            if codes is None:
                root = await self.client.get("tax_codes/")
                codes = {
                    (node.findtext("name") or "").strip(): int(node.get("id", "0"))
                    for node in root
                    if node.tag == "tax_code"
                }
                self._tax_codes.put("all", codes)
        if name in codes:
            return codes[name]
        wanted = " ".join(name.split()).casefold()
        return next((i for n, i in codes.items() if " ".join(n.split()).casefold() == wanted), None)

    async def payment_method_exists(self, name: str) -> bool:
        root = await self.client.get("payment_methods/", {"filter": f"name ==[c] {quote(name)}"})
        return any(node.tag == "payment_method" for node in root)

    async def customer_exists(self, customer_id: int) -> bool:
        try:
            await self.client.get(f"customers/{customer_id}/")
        except OnSiteCallError as error:
            if error.status == 404:
                return False
            raise
        return True

    async def inventory(self, product_ids: Sequence[int]) -> dict[int, tuple[Decimal, Decimal]]:
        """Product id → (total on hand, reserved)."""
        out: dict[int, tuple[Decimal, Decimal]] = {}
        ids = sorted(set(product_ids))
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            flt = f"id IN {{{', '.join(str(i) for i in batch)}}}"
            root = await self.client.get("product_inventory/", {"filter": flt})
            for node in root:
                if node.tag != "product_inventory":
                    continue
                product = node.find("product")
                raw = product.get("id") if product is not None else node.get("id")
                if raw and raw.isdigit():
                    out[int(raw)] = (decimal(node, "total"), decimal(node, "reserved"))
        return out


class OnSiteHelpers:
    """``m2pos.pos.common.helpers.HelperCatalog`` for OnSite."""

    def __init__(self, catalog: OnSiteCatalog) -> None:
        self.catalog = catalog
        self.client = catalog.client

    async def find_codes(self, codes: Sequence[str]) -> Mapping[str, HelperRecord]:
        listed = await self.catalog.list_products(in_filter("code", unique(codes)))
        # The listing lacks flags/current: read each helper in full to know whether it is archived.
        full = await asyncio.gather(*(self.client.get(f"products/{p.id}/") for p in listed))
        return {record.code: record for record in (read_helper(node) for node in full)}

    async def find_descriptions(self, descriptions: Sequence[str]) -> Sequence[HelperRecord]:
        listed = await self.catalog.list_products(in_filter("description", unique(descriptions)))
        return [HelperRecord(str(p.id), p.code, p.description) for p in listed]

    async def create(self, helper: HelperProduct) -> HelperRecord:
        return read_helper(await self.client.post("products/", helper_body(helper)))


class OnSiteCustomers:
    """``m2pos.pos.common.customers.CustomerDirectory`` for OnSite."""

    def __init__(self, client: OnSiteClient) -> None:
        self.client = client

    async def find_by_email(self, email: str) -> Sequence[PosCustomer]:
        root = await self.client.get("customers/", {"filter": f"email ==[c] {quote(email)}"})
        return [read_customer(node, complete=False) for node in root if node.tag == "customer"]

    async def get(self, customer_id: str) -> PosCustomer:
        return read_customer(await self.client.get(f"customers/{customer_id}/"), complete=True)

    async def create(self, details: CustomerDetails) -> PosCustomer:
        return read_customer(await self.client.post("customers/", customer_body(details)), complete=True)

    async def update_addresses(self, customer: PosCustomer, details: CustomerDetails) -> PosCustomer:
        path = f"customers/{customer.id}/"
        async with self.client.locked(path):
            node = await self.client.put(path, customer_addresses_body(details))
        return read_customer(node, complete=True)
