"""Heartland's side of the shared pieces: customers (``CustomerDirectory``), products by SKU (for
``SkuResolver``), helper items (``HelperCatalog``) and reference data by name.

Customer validation: Heartland rejects a customer without first name, last name or a valid e-mail,
and an address missing any of line 1, city, state, postal code or country [I, docs/pos/heartland.md].
``missing_customer_fields`` says what an order lacks *before* anything is sent; an incomplete
address is left off the customer (it is optional) rather than sent to be refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from m2pos.pos.common.catalog import chunks, unique
from m2pos.pos.common.customers import CustomerDetails, PosCustomer, PostalAddress
from m2pos.pos.common.helpers import HelperProduct, HelperRecord
from m2pos.pos.heartland._client import HeartlandClient
from m2pos.pos.heartland._settings import SkuField

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS_FIELDS = ("line_1", "city", "state", "postal_code", "country")


def number(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


@dataclass(frozen=True)
class HeartlandItem:
    id: int
    public_id: str
    description: str
    price: Decimal
    tracked: bool


def missing_customer_fields(details: CustomerDetails) -> list[str]:
    """The Heartland customer fields the order cannot fill (names as Heartland spells them)."""
    missing = [
        name for name, value in (("first_name", details.first), ("last_name", details.last)) if not value
    ]
    if not _EMAIL.match(details.email):
        missing.append("email")
    return missing


def address_body(address: PostalAddress | None) -> dict[str, str] | None:
    """Heartland's address, or None when the order's address lacks a field Heartland requires."""
    if address is None:
        return None
    body = {
        "line_1": address.address1,
        "line_2": address.address2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.zip,
        "country": address.country,
    }
    return body if all(body[k] for k in ADDRESS_FIELDS) else None


def _address(raw: Any) -> PostalAddress | None:
    if not isinstance(raw, dict):
        return None
    found = PostalAddress(
        str(raw.get("line_1") or ""),
        str(raw.get("line_2") or ""),
        str(raw.get("city") or ""),
        str(raw.get("state") or ""),
        str(raw.get("postal_code") or ""),
        str(raw.get("country") or ""),
    )
    return None if found.is_empty else found


def read_customer(raw: Mapping[str, Any]) -> PosCustomer:
    name = " ".join(str(raw.get(k) or "") for k in ("first_name", "last_name")).strip()
    return PosCustomer(
        id=str(raw["id"]),
        email=str(raw.get("email") or ""),
        name=name,
        merged=not raw.get("active", True),  # an inactive record is not matched
        modified=str(raw.get("updated_at") or ""),
        billing=_address(raw.get("address")),
        shipping=_address(raw.get("shipping_address")),
        complete=True,
    )


class HeartlandCustomers:
    def __init__(self, client: HeartlandClient) -> None:
        self.client = client

    async def find_by_email(self, email: str) -> Sequence[PosCustomer]:
        return [read_customer(r) for r in await self.client.find("customers", {"email": email})]

    async def get(self, customer_id: str) -> PosCustomer:
        return read_customer(await self.client.get(f"customers/{customer_id}"))

    async def create(self, details: CustomerDetails) -> PosCustomer:
        body: dict[str, Any] = {
            "first_name": details.first,
            "last_name": details.last,
            "email": details.email,
            "phone": details.phone,
            "company": details.company,
        }
        billing, shipping = address_body(details.billing), address_body(details.shipping)
        if billing:
            body["address"] = billing
        if shipping:
            body["shipping_address"] = shipping
        return read_customer(await self.client.post("customers", body))

    async def update_addresses(self, customer: PosCustomer, details: CustomerDetails) -> PosCustomer:
        body: dict[str, Any] = {}
        billing, shipping = address_body(details.billing), address_body(details.shipping)
        if billing:
            body["address"] = billing
        if shipping:
            body["shipping_address"] = shipping
        if not body:
            return customer
        return read_customer(await self.client.put(f"customers/{customer.id}", body))


def _filter_field(sku_field: SkuField) -> str:
    return "custom@upc" if sku_field == "upc" else sku_field


def read_item(raw: Mapping[str, Any]) -> HeartlandItem:
    return HeartlandItem(
        int(raw["id"]),
        str(raw.get("public_id") or ""),
        str(raw.get("description") or ""),
        number(raw.get("price")),
        bool(raw.get("track_inventory", True)),
    )


class HeartlandCatalog:
    def __init__(self, client: HeartlandClient, sku_field: SkuField) -> None:
        self.client = client
        self.sku_field = sku_field

    def _key(self, raw: Mapping[str, Any]) -> str:
        if self.sku_field == "upc":
            return str((raw.get("custom") or {}).get("upc") or "")
        return str(raw.get(self.sku_field) or "")

    async def products_by_sku(self, skus: Sequence[str]) -> dict[str, HeartlandItem]:
        """Active items whose SKU field is one of ``skus`` (one request per 100)."""
        out: dict[str, HeartlandItem] = {}
        wanted = [s for s in unique(skus) if self.sku_field != "id" or s.isdigit()]
        for batch in chunks(wanted, 100):
            values: list[Any] = [int(s) for s in batch] if self.sku_field == "id" else list(batch)
            flt = {_filter_field(self.sku_field): {"$in": values}, "active": True}
            for raw in await self.client.find("items", flt):
                key = self._key(raw)
                if key in batch and key not in out:
                    out[key] = read_item(raw)
        return out

    async def inventory(
        self, item_ids: Sequence[int], location_id: int
    ) -> dict[int, tuple[Decimal, Decimal]]:
        """item id → (on hand, committed) at ``location_id``."""
        out: dict[int, tuple[Decimal, Decimal]] = {}
        for batch in chunks([str(i) for i in item_ids], 100):
            flt = {"item_id": {"$in": [int(i) for i in batch]}, "location_id": location_id}
            params = {"group[]": ["item_id", "location_id"], "_filter": _json(flt), "per_page": 100}
            page = 1
            while True:
                data = await self.client.get("inventory/values", {**params, "page": page})
                for row in data.get("results", []):
                    out[int(row["item_id"])] = (
                        number(row.get("qty_on_hand")),
                        number(row.get("qty_committed")),
                    )
                if page >= int(data.get("pages", 1) or 1):
                    break
                page += 1
        return out

    async def id_by_name(self, collection: str, name: str) -> int | None:
        found = await self.client.find(collection, {"name": name})
        return int(found[0]["id"]) if found else None


def _json(value: Any) -> str:
    return json.dumps(value)


class HeartlandHelpers:
    """Helper items by ``public_id`` (their code), as non-inventory items."""

    def __init__(self, client: HeartlandClient) -> None:
        self.client = client

    @staticmethod
    def _record(raw: Mapping[str, Any]) -> HelperRecord:
        return HelperRecord(
            str(raw["id"]),
            str(raw.get("public_id") or ""),
            str(raw.get("description") or ""),
            archived=not raw.get("active", True),
        )

    async def find_codes(self, codes: Sequence[str]) -> Mapping[str, HelperRecord]:
        found = await self.client.find("items", {"public_id": {"$in": list(codes)}})
        return {str(r["public_id"]): self._record(r) for r in found}

    async def find_descriptions(self, descriptions: Sequence[str]) -> Sequence[HelperRecord]:
        found = await self.client.find("items", {"description": {"$in": list(descriptions)}})
        return [self._record(r) for r in found]

    async def create(self, helper: HelperProduct) -> HelperRecord:
        body = {
            "public_id": helper.code,
            "description": helper.description,
            "price": "0",
            "track_inventory": False,
        }
        return self._record(await self.client.post("items", body))
