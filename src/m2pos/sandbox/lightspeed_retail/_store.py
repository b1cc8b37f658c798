"""The R-Series sandbox's records and rules: items with stock per shop (``ItemShops.qoh``),
customers with their ``Contact``, payment types, sales with lines and payments, quotes.

Rules taken from pos-apis §2 and the recorded responses (``shared/reference/lightspeed-retail``):
a Sale needs a non-zero, existing employee, shop and register [V S18]; ``referenceNumber`` and
``referenceNumberSource`` are stored as sent [V fields]; a *completed* sale moves ``qoh`` of its
inventory items by its quantities (negative quantities put stock back) [I]; an open sale or a quote
moves nothing [I]; a completed sale must be fully paid [I] and cannot be voided (refund it) [U].
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal(0)


class RetailError(Exception):
    """An API error: rendered in R-Series' JSON error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class Item:
    item_id: int
    system_sku: str
    custom_sku: str
    description: str
    price: Decimal
    upc: str = ""
    ean: str = ""
    manufacturer_sku: str = ""
    item_type: str = "default"  # "non_inventory" for helper products
    tax: bool = True
    archived: bool = False
    qoh: dict[int, Decimal] = field(default_factory=dict)  # shopID → quantity on hand
    time_stamp: str = field(default_factory=now_text)

    @property
    def inventoried(self) -> bool:
        return self.item_type != "non_inventory"


@dataclass
class Customer:
    customer_id: int
    first: str
    last: str
    company: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    addresses: list[dict[str, str]] = field(default_factory=list)  # R-Series: first = billing [I]
    archived: bool = False
    create_time: str = field(default_factory=now_text)
    time_stamp: str = field(default_factory=now_text)


@dataclass
class SaleLine:
    sale_line_id: int
    item_id: int
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    tax: bool = False
    note: str = ""

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price - self.discount).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Payment:
    sale_payment_id: int
    payment_type_id: int
    amount: Decimal


@dataclass
class Sale:
    sale_id: int
    shop_id: int
    register_id: int
    employee_id: int
    customer_id: int = 0
    completed: bool = False
    voided: bool = False
    reference_number: str = ""
    reference_number_source: str = ""
    quote_id: int = 0
    ship_to: dict[str, Any] | None = None
    ship_to_id: int = 0
    note: str = ""
    tax_category_id: int = 0
    lines: list[SaleLine] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    time_stamp: str = field(default_factory=now_text)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)


@dataclass
class Quote:
    quote_id: int
    sale_id: int
    notes: str = ""
    issue_date: str = field(default_factory=now_text)


