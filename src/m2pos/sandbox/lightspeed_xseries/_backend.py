"""The X-Series sandbox's data and document semantics: outlets, registers, taxes, products,
inventory per outlet, customers and sales (legacy ``register_sales`` bodies in, 2.0 shapes out).

Stock bookkeeping (docs/sandbox-lightspeed_xseries.md): a sale that is not parked (``SAVED``) takes
its quantities from the register's outlet when it is created; voiding it gives them back; a return
sale (negative quantities) puts them back. Non-inventory products (helpers) keep no level.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from m2pos.sandbox.onsite._catalog import demo_customers, demo_products

OPEN_STATUSES = ("AWAITING_DISPATCH", "AWAITING_PICKUP", "ONACCOUNT", "LAYBY", "SAVED")
STATUSES = (
    *OPEN_STATUSES,
    "CLOSED",
    "DISPATCHED_CLOSED",
    "PICKED_UP_CLOSED",
    "ONACCOUNT_CLOSED",
    "LAYBY_CLOSED",
    "VOIDED",
)
# legacy status → 2.0 (state, attributes)
STATE = {
    "SAVED": ("parked", []),
    "CLOSED": ("closed", []),
    "ONACCOUNT": ("pending", ["onaccount"]),
    "LAYBY": ("pending", ["layby"]),
    "AWAITING_DISPATCH": ("pending", ["delivery"]),
    "AWAITING_PICKUP": ("pending", ["pickup"]),
    "DISPATCHED_CLOSED": ("closed", ["delivery"]),
    "PICKED_UP_CLOSED": ("closed", ["pickup"]),
    "ONACCOUNT_CLOSED": ("closed", ["onaccount"]),
    "LAYBY_CLOSED": ("closed", ["layby"]),
    "VOIDED": ("voided", []),
}

OUTLET_ID = "0adfd74a-1f5b-11e7-f5a7-outlet000001"
REGISTER_ID = "0adfd74a-1f5b-11e7-f5a7-register0001"
USER_ID = "0adfd74a-1f5b-11e7-f5a7-user00000001"
NO_TAX_ID = "0adfd74a-1f5b-11e7-f5a7-tax000000000"


class XSeriesError(Exception):
    """An API error: the status and X-Series' JSON error body."""

    def __init__(self, status: int, error: str, details: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.body: dict[str, Any] = {"error": error}
        if details:
            self.body["details"] = details


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"m2pos-xseries/{seed}"))


