"""X-Series' products, customers, taxes and registers, behind the shared protocols
(``SkuResolver``'s look-up, ``CustomerDirectory``, ``HelperCatalog``).

Products are read as X-Series pages them (``GET /api/2.0/products?after=<version>``): the first
look-up reads the catalogue once, later ones only what changed since the highest version seen, which
is one request in the common case — cheaper under the 5-minute request window than one search per
SKU, and deleted products come back with ``deleted_at`` so the index stays true.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from m2pos.pos.common.customers import CustomerDetails, PosCustomer, PostalAddress
from m2pos.pos.common.helpers import HelperProduct, HelperRecord
from m2pos.pos.lightspeed_xseries._client import POS_NAME, XSeriesClient
from m2pos.pos.lightspeed_xseries._settings import SkuField
from m2pos.pos.port import PosRejected


@dataclass(frozen=True)
class XSeriesProduct:
    id: str
    sku: str
    name: str
    has_inventory: bool = True
    active: bool = True


def _product(row: Mapping[str, Any]) -> XSeriesProduct:
    return XSeriesProduct(
        id=str(row["id"]),
        sku=str(row.get("sku") or ""),
        name=str(row.get("name") or ""),
        has_inventory=bool(row.get("has_inventory", True)),
        active=bool(row.get("is_active", True)),
    )


class XSeriesCatalog:
    def __init__(self, client: XSeriesClient, sku_field: SkuField) -> None:
        self.client = client
        self.sku_field = sku_field
        self._rows: dict[str, dict[str, Any]] = {}  # product id → row (deleted ones removed)
        self._after = 0
        self._lock = asyncio.Lock()
        self._no_tax: dict[str, str] = {}
        self._payment_types: dict[str, str] = {}

    async def refresh(self) -> None:
        async with self._lock:
            while True:
                body = await self.client.get("2.0/products", {"after": self._after, "page_size": 1000})
                data = body.get("data") or []
                for row in data:
                    if row.get("deleted_at"):
                        self._rows.pop(str(row["id"]), None)
                    else:
                        self._rows[str(row["id"])] = row
                top = (body.get("version") or {}).get("max")
                if top:
                    self._after = max(self._after, int(top))
                if len(data) < 1000:
                    return

    def _key(self, row: Mapping[str, Any]) -> str:
        return str(row.get("id") if self.sku_field == "product_id" else row.get(self.sku_field) or "")

    async def products_by_sku(self, skus: Sequence[str]) -> dict[str, XSeriesProduct]:
        await self.refresh()
        wanted = set(skus)
        return {self._key(r): _product(r) for r in self._rows.values() if self._key(r) in wanted}

    # -- helper products (always by their sku) ----------------------------------------------------

    async def find_codes(self, codes: Sequence[str]) -> Mapping[str, HelperRecord]:
        await self.refresh()
        out = {}
        for row in self._rows.values():
            if row.get("sku") in codes:
                out[str(row["sku"])] = HelperRecord(
                    str(row["id"]),
                    str(row["sku"]),
                    str(row.get("name") or ""),
                    not row.get("is_active", True),
                )
        return out

    async def find_descriptions(self, descriptions: Sequence[str]) -> Sequence[HelperRecord]:
        wanted = {d.casefold() for d in descriptions}
        return [
            HelperRecord(str(r["id"]), str(r.get("sku") or ""), str(r["name"]), not r.get("is_active", True))
            for r in self._rows.values()
            if str(r.get("name") or "").casefold() in wanted
        ]

    async def create(self, helper: HelperProduct) -> HelperRecord:
        body = {
            "name": helper.description,
            "sku": helper.code,
            "price_excluding_tax": 0,
            "has_inventory": False,
        }
        row = (await self.client.write("POST", "2.0/products", body))["data"]
        self._rows[str(row["id"])] = row
        return HelperRecord(str(row["id"]), helper.code, helper.description)

    # -- reference data ---------------------------------------------------------------------------

    async def tax_id(self, name: str) -> str:
        if name not in self._no_tax:
            taxes = (await self.client.get("2.0/taxes")).get("data") or []
            found = next((t for t in taxes if str(t.get("name", "")).casefold() == name.casefold()), None)
            if found is None:
                raise PosRejected(
                    f'{POS_NAME} has no tax named "{name}" (pos.lightspeed_xseries.no_tax_name). Create it '
                    "at 0 % or set no_tax_name to the name of your zero-rate tax."
                )
            self._no_tax[name] = str(found["id"])
        return self._no_tax[name]

    async def payment_type_id(self, name: str) -> str:
        if name not in self._payment_types:
            types = (await self.client.get("2.0/payment_types")).get("data") or []
            found = next((t for t in types if str(t.get("name", "")).casefold() == name.casefold()), None)
            if found is None:
                raise PosRejected(
                    f'{POS_NAME} has no payment type named "{name}" (pos.lightspeed_xseries.payment_type). '
                    "Add it in X-Series (Setup › Payment types), set payment_type to an existing one, or "
                    "set create_payments = false."
                )
            self._payment_types[name] = str(found["id"])
        return self._payment_types[name]

    async def register(self, register_id: str | None) -> dict[str, Any]:
        registers = (await self.client.get("2.0/registers")).get("data") or []
        if register_id is None:
            if not registers:
                raise PosRejected(f"{POS_NAME} has no register; create one (sales are made on a register)")
            return dict(registers[0])
        found = next((r for r in registers if r.get("id") == register_id), None)
        if found is None:
            raise PosRejected(
                f"pos.lightspeed_xseries.register_id = {register_id}: {POS_NAME} has no such register. "
                "Set it to one of: " + ", ".join(f"{r['id']} ({r.get('name')})" for r in registers)
            )
        return dict(found)


# -- customers ---------------------------------------------------------------------------------------


def _address(row: Mapping[str, Any], kind: str) -> PostalAddress | None:
    found = PostalAddress(
        address1=str(row.get(f"{kind}_address_1") or ""),
        address2=str(row.get(f"{kind}_address_2") or ""),
        city=str(row.get(f"{kind}_city") or ""),
        state=str(row.get(f"{kind}_state") or ""),
        zip=str(row.get(f"{kind}_postcode") or ""),
        country=str(row.get(f"{kind}_country_id") or ""),
    )
    return None if found.is_empty else found


def _customer(row: Mapping[str, Any], complete: bool) -> PosCustomer:
    name = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p) or str(
        row.get("company_name") or ""
    )
    return PosCustomer(
        id=str(row["id"]),
        email=str(row.get("email") or ""),
        name=name,
        merged=bool(row.get("deleted_at")),  # X-Series has no merge flag; a deleted record is not used
        modified=str(row.get("updated_at") or ""),
        # the postal address is where X-Series keeps the delivery address; physical = billing
        billing=_address(row, "physical"),
        shipping=_address(row, "postal"),
        complete=complete,
    )


def _address_fields(kind: str, address: PostalAddress | None) -> dict[str, str]:
    if address is None:
        return {}
    return {
        f"{kind}_address_1": address.address1,
        f"{kind}_address_2": address.address2,
        f"{kind}_city": address.city,
        f"{kind}_state": address.state,
        f"{kind}_postcode": address.zip,
        f"{kind}_country_id": address.country,
    }


class XSeriesCustomers:
    def __init__(self, client: XSeriesClient) -> None:
        self.client = client

    async def find_by_email(self, email: str) -> Sequence[PosCustomer]:
        rows = (await self.client.get("2.0/search", {"type": "customers", "email": email})).get("data") or []
        return [_customer(r, True) for r in rows if str(r.get("email") or "").casefold() == email.casefold()]

    async def get(self, customer_id: str) -> PosCustomer:
        return _customer((await self.client.get(f"2.0/customers/{customer_id}"))["data"], True)

    async def create(self, details: CustomerDetails) -> PosCustomer:
        body = {
            "first_name": details.first,
            "last_name": details.last,
            "company_name": details.company,
            "email": details.email,
            "phone": details.phone,
            **_address_fields("physical", details.billing),
            **_address_fields("postal", details.shipping or details.billing),
        }
        return _customer((await self.client.write("POST", "2.0/customers", body))["data"], True)

    async def update_addresses(self, customer: PosCustomer, details: CustomerDetails) -> PosCustomer:
        body = {**_address_fields("physical", details.billing), **_address_fields("postal", details.shipping)}
        row = (await self.client.write("PUT", f"2.0/customers/{customer.id}", body))["data"]
        return _customer(row, True)

    async def exists(self, customer_id: str) -> bool:
        try:
            await self.get(customer_id)
        except PosRejected:
            return False
        return True