class Store:
    """All records, one lock (the sandbox's handlers run in a thread pool)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[int, Item] = {}
        self.customers: dict[int, Customer] = {}
        self.payment_types: dict[int, str] = {}
        self.sales: dict[int, Sale] = {}
        self.quotes: dict[int, Quote] = {}
        self.shops = {1: "Main Street"}
        self.registers = {1: "Register 1"}
        self.employees = {1: "Web Orders"}
        self.account_id = "120645"
        self.account_name = "m2pos R-Series sandbox"
        self._ids: dict[str, int] = {}

    def next_id(self, kind: str, start: int = 1) -> int:
        value = self._ids.get(kind, start - 1) + 1
        self._ids[kind] = value
        return value

    # -- items --------------------------------------------------------------------------------

    def add_item(self, **fields: Any) -> Item:
        with self.lock:
            item_id = self.next_id("item")
            item = Item(item_id=item_id, system_sku=f"2100000{item_id:05d}", **fields)
            self.items[item_id] = item
            return item

    def item(self, item_id: int) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise RetailError(404, f"Item {item_id} not found.")
        return item

    # -- sales --------------------------------------------------------------------------------

    def create_sale(self, body: dict[str, Any]) -> Sale:
        with self.lock:
            ids = {}
            for key, known in (
                ("employeeID", self.employees),
                ("shopID", self.shops),
                ("registerID", self.registers),
            ):
                value = _int(body.get(key), key)
                if value == 0 or value not in known:
                    raise RetailError(
                        400, f"{key} {value} is not valid; a sale needs an existing, non-zero {key}."
                    )
                ids[key] = value
            customer_id = _int(body.get("customerID", 0), "customerID")
            if customer_id and customer_id not in self.customers:
                raise RetailError(400, f"Customer {customer_id} not found.")
            sale = Sale(
                sale_id=self.next_id("sale"),
                shop_id=ids["shopID"],
                register_id=ids["registerID"],
                employee_id=ids["employeeID"],
                customer_id=customer_id,
                reference_number=str(body.get("referenceNumber") or ""),
                reference_number_source=str(body.get("referenceNumberSource") or ""),
                tax_category_id=_int(body.get("taxCategoryID", 0), "taxCategoryID"),
                note=str((body.get("Note") or {}).get("note") or "")
                if isinstance(body.get("Note"), dict)
                else "",
            )
            for entry in _relation(body.get("SaleLines"), "SaleLine"):
                sale.lines.append(self._line(entry))
            for entry in _relation(body.get("SalePayments"), "SalePayment"):
                type_id = _int(entry.get("paymentTypeID"), "SalePayment.paymentTypeID")
                if type_id not in self.payment_types:
                    raise RetailError(400, f"PaymentType {type_id} not found.")
                amount = _decimal(entry.get("amount"), "SalePayment.amount")
                sale.payments.append(Payment(self.next_id("payment"), type_id, amount))
            ship_to = body.get("ShipTo")
            if isinstance(ship_to, dict):
                sale.ship_to, sale.ship_to_id = ship_to, self.next_id("shipto")
            quote = body.get("Quote")
            completed = _bool(body.get("completed", False))
            if quote is not None and completed:
                raise RetailError(400, "A quote cannot be a completed sale.")
            if completed and sale.paid != sale.total:
                raise RetailError(
                    400,
                    f"Sale total {sale.total} is not paid ({sale.paid}); "
                    "a completed sale must be paid in full.",
                )
            if isinstance(quote, dict):
                q = Quote(self.next_id("quote"), sale.sale_id, str(quote.get("notes") or ""))
                self.quotes[q.quote_id] = q
                sale.quote_id = q.quote_id
            self.sales[sale.sale_id] = sale
            if completed:
                self.complete(sale)
            return sale

    def _line(self, entry: dict[str, Any]) -> SaleLine:
        item = self.item(_int(entry.get("itemID"), "SaleLine.itemID"))
        if item.archived:
            raise RetailError(400, f"Item {item.item_id} is archived and cannot be sold.")
        note = entry.get("Note")
        return SaleLine(
            sale_line_id=self.next_id("saleline", 200),
            item_id=item.item_id,
            quantity=_decimal(entry.get("unitQuantity"), "SaleLine.unitQuantity"),
            unit_price=_decimal(entry.get("unitPrice"), "SaleLine.unitPrice"),
            discount=_decimal(entry.get("discountAmount", "0"), "SaleLine.discountAmount"),
            tax=_bool(entry.get("tax", False)),
            note=str(note.get("note") or "") if isinstance(note, dict) else "",
        )

    def complete(self, sale: Sale) -> None:
        sale.completed = True
        for line in sale.lines:
            item = self.items[line.item_id]
            if item.inventoried:
                item.qoh[sale.shop_id] = item.qoh.get(sale.shop_id, ZERO) - line.quantity

    def update_sale(self, sale_id: int, body: dict[str, Any]) -> Sale:
        with self.lock:
            sale = self.sales.get(sale_id)
            if sale is None:
                raise RetailError(404, f"Sale {sale_id} not found.")
            if _bool(body.get("voided", False)) and not sale.voided:
                if sale.completed:
                    raise RetailError(400, "A completed sale cannot be voided; refund it instead.")
                sale.voided = True
            for entry in _relation(body.get("SaleLines"), "SaleLine"):
                if sale.completed or sale.voided:
                    raise RetailError(400, "Lines cannot be added to a completed or voided sale.")
                sale.lines.append(self._line(entry))
            sale.time_stamp = now_text()
            return sale

    def update_sale_line(self, line_id: int, body: dict[str, Any]) -> tuple[Sale, SaleLine]:
        with self.lock:
            for sale in self.sales.values():
                for line in sale.lines:
                    if line.sale_line_id == line_id:
                        if sale.completed or sale.voided:
                            raise RetailError(400, "A line of a completed or voided sale cannot be changed.")
                        if "unitQuantity" in body:
                            line.quantity = _decimal(body["unitQuantity"], "unitQuantity")
                        return sale, line
            raise RetailError(404, f"SaleLine {line_id} not found.")

    def delete_sale_line(self, line_id: int) -> None:
        with self.lock:
            for sale in self.sales.values():
                for line in sale.lines:
                    if line.sale_line_id == line_id:
                        if sale.completed or sale.voided:
                            raise RetailError(400, "A line of a completed or voided sale cannot be deleted.")
                        sale.lines.remove(line)
                        return
            raise RetailError(404, f"SaleLine {line_id} not found.")


def _relation(value: Any, name: str) -> list[dict[str, Any]]:
    """Both shapes clients send: ``[{"SaleLine": {...}}, …]`` (recorded) and ``{"SaleLine": {...}|[...]}``."""
    if value is None or value == "":
        return []
    entries: list[Any] = []
    if isinstance(value, list):
        for entry in value:
            inner = entry.get(name, entry) if isinstance(entry, dict) else entry
            entries += inner if isinstance(inner, list) else [inner]
    elif isinstance(value, dict):
        inner = value.get(name, value)
        entries = inner if isinstance(inner, list) else [inner]
    if not all(isinstance(e, dict) for e in entries):
        raise RetailError(400, f"{name} must be an object.")
    return entries


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value if value is not None else "0"))
    except ValueError:
        raise RetailError(400, f"{name} must be a number.") from None


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value if value is not None else ""))
    except ArithmeticError:
        raise RetailError(400, f"{name} must be a number.") from None


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
