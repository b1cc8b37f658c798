"""The R-Series calls behind the shared pieces: items by SKU (``SkuResolver``'s look-up), the
customer directory (``CustomerMatcher``), the helper catalogue (``ensure_helpers``) and stock."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from m2pos.pos.common.catalog import chunks
from m2pos.pos.common.customers import CustomerDetails, PosCustomer
from m2pos.pos.common.helpers import HelperProduct, HelperRecord
from m2pos.pos.lightspeed_retail._client import RetailClient
from m2pos.pos.lightspeed_retail._mapping import (
    RetailItem,
    contact_body,
    customer_body,
    item_body,
    read_customer,
    read_item,
    records,
)

BATCH = 100  # R-Series' largest page
ITEM_SHOPS = '["ItemShops"]'
CONTACT = '["Contact"]'


def in_list(values: Sequence[str | int]) -> str:
    """R-Series' ``IN`` operator: ``IN,[a,b]`` (values JSON-quoted, so commas in SKUs stay inside)."""
    return "IN," + json.dumps([str(v) for v in values])


class RetailCatalog:
    def __init__(self, client: RetailClient, sku_field: str) -> None:
        self.client = client
        self.sku_field = sku_field

    async def items(
        self, field: str, values: Sequence[str | int], *, archived: bool = False
    ) -> list[RetailItem]:
        out: list[RetailItem] = []
        for batch in chunks(list(values), BATCH):  # type: ignore[arg-type]
            params = {field: in_list(batch), "load_relations": ITEM_SHOPS, "limit": str(BATCH)}
            if archived:
                params["archived"] = "true"
            data = await self.client.get("Item.json", params)
            out += [read_item(r, self.sku_field) for r in records(data, "Item")]
        return out

    async def items_by_sku(self, skus: Sequence[str]) -> Mapping[str, RetailItem]:
        """One request per 100 SKUs; archived items are not found (they cannot be sold)."""
        found = await self.items(self.sku_field, skus)
        return {item.sku: item for item in found if item.sku and not item.archived}

    async def stock(self, item_ids: Sequence[int]) -> dict[int, RetailItem]:
        """Fresh ``ItemShops`` (never from the look-up cache)."""
        return {item.id: item for item in await self.items("itemID", item_ids)}


class RetailHelpers:
    """``HelperCatalog`` over R-Series items; helpers are found by the SKU field too."""

    def __init__(self, catalog: RetailCatalog) -> None:
        self.catalog = catalog

    async def find_codes(self, codes: Sequence[str]) -> Mapping[str, HelperRecord]:
        found = await self.catalog.items(self.catalog.sku_field, codes, archived=True)
        return {i.sku: HelperRecord(str(i.id), i.sku, i.description, i.archived) for i in found}

    async def find_descriptions(self, descriptions: Sequence[str]) -> Sequence[HelperRecord]:
        found = await self.catalog.items("description", descriptions, archived=True)
        return [HelperRecord(str(i.id), i.sku, i.description, i.archived) for i in found]

    async def create(self, helper: HelperProduct) -> HelperRecord:
        body = item_body(self.catalog.sku_field, helper.code, helper.description, taxable=helper.taxable)
        data = await self.catalog.client.post("Item.json", body)
        (item,) = [read_item(r, self.catalog.sku_field) for r in records(data, "Item")]
        return HelperRecord(str(item.id), helper.code, helper.description)


class RetailCustomers:
    """``CustomerDirectory`` over ``Customer.json`` with its ``Contact``."""

    def __init__(self, client: RetailClient) -> None:
        self.client = client

    async def find_by_email(self, email: str) -> Sequence[PosCustomer]:
        data = await self.client.get(
            "Customer.json", {"load_relations": CONTACT, "Contact.email": email, "limit": str(BATCH)}
        )
        return [read_customer(r) for r in records(data, "Customer")]

    async def get(self, customer_id: str) -> PosCustomer:
        data = await self.client.get(f"Customer/{customer_id}.json", {"load_relations": CONTACT})
        return read_customer(records(data, "Customer")[0])

    async def create(self, details: CustomerDetails) -> PosCustomer:
        data = await self.client.post("Customer.json", customer_body(details))
        return read_customer(records(data, "Customer")[0])

    async def update_addresses(self, customer: PosCustomer, details: CustomerDetails) -> PosCustomer:
        data = await self.client.put(f"Customer/{customer.id}.json", {"Contact": contact_body(details)})
        return read_customer(records(data, "Customer")[0])
