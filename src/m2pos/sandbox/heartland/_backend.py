"""The Heartland Retail sandbox's data and rules: customers, items, locations, inventory values,
sales orders (lines, distributions, shipping charge, payments, invoices) and tickets.

Stock bookkeeping per (item, location) [pos-apis §4]: ``qty_on_hand``; ``qty_committed`` (held by
distributed sales-order lines); ``qty_available = on hand − committed``. Distributing a line commits
its quantity at the ship-from location; invoicing takes it off hand and releases the commitment;
cancelling an order releases what it committed; a completed ticket moves stock by its lines
(negative quantities, returns, put it back). Heartland orders cannot hold negative quantities
(product-behaviour §2.3), invoices cannot be re-saved. See ``docs/sandbox-heartland.md``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from m2pos.sandbox.onsite._catalog import demo_customers, demo_products

ZERO = Decimal(0)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Fields Heartland requires of a customer [I]: see docs/sandbox-heartland.md.
REQUIRED_CUSTOMER = ("first_name", "last_name", "email")
REQUIRED_ADDRESS = ("line_1", "city", "state", "postal_code", "country")


class HeartlandError(Exception):
    """An API error: ``status`` and Heartland's JSON body (``error``, ``message``, ``details``)."""

    def __init__(self, status: int, message: str, details: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        names = {400: "bad_request", 401: "unauthorized", 404: "not_found", 422: "invalid_record"}
        out: dict[str, Any] = {"error": names.get(self.status, "error"), "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dec(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable value is the client's error
        raise HeartlandError(400, f"{name} must be a number", {name: ["is not a number"]}) from None


@dataclass
class Record:
    id: int
    data: dict[str, Any]


@dataclass
class Config:
    token: str = "heartland-sandbox-token"  # noqa: S105 - the demo token
    rate_limit_per_second: int = 0  # 0: off; else 429 above that many API requests per second


@dataclass
class Store:
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    locations: dict[int, dict[str, Any]] = field(default_factory=dict)
    shipping_methods: dict[int, dict[str, Any]] = field(default_factory=dict)
    payment_types: dict[int, dict[str, Any]] = field(default_factory=dict)
    inventory: dict[tuple[int, int], dict[str, Decimal]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 100


class Backend:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.lock = threading.RLock()
        self.s = Store()

    def _id(self) -> int:
        self.s.next_id += 1
        return self.s.next_id

    # -- demo data -----------------------------------------------------------------------------

    def populate(self, products: int, seed: int) -> None:
        with self.lock:
            self.s.locations = {1: {"id": 1, "name": "Online", "public_id": "WEB"}}
            self.s.locations[2] = {"id": 2, "name": "Main Street", "public_id": "MAIN"}
            self.s.shipping_methods = {1: {"id": 1, "name": "Web Shipping"}, 2: {"id": 2, "name": "Pickup"}}
            names = ("Cash", "Credit Card", "Gift Card", "Magento")
            self.s.payment_types = {i: {"id": i, "name": n} for i, n in enumerate(names, start=1)}
            for p in demo_products(products, seed):
                if p.master_model:
                    continue  # Heartland items are the variants; a configurable parent is no item
                item = self.create_item(
                    {
                        "public_id": p.code,
                        "description": p.description,
                        "price": str(p.sell_price),
                        "cost": str(p.cost),
                        "custom": {"upc": p.upc},
                        "track_inventory": p.inventoried,
                    }
                )
                if p.inventoried:
                    self.set_on_hand(item["id"], 1, p.stock)
            for c in demo_customers(seed):
                a = c.address
                self.create_customer(
                    {
                        "first_name": c.first,
                        "last_name": c.last,
                        "email": c.email,
                        "phone": c.phone,
                        "address": {
                            "line_1": a.get("address1", ""),
                            "city": a.get("city", ""),
                            "state": a.get("state", ""),
                            "postal_code": a.get("zip", ""),
                            "country": a.get("country", ""),
                        },
                    }
                )

    # -- customers ----------------------------------------------------------------------------

    def create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            details: dict[str, list[str]] = {}
            for name in REQUIRED_CUSTOMER:
                if not str(body.get(name) or "").strip():
                    details[name] = ["can't be blank"]
            email = str(body.get("email") or "").strip()
            if email and not _EMAIL.match(email):
                details["email"] = ["is invalid"]
            address = body.get("address")
            if address is not None:
                if not isinstance(address, dict):
                    raise HeartlandError(400, "address must be an object")
                for name in REQUIRED_ADDRESS:
                    if not str(address.get(name) or "").strip():
                        details[f"address.{name}"] = ["can't be blank"]
            if details:
                raise HeartlandError(422, "Validation failed: the customer is incomplete", details)
            cid = self._id()
            record = {
                "id": cid,
                "public_id": f"C-{cid}",
                "first_name": str(body["first_name"]).strip(),
                "last_name": str(body["last_name"]).strip(),
                "email": email,
                "phone": str(body.get("phone") or ""),
                "company": str(body.get("company") or ""),
                "address": dict(address) if address else None,
                "shipping_address": body.get("shipping_address"),
                "active": True,
                "created_at": _now(),
                "updated_at": _now(),
            }
            self.s.customers[cid] = record
            return dict(record)

    def update_customer(self, cid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = self._get(self.s.customers, cid, "customer")
            for key in ("address", "shipping_address", "phone"):
                if key in body:
                    record[key] = body[key]
            record["updated_at"] = _now()
            return dict(record)

    # -- items and stock ----------------------------------------------------------------------

    def create_item(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            public_id = str(body.get("public_id") or "").strip()
            if not public_id or not str(body.get("description") or "").strip():
                raise HeartlandError(
                    422,
                    "Validation failed",
                    {k: ["can't be blank"] for k in ("public_id", "description") if not body.get(k)},
                )
            if any(i["public_id"] == public_id for i in self.s.items.values()):
                raise HeartlandError(422, "Validation failed", {"public_id": ["has already been taken"]})
            iid = self._id()
            record = {
                "id": iid,
                "public_id": public_id,
                "description": str(body["description"]),
                "price": str(dec(body.get("price", 0), "price")),
                "cost": str(dec(body.get("cost", 0), "cost")),
                "custom": dict(body.get("custom") or {}),
                "track_inventory": bool(body.get("track_inventory", True)),
                "active": bool(body.get("active", True)),
                "created_at": _now(),
                "updated_at": _now(),
            }
            self.s.items[iid] = record
            return dict(record)

    def update_item(self, iid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = self._get(self.s.items, iid, "item")
            for key in ("description", "active", "public_id", "price"):
                if key in body:
                    record[key] = body[key]
            return dict(record)

    def _stock(self, item_id: int, location_id: int) -> dict[str, Decimal]:
        return self.s.inventory.setdefault(
            (item_id, location_id), {"qty_on_hand": ZERO, "qty_committed": ZERO}
        )

    def set_on_hand(self, item_id: int, location_id: int, qty: Decimal) -> None:
        with self.lock:
            self._stock(item_id, location_id)["qty_on_hand"] = Decimal(qty)

    def values(self, item_id: int, location_id: int) -> dict[str, Any]:
        stock = self._stock(item_id, location_id)
        on_hand, committed = stock["qty_on_hand"], stock["qty_committed"]
        return {
            "item_id": item_id,
            "location_id": location_id,
            "qty_on_hand": str(on_hand),
            "qty_committed": str(committed),
            "qty_available": str(on_hand - committed),
        }

    def _tracked(self, item_id: int | None) -> bool:
        item = self.s.items.get(item_id or 0)
        return bool(item and item["track_inventory"])

    # -- sales orders -------------------------------------------------------------------------

    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            cid = body.get("customer_id")
            if cid is None or int(cid) not in self.s.customers:
                raise HeartlandError(422, "Validation failed", {"customer_id": ["must exist"]})
            loc = body.get("source_location_id")
            if loc is None or int(loc) not in self.s.locations:
                raise HeartlandError(422, "Validation failed", {"source_location_id": ["must exist"]})
            oid = self._id()
            record: dict[str, Any] = {
                "id": oid,
                "public_id": f"S-{oid}",
                "status": "pending",
                "customer_id": int(cid),
                "source_location_id": int(loc),
                "custom": dict(body.get("custom") or {}),
                "notes": str(body.get("notes") or ""),
                "shipping_address": body.get("shipping_address"),
                "billing_address": body.get("billing_address"),
                "lines": [],
                "shipping": None,
                "payments": [],
                "created_at": _now(),
                "updated_at": _now(),
            }
            self.s.orders[oid] = record
            return self.render_order(record)

    def render_order(self, order: dict[str, Any]) -> dict[str, Any]:
        lines = [
            dict(line, distributions=[dict(d) for d in line["distributions"]]) for line in order["lines"]
        ]
        total = sum((Decimal(line["qty"]) * Decimal(line["unit_price"]) for line in order["lines"]), ZERO)
        if order["shipping"]:
            total += Decimal(order["shipping"]["amount"])
        paid = sum((Decimal(p["amount"]) for p in order["payments"]), ZERO)
        invoices = [i["id"] for i in self.s.invoices.values() if i["order_id"] == order["id"]]
        return dict(
            order,
            lines=lines,
            payments=[dict(p) for p in order["payments"]],
            shipping=dict(order["shipping"]) if order["shipping"] else None,
            total=str(total),
            total_paid=str(paid),
            invoice_ids=invoices,
        )

    def order(self, oid: int) -> dict[str, Any]:
        with self.lock:
            return self.render_order(self._get(self.s.orders, oid, "sales order"))

    def _editable(self, oid: int) -> dict[str, Any]:
        order = self._get(self.s.orders, oid, "sales order")
        if order["status"] not in ("pending", "open"):
            raise HeartlandError(
                422, f"Sales order {order['public_id']} is {order['status']} and cannot change"
            )
        return order

    def add_line(self, oid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order = self._editable(oid)
            item_id = body.get("item_id")
            if item_id is None or int(item_id) not in self.s.items:
                raise HeartlandError(422, "Validation failed", {"item_id": ["must exist"]})
            item = self.s.items[int(item_id)]
            if not item["active"]:
                raise HeartlandError(422, "Validation failed", {"item_id": ["is inactive"]})
            qty = dec(body.get("qty"), "qty")
            if qty <= 0:  # Heartland orders cannot hold negative quantities
                raise HeartlandError(422, "Validation failed", {"qty": ["must be greater than 0"]})
            price = dec(body.get("unit_price", item["price"]), "unit_price")
            line = {
                "id": self._id(),
                "item_id": int(item_id),
                "qty": str(qty),
                "unit_price": str(price),
                "description": str(body.get("description") or item["description"]),
                "distributions": [],
                "qty_invoiced": "0",
            }
            order["lines"].append(line)
            order["updated_at"] = _now()
            return dict(line)

    def _line(self, order: dict[str, Any], line_id: int) -> dict[str, Any]:
        for line in order["lines"]:
            if line["id"] == line_id:
                found: dict[str, Any] = line
                return found
        raise HeartlandError(404, f"Line {line_id} not found on sales order {order['public_id']}")

    def _committed(self, line: dict[str, Any]) -> Decimal:
        return sum((Decimal(d["qty"]) for d in line["distributions"]), ZERO) - Decimal(line["qty_invoiced"])

    def _release(self, line: dict[str, Any]) -> None:
        if not self._tracked(line["item_id"]):
            return
        left = self._committed(line)
        for d in reversed(line["distributions"]):
            if left <= 0:
                break
            stock = self._stock(line["item_id"], d["location_id"])
            take = min(left, Decimal(d["qty"]))
            stock["qty_committed"] -= take
            left -= take

    def set_line_qty(self, oid: int, line_id: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order = self._editable(oid)
            line = self._line(order, line_id)
            qty = dec(body.get("qty"), "qty")
            if qty <= 0:
                raise HeartlandError(422, "Validation failed", {"qty": ["must be greater than 0"]})
            if qty < Decimal(line["qty_invoiced"]):
                raise HeartlandError(
                    422, "Validation failed", {"qty": ["is less than the invoiced quantity"]}
                )
            if qty < sum((Decimal(d["qty"]) for d in line["distributions"]), ZERO):
                self._release(line)
                line["distributions"] = [
                    {"location_id": d["location_id"], "qty": str(qty)} for d in line["distributions"][:1]
                ]
                self._commit(line)
            line["qty"] = str(qty)
            return dict(line)

    def delete_line(self, oid: int, line_id: int) -> None:
        with self.lock:
            order = self._editable(oid)
            line = self._line(order, line_id)
            if Decimal(line["qty_invoiced"]) > 0:
                raise HeartlandError(422, "An invoiced line cannot be removed")
            self._release(line)
            order["lines"] = [x for x in order["lines"] if x["id"] != line_id]

    def _commit(self, line: dict[str, Any]) -> None:
        if not self._tracked(line["item_id"]):
            return
        for d in line["distributions"]:
            self._stock(line["item_id"], d["location_id"])["qty_committed"] += Decimal(d["qty"])

    def distribute(self, oid: int, line_id: int, body: Any) -> dict[str, Any]:
        """PUT the line's distributions (a replacement: doing it twice is harmless)."""
        with self.lock:
            order = self._editable(oid)
            line = self._line(order, line_id)
            if not isinstance(body, list):
                raise HeartlandError(400, "distributions must be a list of {location_id, qty}")
            new: list[dict[str, Any]] = []
            for d in body:
                loc = int(d.get("location_id", 0))
                if loc not in self.s.locations:
                    raise HeartlandError(422, "Validation failed", {"location_id": ["must exist"]})
                new.append({"location_id": loc, "qty": str(dec(d.get("qty"), "qty"))})
            if sum((Decimal(d["qty"]) for d in new), ZERO) > Decimal(line["qty"]):
                raise HeartlandError(422, "Validation failed", {"qty": ["exceeds the line quantity"]})
            if Decimal(line["qty_invoiced"]) > 0:
                raise HeartlandError(422, "An invoiced line cannot be redistributed")
            self._release(line)
            line["distributions"] = new
            self._commit(line)
            return dict(line)

    def set_shipping(self, oid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order = self._editable(oid)
            method = int(body.get("shipping_method_id", 0))
            if method not in self.s.shipping_methods:
                raise HeartlandError(422, "Validation failed", {"shipping_method_id": ["must exist"]})
            amount = dec(body.get("amount", 0), "amount")
            if amount < 0:
                raise HeartlandError(422, "Validation failed", {"amount": ["must be 0 or more"]})
            order["shipping"] = {"shipping_method_id": method, "amount": str(amount)}
            return dict[str, Any](order["shipping"])

    def add_payment(self, oid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order = self._editable(oid)
            ptype = int(body.get("payment_type_id", 0))
            if ptype not in self.s.payment_types:
                raise HeartlandError(422, "Validation failed", {"payment_type_id": ["must exist"]})
            amount = dec(body.get("amount"), "amount")
            payment = {
                "id": self._id(),
                "payment_type_id": ptype,
                "amount": str(amount),
                "reference": str(body.get("reference") or ""),
            }
            order["payments"].append(payment)
            return dict(payment)

    def update_order(self, oid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order = self._get(self.s.orders, oid, "sales order")
            status = body.get("status")
            if status is not None and status != order["status"]:
                allowed = {"pending": ("open", "canceled"), "open": ("canceled",)}
                if status not in allowed.get(order["status"], ()):
                    raise HeartlandError(
                        422, f"Sales order {order['public_id']} cannot go from {order['status']} to {status}"
                    )
                if status == "canceled":
                    if any(Decimal(line["qty_invoiced"]) > 0 for line in order["lines"]):
                        raise HeartlandError(422, "A sales order with invoices cannot be canceled")
                    for line in order["lines"]:
                        self._release(line)
                order["status"] = status
            if isinstance(body.get("custom"), dict):
                order["custom"].update(body["custom"])
            order["updated_at"] = _now()
            return self.render_order(order)

    def invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        """Invoice what is distributed and not yet invoiced: off hand, commitment released."""
        with self.lock:
            order = self._get(self.s.orders, int(body.get("order_id", 0)), "sales order")
            if order["status"] != "open":
                raise HeartlandError(422, f"Sales order {order['public_id']} is {order['status']}, not open")
            lines = []
            for line in order["lines"]:
                qty = self._committed(line)
                if qty <= 0:
                    continue
                if self._tracked(line["item_id"]):
                    self._release(line)
                    for d in line["distributions"]:
                        self._stock(line["item_id"], d["location_id"])["qty_on_hand"] -= Decimal(d["qty"])
                line["qty_invoiced"] = str(Decimal(line["qty_invoiced"]) + qty)
                lines.append(
                    {
                        "order_line_id": line["id"],
                        "item_id": line["item_id"],
                        "qty": str(qty),
                        "unit_price": line["unit_price"],
                    }
                )
            if not lines:
                raise HeartlandError(
                    422, f"Sales order {order['public_id']} has nothing distributed to invoice"
                )
            iid = self._id()
            invoice = {
                "id": iid,
                "public_id": f"I-{iid}",
                "order_id": order["id"],
                "lines": lines,
                "created_at": _now(),
            }
            self.s.invoices[iid] = invoice
            if all(Decimal(x["qty_invoiced"]) >= Decimal(x["qty"]) for x in order["lines"]):
                order["status"] = "closed"
            return dict(invoice)

    # -- tickets ------------------------------------------------------------------------------

    def create_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            cid = body.get("customer_id")
            if cid is not None and int(cid) not in self.s.customers:
                raise HeartlandError(422, "Validation failed", {"customer_id": ["must exist"]})
            loc = int(body.get("source_location_id", 0))
            if loc not in self.s.locations:
                raise HeartlandError(422, "Validation failed", {"source_location_id": ["must exist"]})
            tid = self._id()
            ticket: dict[str, Any] = {
                "id": tid,
                "public_id": f"T-{tid}",
                "status": "pending",
                "customer_id": int(cid) if cid is not None else None,
                "source_location_id": loc,
                "custom": dict(body.get("custom") or {}),
                "notes": str(body.get("notes") or ""),
                "original_order_id": body.get("original_order_id"),
                "lines": [],
                "created_at": _now(),
            }
            self.s.tickets[tid] = ticket
            return dict(ticket, lines=[])

    def add_ticket_line(self, tid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            ticket = self._get(self.s.tickets, tid, "ticket")
            if ticket["status"] != "pending":
                raise HeartlandError(422, f"Ticket {ticket['public_id']} is {ticket['status']}")
            item_id = body.get("item_id")
            if item_id is None or int(item_id) not in self.s.items:
                raise HeartlandError(422, "Validation failed", {"item_id": ["must exist"]})
            qty = dec(body.get("qty"), "qty")
            if qty == 0:
                raise HeartlandError(422, "Validation failed", {"qty": ["must not be 0"]})
            line = {
                "id": self._id(),
                "item_id": int(item_id),
                "qty": str(qty),
                "unit_price": str(dec(body.get("unit_price", 0), "unit_price")),
                "description": str(body.get("description") or self.s.items[int(item_id)]["description"]),
            }
            ticket["lines"].append(line)
            return dict(line)

    def update_ticket(self, tid: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            ticket = self._get(self.s.tickets, tid, "ticket")
            status = body.get("status")
            if status is not None and status != ticket["status"]:
                if ticket["status"] != "pending" or status not in ("complete", "voided"):
                    raise HeartlandError(
                        422, f"Ticket {ticket['public_id']} cannot go from {ticket['status']} to {status}"
                    )
                if status == "complete":
                    for line in ticket["lines"]:
                        if self._tracked(line["item_id"]):
                            stock = self._stock(line["item_id"], ticket["source_location_id"])
                            stock["qty_on_hand"] -= Decimal(line["qty"])
                ticket["status"] = status
            if isinstance(body.get("custom"), dict):
                ticket["custom"].update(body["custom"])
            return self.ticket(tid)

    def ticket(self, tid: int) -> dict[str, Any]:
        with self.lock:
            ticket = self._get(self.s.tickets, tid, "ticket")
            return dict(ticket, lines=[dict(x) for x in ticket["lines"]])

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _get(table: dict[int, dict[str, Any]], key: int, what: str) -> dict[str, Any]:
        record = table.get(int(key))
        if record is None:
            raise HeartlandError(404, f"The {what} {key} was not found")
        return record