def _dec(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise XSeriesError(400, "Bad Request", f"{name} must be a number") from None


@dataclass
class Backend:
    registers: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)
    version: int = 0
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    inventory: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (product, outlet) → level
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sales: dict[str, dict[str, Any]] = field(default_factory=dict)
    taxes: list[dict[str, Any]] = field(default_factory=list)
    payment_types: list[dict[str, Any]] = field(default_factory=list)

    def _next_version(self) -> int:
        self.version += 1
        return self.version

    # -- demo data ----------------------------------------------------------------------------------

    def populate(self, products: int, seed: int) -> None:
        with self.lock:
            self.taxes = [
                {"id": NO_TAX_ID, "name": "No Tax", "rate": 0.0},
                {"id": _uuid("tax/ca"), "name": "US-CA-*-Rate 1", "rate": 0.0825},
            ]
            # payment_type_id is X-Series' kind of payment (1 cash, 2 credit card, 3 other) [I]
            self.payment_types = [
                {"id": _uuid(f"payment_type/{name}"), "name": name, "payment_type_id": kind}
                for name, kind in (("Cash", 1), ("Credit Card", 2), ("Magento", 3))
            ]
            for p in demo_products(products, seed):
                if p.master_model:
                    continue  # X-Series variants are products of their own; the family is not sold
                pid = self.add_product(p.code, p.description, p.sell_price, track=p.inventoried)
                self.products[pid]["supplier_code"] = p.manufacturer_sku
                if p.inventoried:
                    self.inventory[(pid, OUTLET_ID)] = p.stock
            for c in demo_customers(seed):
                if c.merged_into_previous:
                    continue
                self.create_customer(
                    {
                        "first_name": c.first,
                        "last_name": c.last,
                        "email": c.email,
                        "phone": c.phone,
                        "physical_address_1": c.address.get("address1", ""),
                        "physical_city": c.address.get("city", ""),
                        "physical_state": c.address.get("state", ""),
                        "physical_postcode": c.address.get("zip", ""),
                        "physical_country_id": c.address.get("country", ""),
                    }
                )

    def add_product(self, sku: str, name: str, price: Decimal, *, track: bool = True) -> str:
        with self.lock:
            pid = _uuid(f"product/{sku}/{len(self.products)}")
            self.products[pid] = {
                "id": pid,
                "sku": sku,
                "name": name,
                "price_excluding_tax": float(price),
                "supplier_code": "",
                "is_active": True,
                "has_inventory": track,
                "deleted_at": None,
                "version": self._next_version(),
            }
            return pid

    # -- reference data -----------------------------------------------------------------------------

    def outlets(self) -> list[dict[str, Any]]:
        return [{"id": OUTLET_ID, "name": "Main Outlet", "deleted_at": None}]

    def register_list(self) -> list[dict[str, Any]]:
        return [
            {
                "id": REGISTER_ID if n == 1 else _uuid(f"register/{n}"),
                "name": f"Register {n}",
                "outlet_id": OUTLET_ID,
                "is_open": True,
            }
            for n in range(1, self.registers + 1)
        ]

    # -- products and inventory ---------------------------------------------------------------------

    def product_page(self, after: int, page_size: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = sorted(
                (p for p in self.products.values() if p["version"] > after), key=lambda p: p["version"]
            )
            return [dict(p) for p in rows[:page_size]]

    def create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("name") or "").strip()
        sku = str(body.get("sku") or "").strip()
        if not name or not sku:
            raise XSeriesError(422, "Unprocessable Entity", "name and sku are required")
        with self.lock:
            if any(p["sku"] == sku and not p["deleted_at"] for p in self.products.values()):
                raise XSeriesError(422, "Unprocessable Entity", f"sku {sku} is already in use")
            pid = self.add_product(sku, name, _dec(body.get("price_excluding_tax", 0), "price"), track=False)
            return dict(self.products[pid])

    def inventory_page(self, after: int, page_size: int) -> list[dict[str, Any]]:
        with self.lock:
            rows: list[dict[str, Any]] = [
                {"product_id": pid, "outlet_id": outlet, "inventory_level": float(level), "version": n + 1}
                for n, ((pid, outlet), level) in enumerate(sorted(self.inventory.items()))
                if n + 1 > after
            ]
            return rows[:page_size]

    def level(self, product_id: str, outlet_id: str = OUTLET_ID) -> Decimal:
        with self.lock:
            return self.inventory.get((product_id, outlet_id), Decimal(0))

    def by_sku(self, sku: str) -> dict[str, Any]:
        for p in self.products.values():
            if p["sku"] == sku and not p["deleted_at"]:
                return p
        raise KeyError(sku)

    # -- customers ----------------------------------------------------------------------------------

    _CUSTOMER_FIELDS = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile",
        "company_name",
        "customer_code",
        "note",
        *(
            f"{kind}_{part}"
            for kind in ("physical", "postal")
            for part in ("address_1", "address_2", "city", "state", "postcode", "country_id")
        ),
    )

    def create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        if not any(str(body.get(k) or "").strip() for k in ("first_name", "last_name", "company_name")):
            raise XSeriesError(422, "Unprocessable Entity", "a customer needs a name or a company name")
        with self.lock:
            cid = _uuid(f"customer/{len(self.customers)}")
            record: dict[str, Any] = {k: str(body.get(k) or "") for k in self._CUSTOMER_FIELDS}
            record.update(id=cid, created_at=_now(), updated_at=_now(), deleted_at=None)
            record["version"] = self._next_version()
            self.customers[cid] = record
            return dict(record)

    def update_customer(self, cid: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = self.customer(cid)
            for key in self._CUSTOMER_FIELDS:
                if key in body:
                    record[key] = str(body[key] or "")
            record["updated_at"] = _now()
            record["version"] = self._next_version()
            self.customers[cid] = record
            return dict(record)

    def customer(self, cid: str) -> dict[str, Any]:
        with self.lock:
            if cid not in self.customers:
                raise XSeriesError(404, "Not Found", f"customer {cid} not found")
            return dict(self.customers[cid])

    def search_customers(self, email: str) -> list[dict[str, Any]]:
        with self.lock:
            wanted = email.strip().casefold()
            return [dict(c) for c in self.customers.values() if c["email"].casefold() == wanted]

    # -- sales --------------------------------------------------------------------------------------

    def _lines(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        lines = []
        for n, raw in enumerate(body.get("register_sale_products") or []):
            pid = str(raw.get("product_id") or "")
            product = self.products.get(pid)
            if product is None or product["deleted_at"]:
                raise XSeriesError(
                    422, "Unprocessable Entity", f"register_sale_products[{n}]: no product {pid}"
                )
            if raw.get("tax_id") and raw["tax_id"] not in {t["id"] for t in self.taxes}:
                raise XSeriesError(
                    422, "Unprocessable Entity", f"register_sale_products[{n}]: no tax {raw['tax_id']}"
                )
            lines.append(
                {
                    "id": _uuid(f"line/{pid}/{n}/{self._next_version()}"),
                    "product_id": pid,
                    "quantity": _dec(raw.get("quantity", 1), "quantity"),
                    "price": _dec(raw.get("price", 0), "price"),
                    "discount": _dec(raw.get("discount", 0), "discount"),
                    "tax": _dec(raw.get("tax", 0), "tax"),
                    "tax_id": raw.get("tax_id") or NO_TAX_ID,
                    "note": str(raw.get("note") or ""),
                    "status": str(raw.get("status") or "CONFIRMED"),
                }
            )
        return lines

    def _payments(self, body: dict[str, Any], register: str) -> list[dict[str, Any]]:
        known = {t["id"] for t in self.payment_types}
        payments = []
        for n, raw in enumerate(body.get("register_sale_payments") or []):
            kind = str(raw.get("retailer_payment_type_id") or "")
            if kind not in known:
                raise XSeriesError(
                    422,
                    "Unprocessable Entity",
                    f"register_sale_payments[{n}]: no payment type {kind or '(none)'}",
                )
            payments.append(
                {
                    "id": _uuid(f"payment/{kind}/{n}/{self._next_version()}"),
                    "register_id": str(raw.get("register_id") or register),
                    "retailer_payment_type_id": kind,
                    "payment_date": str(raw.get("payment_date") or _now()),
                    "amount": _dec(raw.get("amount", 0), "amount"),
                }
            )
        return payments

    def _take(self, lines: list[dict[str, Any]], sign: int) -> None:
        for line in lines:
            product = self.products[line["product_id"]]
            if product["has_inventory"]:
                key = (line["product_id"], OUTLET_ID)
                self.inventory[key] = self.inventory.get(key, Decimal(0)) - sign * line["quantity"]

    def save_sale(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/register_sales``: create, or update when ``id`` names a sale."""
        status = str(body.get("status") or "SAVED").upper()
        if status not in STATUSES:
            raise XSeriesError(422, "Unprocessable Entity", f"status {status} is not a sale status")
        register = str(body.get("register_id") or "")
        if register not in {r["id"] for r in self.register_list()}:
            raise XSeriesError(
                422, "Unprocessable Entity", f"register_id {register or '(none)'} is not a register"
            )
        with self.lock:
            customer = body.get("customer_id")
            if customer and customer not in self.customers:
                raise XSeriesError(422, "Unprocessable Entity", f"customer_id {customer} not found")
            lines = self._lines(body)
            payments = self._payments(body, register)
            sid = body.get("id")
            if sid:
                old = self.sales.get(str(sid))
                if old is None:
                    raise XSeriesError(404, "Not Found", f"sale {sid} not found")
                if old["status"] == "VOIDED" or old["status"].endswith("CLOSED"):
                    raise XSeriesError(
                        422, "Unprocessable Entity", f"sale {sid} is {old['status']} and cannot change"
                    )
                if old["status"] != "SAVED":
                    self._take(old["lines"], -1)  # update = replace every line (legacy semantics)
                sale = old
                if "register_sale_payments" not in body:
                    payments = old["payments"]  # [I] an update without payments keeps them
            else:
                sid = _uuid(f"sale/{len(self.sales)}")
                sale = {"id": sid, "created_at": _now()}
                self.sales[sid] = sale
            sale.update(
                register_id=register,
                customer_id=customer or None,
                user_id=body.get("user_id") or USER_ID,
                source=str(body.get("source") or "USER"),
                source_id=str(body.get("source_id") or ""),
                invoice_number=str(body.get("invoice_number") or f"{len(self.sales)}"),
                note=str(body.get("note") or ""),
                sale_date=str(body.get("sale_date") or _now()),
                return_for=body.get("return_for"),
                status=status,
                lines=lines,
                payments=payments,
                updated_at=_now(),
                version=self._next_version(),
            )
            if status not in ("SAVED", "VOIDED"):
                self._take(lines, +1)
            return self.sale(sid)

    def sale(self, sid: str) -> dict[str, Any]:
        with self.lock:
            if sid not in self.sales:
                raise XSeriesError(404, "Not Found", f"sale {sid} not found")
            s = self.sales[sid]
            state, attributes = STATE[s["status"]]
            lines = [{**line} for line in s["lines"]]
            total = sum(((line["price"] - line["discount"]) * line["quantity"] for line in lines), Decimal(0))
            return {
                **{k: v for k, v in s.items() if k not in ("lines", "payments")},
                "state": state,
                "attributes": attributes,
                "line_items": lines,
                "total_price": total,
                "payments": [{**payment} for payment in s["payments"]],
            }

    def search_sales(self, invoice_number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self.sale(sid) for sid, s in self.sales.items() if s["invoice_number"] == invoice_number]
