"""The sandbox's "OnSite server": customers, products, inventory, orders and invoices over the store.

Both the XML routes and the control interface call these methods, so a control action and the
equivalent API call change the data the same way. Each write is one SQLite transaction.

Inventory bookkeeping (per product, ``product_inventory``):

* ``total`` is on hand. An invoice line deducts its quantity when it is added (a negative quantity —
  a return — adds it back); changing or deleting the line, or voiding the invoice, undoes that.
* ``reserved`` is the sum of the reserved quantities of the lines of open orders. A line added with
  ``reserved`` holds its quantity; voiding the order, or converting it to an invoice (which then
  deducts ``total``), releases it.
* ``available = total − reserved``; it may go negative (OnSite shows negative availability).

Every change of ``total`` or ``reserved`` is written to ``stock_movements`` (control interface).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from m2pos.sandbox.onsite._catalog import PAYMENT_METHODS, TAX_CODES, demo_customers, demo_products
from m2pos.sandbox.onsite._errors import bad_request, not_found
from m2pos.sandbox.onsite._filter import Field, compile_filter, compile_order
from m2pos.sandbox.onsite._store import Row, Store
from m2pos.sandbox.onsite._xml import q2, q3

ZERO = Decimal("0")
KINDS = ("order", "invoice")
PREFIX = {"order": "O", "invoice": "I"}
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "zip", "country")
CUSTOMER_TEXT = ("first", "last", "company", "email", "phone", "mobile")
DOC_CUSTOMER_FIELDS = ("mainname", "phone_email", "phone", "mainphone", "zip", "contact", "contact_info")
INVENTORY_FIELDS = (
    "total",
    "reserved",
    "coming_for_stock",
    "coming_for_customer",
    "warehouses",
    "in_transit",
)


@dataclass
class OnSiteConfig:
    seats: int = 5
    lock_timeout_seconds: float = 60.0
    demo_app_enabled: bool = True
    default_tax_code: str = "No Tax"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def now_text() -> str:
    """OnSite's timestamp format, e.g. ``2015-03-19T01:32:06.310836`` (here: UTC, no offset)."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def dec(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return q3(Decimal(str(value)))


def _blob(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def _unblob(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    out: dict[str, Any] = orjson.loads(raw)
    return out


# -- filterable fields per collection ------------------------------------------------------------------

_DATES = {"datetime_created": Field("datetime_created"), "datetime_modified": Field("datetime_modified")}
CUSTOMER_FIELDS: dict[str, Field] = {
    "id": Field("id", "number"),
    "email": Field("email"),
    "name.first": Field("first"),
    "name.last": Field("last"),
    "first_name": Field("first"),
    "last_name": Field("last"),
    "company": Field("company"),
    "phone": Field("phone"),
    "merged_to": Field("merged_to", "ref"),
    "merged_to.customer": Field("merged_to", "ref"),
    **_DATES,
}
PRODUCT_FIELDS: dict[str, Field] = {
    "id": Field("id", "number"),
    "code": Field("code"),
    "upc": Field("upc"),
    "manufacturer_sku": Field("manufacturer_sku"),
    "description": Field("description"),
    "sell_price": Field("sell_price", "number"),
    "cost": Field("cost", "number"),
    **{
        f"flags.{f}": Field(f, "bool")
        for f in ("inventoried", "editable_sell", "master_model", "current", "web")
    },
    "flags.taxable": Field("taxable", "bool"),
    **_DATES,
}
INVENTORY_FILTER_FIELDS: dict[str, Field] = {
    "id": Field("inventory.product_id", "number"),
    "product": Field("inventory.product_id", "number"),
    "product.id": Field("inventory.product_id", "number"),
    "code": Field("products.code"),
    "product.code": Field("products.code"),
    "total": Field("inventory.total", "number"),
    "reserved": Field("inventory.reserved", "number"),
    "available": Field("(inventory.total - inventory.reserved)", "number"),
}


def _document_fields(kind: str) -> dict[str, Field]:
    block = f"{kind}_customer"
    out: dict[str, Field] = {
        "id": Field("id", "number"),
        "document_id": Field("id", "number"),
        f"{kind}_id": Field(f"('{PREFIX[kind]}-' || id)"),
        "import_id": Field("import_id"),
        "status": Field("status"),
        "flags.voided": Field("voided", "bool"),
        "customer": Field("customer_id", "ref"),
        f"{block}.customer": Field("customer_id", "ref"),
        f"{block}.mainname": Field("mainname"),
        f"{block}.po": Field("po"),
        "po": Field("po"),
        "shipping_method": Field("shipping_method"),
        **_DATES,
    }
    if kind == "order":
        out["web_order_number"] = Field("web_order_number")
    else:
        out["returned_invoice"] = Field("returned_invoice_id", "ref")
        out["flags.posted"] = Field("posted", "bool")
    return out


DOCUMENT_FIELDS = {kind: _document_fields(kind) for kind in KINDS}
SIMPLE_FIELDS: dict[str, Field] = {"id": Field("id", "number"), "name": Field("name")}


@dataclass
class Page:
    total: int
    items: list[dict[str, Any]]


class Backend:
    def __init__(self, store: Store, config: OnSiteConfig) -> None:
        self.store = store
        self.config = config

    # -- demo data ---------------------------------------------------------------------------------

    def populate(self, products: int, seed: int) -> None:
        """Create the demo data unless the store already has it (a reused ``db_path``)."""
        if self.store.get_meta("populated"):
            return
        rng = random.Random(seed)
        with self.store.transaction():
            for name, rate in TAX_CODES:
                self.store.insert("tax_codes", {"name": name, "rate": float(rate)})
            for name in PAYMENT_METHODS:
                self.store.insert("payment_methods", {"name": name})
            for p in demo_products(products, seed):
                self.create_product(
                    {
                        "code": p.code,
                        "upc": p.upc,
                        "manufacturer_sku": p.manufacturer_sku,
                        "description": p.description,
                        "sell_price": p.sell_price,
                        "cost": p.cost,
                        "flags": {
                            "inventoried": p.inventoried,
                            "master_model": p.master_model,
                            "taxable": p.taxable,
                            "editable_sell": rng.random() < 0.2,
                        },
                    },
                    initial_stock=p.stock,
                )
            previous = 0
            for c in demo_customers(seed):
                data: dict[str, Any] = {
                    "first": c.first,
                    "last": c.last,
                    "email": c.email,
                    "phone": c.phone,
                    "billing_address": c.address,
                    "shipping_address": c.address,
                }
                cid = self.create_customer(data)
                if c.merged_into_previous:
                    self.merge_customers(cid, previous)
                previous = cid
            self.store.set_meta("populated", "1")

    # -- helpers -----------------------------------------------------------------------------------

    def _page(
        self,
        table: str,
        fields: dict[str, Field],
        filter_text: str,
        order_by: str,
        count: int | None,
        offset: int,
        scope: str = "",
        scope_params: tuple[Any, ...] = (),
        select: str = "*",
        join: str = "",
        key: str = "id",
    ) -> tuple[int, list[Row]]:
        where, params = compile_filter(filter_text, fields)
        clauses = [c for c in (scope, where) if c]
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        all_params = [*scope_params, *params]
        total = int(self.store.scalar(f"SELECT COUNT(*) FROM {table} {join}{sql_where}", all_params))  # noqa: S608
        order = compile_order(order_by, fields) if order_by else ""
        order = f"{order}, {key}" if order else key
        sql = f"SELECT {select} FROM {table} {join}{sql_where} ORDER BY {order}"  # noqa: S608
        if count is not None:
            sql += f" LIMIT {int(count)} OFFSET {int(offset)}"
        elif offset:
            sql += f" LIMIT -1 OFFSET {int(offset)}"
        return total, self.store.all(sql, all_params)

    # -- customers ---------------------------------------------------------------------------------

    def _customer_row(self, cid: int) -> Row:
        row = self.store.one("SELECT * FROM customers WHERE id = ?", (cid,))
        if row is None:
            raise not_found(f"Customer {cid} does not exist.")
        return row

    @staticmethod
    def _customer_dict(row: Row) -> dict[str, Any]:
        extra = _unblob(row["extra"])
        return {
            "id": row["id"],
            **{k: row[k] or "" for k in CUSTOMER_TEXT},
            "merged_to": row["merged_to"],
            "billing_address": extra.get("billing_address", {}),
            "shipping_address": extra.get("shipping_address", {}),
            "notes": extra.get("notes", ""),
            "datetime_created": row["datetime_created"],
            "datetime_modified": row["datetime_modified"],
        }

    def get_customer(self, cid: int) -> dict[str, Any]:
        return self._customer_dict(self._customer_row(cid))

    def list_customers(
        self, filter_text: str = "", order_by: str = "", count: int | None = None, offset: int = 0
    ) -> Page:
        total, rows = self._page("customers", CUSTOMER_FIELDS, filter_text, order_by, count, offset)
        return Page(total, [self._customer_dict(r) for r in rows])

    def create_customer(self, data: dict[str, Any]) -> int:
        if not any((data.get(k) or "").strip() for k in ("first", "last", "company")):
            raise bad_request(
                "A customer needs a first name, a last name or a company (name/first, name/last)."
            )
        stamp = now_text()
        extra: dict[str, Any] = {
            k: data[k] for k in ("billing_address", "shipping_address", "notes") if k in data
        }
        row = {k: data.get(k, "") or "" for k in CUSTOMER_TEXT}
        row |= {"datetime_created": stamp, "datetime_modified": stamp, "extra": _blob(extra)}
        with self.store.transaction():
            return self.store.insert("customers", row)

    def update_customer(self, cid: int, data: dict[str, Any]) -> None:
        with self.store.transaction():
            row = self._customer_row(cid)
            extra = _unblob(row["extra"])
            changes: Row = {k: data[k] for k in CUSTOMER_TEXT if k in data}
            for k in ("billing_address", "shipping_address"):
                if k in data:
                    extra[k] = {**extra.get(k, {}), **data[k]}
            if "notes" in data:
                extra["notes"] = data["notes"]
            merged = {**row, **changes}
            if not any((merged.get(k) or "").strip() for k in ("first", "last", "company")):
                raise bad_request("A customer needs a first name, a last name or a company.")
            changes |= {"extra": _blob(extra), "datetime_modified": now_text()}
            self.store.update("customers", "id", cid, changes)

    def merge_customers(self, merged_id: int, into_id: int) -> None:
        """OnSite's merge: the merged record stays, with ``merged_to`` pointing to the survivor."""
        if merged_id == into_id:
            raise bad_request("A customer cannot be merged into itself.")
        with self.store.transaction():
            self._customer_row(merged_id)
            self._customer_row(into_id)
            self.store.update(
                "customers", "id", merged_id, {"merged_to": into_id, "datetime_modified": now_text()}
            )

    # -- products and inventory --------------------------------------------------------------------

    def _product_row(self, pid: int) -> Row:
        row = self.store.one("SELECT * FROM products WHERE id = ?", (pid,))
        if row is None:
            raise not_found(f"Product {pid} does not exist.")
        return row

    def _inventory_row(self, pid: int) -> Row:
        row = self.store.one("SELECT * FROM inventory WHERE product_id = ?", (pid,))
        if row is None:
            raise not_found(f"Product {pid} does not exist.")
        return row

    @staticmethod
    def _inventory_dict(row: Row, code: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"product_id": row["product_id"]}
        if code is not None:
            out["code"] = code
        for k in INVENTORY_FIELDS:
            out[k] = dec(row[k])
        out["available"] = out["total"] - out["reserved"]
        return out

    def _product_dict(self, row: Row, inventory: Row | None = None) -> dict[str, Any]:
        inv = inventory if inventory is not None else self._inventory_row(row["id"])
        return {
            "id": row["id"],
            "code": row["code"] or "",
            "upc": row["upc"] or "",
            "manufacturer_sku": row["manufacturer_sku"] or "",
            "description": row["description"] or "",
            "long_description": row["long_description"] or "",
            "sell_price": dec(row["sell_price"]),
            "cost": dec(row["cost"]),
            "flags": {
                f: bool(row[f])
                for f in ("inventoried", "editable_sell", "master_model", "current", "web", "taxable")
            },
            "inventory": self._inventory_dict(inv),
            "datetime_created": row["datetime_created"],
            "datetime_modified": row["datetime_modified"],
        }

    def get_product(self, pid: int) -> dict[str, Any]:
        return self._product_dict(self._product_row(pid))

    def find_product(self, code_or_id: str | int) -> dict[str, Any]:
        """By id (an int) or by code (a str) — for the control interface."""
        if isinstance(code_or_id, int):
            return self.get_product(code_or_id)
        row = self.store.one("SELECT * FROM products WHERE code = ? ORDER BY id", (code_or_id,))
        if row is None:
            raise not_found(f"No product has the code {code_or_id!r}.")
        return self._product_dict(row)

    def list_products(
        self, filter_text: str = "", order_by: str = "", count: int | None = None, offset: int = 0
    ) -> Page:
        total, rows = self._page("products", PRODUCT_FIELDS, filter_text, order_by, count, offset)
        if not rows:
            return Page(total, [])
        ids = [r["id"] for r in rows]
        marks = ", ".join("?" * len(ids))
        invs = {
            r["product_id"]: r
            for r in self.store.all(f"SELECT * FROM inventory WHERE product_id IN ({marks})", ids)  # noqa: S608
        }
        return Page(total, [self._product_dict(r, invs[r["id"]]) for r in rows])

    def create_product(self, data: dict[str, Any], initial_stock: Decimal = ZERO) -> int:
        code = (data.get("code") or "").strip()
        if not code:
            raise bad_request("A product needs a code (the product ID).")
        flags = data.get("flags", {})
        stamp = now_text()
        row = {
            "code": code,
            "upc": data.get("upc", "") or "",
            "manufacturer_sku": data.get("manufacturer_sku", "") or "",
            "description": data.get("description", "") or "",
            "long_description": data.get("long_description", "") or "",
            "sell_price": float(q3(data.get("sell_price") or ZERO)),
            "cost": float(q3(data.get("cost") or ZERO)),
            "inventoried": int(flags.get("inventoried", True)),
            "editable_sell": int(flags.get("editable_sell", False)),
            "master_model": int(flags.get("master_model", False)),
            "current": int(flags.get("current", True)),
            "web": int(flags.get("web", True)),
            "taxable": int(flags.get("taxable", True)),
            "datetime_created": stamp,
            "datetime_modified": stamp,
        }
        with self.store.transaction():
            if self.store.scalar("SELECT 1 FROM products WHERE code = ?", (code,)):
                raise bad_request(f"A product with the code {code!r} already exists.")
            pid = self.store.insert("products", row)
            self.store.insert(
                "inventory",
                {"product_id": pid, **{k: 0.0 for k in INVENTORY_FIELDS}, "datetime_modified": stamp},
            )
            if initial_stock:
                self._move(pid, "total", initial_stock, "initial_stock")
            return pid

    def update_product(self, pid: int, data: dict[str, Any]) -> None:
        with self.store.transaction():
            self._product_row(pid)
            changes: Row = {}
            for k in ("code", "upc", "manufacturer_sku", "description", "long_description"):
                if k in data:
                    changes[k] = data[k] or ""
            for k in ("sell_price", "cost"):
                if data.get(k) is not None:
                    changes[k] = float(q3(data[k]))
            for k, v in data.get("flags", {}).items():
                changes[k] = int(bool(v))
            if "code" in changes:
                code = changes["code"].strip()
                if not code:
                    raise bad_request("A product needs a code (the product ID).")
                if self.store.scalar("SELECT 1 FROM products WHERE code = ? AND id != ?", (code, pid)):
                    raise bad_request(f"A product with the code {code!r} already exists.")
            changes["datetime_modified"] = now_text()
            self.store.update("products", "id", pid, changes)

    def get_inventory(self, pid: int) -> dict[str, Any]:
        row = self._inventory_row(pid)
        code = self.store.scalar("SELECT code FROM products WHERE id = ?", (pid,))
        return self._inventory_dict(row, code)

    def list_inventory(
        self, filter_text: str = "", order_by: str = "", count: int | None = None, offset: int = 0
    ) -> Page:
        total, rows = self._page(
            "inventory",
            INVENTORY_FILTER_FIELDS,
            filter_text,
            order_by,
            count,
            offset,
            select="inventory.*, products.code AS code",
            join="JOIN products ON products.id = inventory.product_id",
            key="inventory.product_id",
        )
        return Page(total, [self._inventory_dict(r, r["code"]) for r in rows])

    def _move(
        self,
        pid: int,
        field_name: str,
        delta: Decimal,
        reason: str,
        kind: str | None = None,
        doc_id: int | None = None,
        line_id: int | None = None,
        note: str = "",
    ) -> None:
        if not delta:
            return
        with self.store.transaction():
            row = self._inventory_row(pid)
            after = dec(row[field_name]) + delta
            stamp = now_text()
            self.store.update(
                "inventory", "product_id", pid, {field_name: float(after), "datetime_modified": stamp}
            )
            self.store.insert(
                "stock_movements",
                {
                    "datetime": stamp,
                    "product_id": pid,
                    "field": field_name,
                    "delta": float(delta),
                    "after": float(after),
                    "reason": reason,
                    "kind": kind,
                    "doc_id": doc_id,
                    "lineitem_id": line_id,
                    "note": note,
                },
            )

    def adjust_inventory(
        self, pid: int, quantity: Decimal, note: str = "", reason: str = "adjust_inventory"
    ) -> None:
        with self.store.transaction():
            self._product_row(pid)
            self._move(pid, "total", q3(quantity), reason, note=note)

    def set_stock(self, pid: int, total: Decimal) -> None:
        with self.store.transaction():
            current = dec(self._inventory_row(pid)["total"])
            self._move(pid, "total", q3(total) - current, "set_stock")

    def movements(self, pid: int | None = None) -> list[dict[str, Any]]:
        if pid is None:
            rows = self.store.all("SELECT * FROM stock_movements ORDER BY id")
        else:
            rows = self.store.all("SELECT * FROM stock_movements WHERE product_id = ? ORDER BY id", (pid,))
        for r in rows:
            r["delta"], r["after"] = dec(r["delta"]), dec(r["after"])
        return rows

    # -- reference data ----------------------------------------------------------------------------

    def tax_code(self, tid: int) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM tax_codes WHERE id = ?", (tid,))
        if row is None:
            raise not_found(f"Tax code {tid} does not exist.")
        return {"id": row["id"], "name": row["name"], "rate": dec(row["rate"])}

    def list_simple(
        self, table: str, filter_text: str, order_by: str, count: int | None, offset: int
    ) -> Page:
        total, rows = self._page(table, SIMPLE_FIELDS, filter_text, order_by, count, offset)
        if table == "tax_codes":
            for r in rows:
                r["rate"] = dec(r["rate"])
        return Page(total, rows)

    def payment_method(self, pmid: int) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM payment_methods WHERE id = ?", (pmid,))
        if row is None:
            raise not_found(f"Payment method {pmid} does not exist.")
        return row

    def add_payment_method(self, name: str) -> int:
        with self.store.transaction():
            if self.store.scalar("SELECT 1 FROM payment_methods WHERE lower(name) = lower(?)", (name,)):
                raise bad_request(f"The payment method {name!r} already exists.")
            return self.store.insert("payment_methods", {"name": name})

    def _default_tax_code_id(self) -> int | None:
        found = self.store.scalar("SELECT id FROM tax_codes WHERE name = ?", (self.config.default_tax_code,))
        return None if found is None else int(found)

    # -- documents ---------------------------------------------------------------------------------

    def _doc_row(self, kind: str, doc_id: int) -> Row:
        row = self.store.one("SELECT * FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))
        if row is None:
            raise not_found(f"{kind.capitalize()} {doc_id} does not exist.")
        return row

    def require_document(self, kind: str, doc_id: int) -> None:
        """404 unless the document exists (cheaper than rendering it)."""
        self._doc_row(kind, doc_id)

    def _editable(self, kind: str, row: Row) -> None:
        if row["voided"]:
            raise bad_request(f"{kind.capitalize()} {row['id']} is voided and can no longer be changed.")
        if kind == "order" and row["converted_id"]:
            raise bad_request(f"Order {row['id']} was converted to an invoice and can no longer be changed.")
        if kind == "invoice" and row["posted"]:
            raise bad_request(f"Invoice {row['id']} is posted and can no longer be changed.")

    def _lines(self, kind: str, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {d: [] for d in doc_ids}
        if not doc_ids:
            return out
        marks = ", ".join("?" * len(doc_ids))
        rows = self.store.all(
            f"SELECT * FROM lineitems WHERE kind = ? AND doc_id IN ({marks}) ORDER BY id",  # noqa: S608
            [kind, *doc_ids],
        )
        for r in rows:
            out[r["doc_id"]].append(self._line_dict(r))
        return out

    def _payments(self, kind: str, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {d: [] for d in doc_ids}
        if not doc_ids:
            return out
        marks = ", ".join("?" * len(doc_ids))
        rows = self.store.all(
            f"SELECT * FROM payments WHERE kind = ? AND doc_id IN ({marks}) ORDER BY id",  # noqa: S608
            [kind, *doc_ids],
        )
        for r in rows:
            out[r["doc_id"]].append(self._payment_dict(r))
        return out

    @staticmethod
    def _line_dict(r: Row) -> dict[str, Any]:
        quantity, sell = dec(r["quantity"]), dec(r["sell_price"])
        return {
            "id": r["id"],
            "kind": r["kind"],
            "doc_id": r["doc_id"],
            "product_id": r["product_id"],
            "code": r["code"] or "",
            "description": r["description"] or "",
            "quantity": quantity,
            "sell_price": sell,
            "base_price": dec(r["base_price"]),
            "cost": dec(r["cost"]),
            "reserved": dec(r["reserved"]),
            "taxable": bool(r["taxable"]),
            "total": q2(quantity * sell),
            "datetime_created": r["datetime_created"],
            "datetime_modified": r["datetime_modified"],
        }

    @staticmethod
    def _payment_dict(r: Row) -> dict[str, Any]:
        return {
            "id": r["id"],
            "kind": r["kind"],
            "doc_id": r["doc_id"],
            "type": r["type"],
            "payment_method": r["payment_method"],
            "amount": q2(dec(r["amount"])),
            "tendered": q2(dec(r["tendered"])),
            "number": r["number"] or "",
            "authcode": r["authcode"] or "",
            "voided": bool(r["voided"]),
            "datetime_created": r["datetime_created"],
            "datetime_modified": r["datetime_modified"],
        }

    def _doc_dict(
        self,
        row: Row,
        lines: list[dict[str, Any]],
        payments: list[dict[str, Any]],
        tax_codes: dict[int, dict[str, Any]],
    ) -> dict[str, Any]:
        kind = row["kind"]
        extra = _unblob(row["extra"])
        tax = tax_codes.get(row["tax_code_id"]) if row["tax_code_id"] else None
        rate = tax["rate"] if tax else ZERO
        subtotal = sum((line["total"] for line in lines), ZERO)
        taxable = sum((line["total"] for line in lines if line["taxable"]), ZERO)
        tax_total = q2(taxable * rate / 100)
        cost = q2(sum((line["quantity"] * line["cost"] for line in lines), ZERO))
        total = q2(subtotal + tax_total)
        paid = q2(sum((p["amount"] for p in payments if not p["voided"]), ZERO))
        balance = q2(total - paid)
        profit = q2(subtotal - cost)
        totals = {
            "cost": cost,
            "subtotal": q2(subtotal),
            "profit": profit,
            "tax": tax_total,
            "credit": Decimal("0.00"),
            "total": total,
            "paid": paid,
            "balance": balance,
        }
        customer = {k: extra.get(k, "") for k in DOC_CUSTOMER_FIELDS}
        customer["mainname"] = row["mainname"] or ""
        customer["po"] = row["po"]
        customer["discount"] = dec(extra.get("discount", 0))
        out: dict[str, Any] = {
            "kind": kind,
            "id": row["id"],
            "display_id": f"{PREFIX[kind]}-{row['id']}",
            "customer_id": row["customer_id"],
            "customer": customer,
            "import_id": row["import_id"] or "",
            "status": self._status(row, totals),
            "voided": bool(row["voided"]),
            "posted": bool(row["posted"]),
            "tax_code": tax,
            "shipping_method": row["shipping_method"],
            "printed_notes": extra.get("printed_notes", ""),
            "internal_notes": extra.get("internal_notes", ""),
            "margin": q3(profit * 100 / subtotal) if subtotal else Decimal("0.000"),
            "lines": lines,
            "payments": payments,
            "totals": totals,
            "taxes": [{"id": tax["id"], "name": tax["name"], "rate": rate, "total": tax_total}]
            if tax
            else [],
            "datetime_created": row["datetime_created"],
            "datetime_modified": row["datetime_modified"],
        }
        if kind == "order":
            out["web_order_number"] = row["web_order_number"] or ""
            out["converted_invoice_id"] = row["converted_id"]
        else:
            out["returned_invoice_id"] = row["returned_invoice_id"]
            out["converted_from_order_id"] = row["converted_id"]
        return out

    @staticmethod
    def _status(row: Row, totals: dict[str, Decimal]) -> str:
        if row["kind"] == "order":
            if row["voided"]:
                return "Voided"
            if row["converted_id"]:
                return "Converted"
            return str(row["status"] or "Open")
        if row["voided"]:
            return "Voided"
        balance, paid = totals["balance"], totals["paid"]
        if balance < 0:
            return "Refund Due"
        if balance == 0:
            return "Paid"
        return "Partially Paid" if paid else "Unpaid"

    def _tax_codes(self) -> dict[int, dict[str, Any]]:
        return {
            r["id"]: {"id": r["id"], "name": r["name"], "rate": dec(r["rate"])}
            for r in self.store.all("SELECT * FROM tax_codes")
        }

    def get_document(self, kind: str, doc_id: int) -> dict[str, Any]:
        row = self._doc_row(kind, doc_id)
        return self._doc_dict(
            row,
            self._lines(kind, [doc_id])[doc_id],
            self._payments(kind, [doc_id])[doc_id],
            self._tax_codes(),
        )

    def list_documents(
        self, kind: str, filter_text: str = "", order_by: str = "", count: int | None = None, offset: int = 0
    ) -> Page:
        with self.store.lock:
            total, rows = self._page(
                "documents", DOCUMENT_FIELDS[kind], filter_text, order_by, count, offset, "kind = ?", (kind,)
            )
            ids = [r["id"] for r in rows]
            lines, payments, taxes = self._lines(kind, ids), self._payments(kind, ids), self._tax_codes()
        return Page(total, [self._doc_dict(r, lines[r["id"]], payments[r["id"]], taxes) for r in rows])

    def _check_customer(self, cid: int | None) -> Row | None:
        if cid is None:
            return None
        row = self.store.one("SELECT * FROM customers WHERE id = ?", (cid,))
        if row is None:
            raise bad_request(f"Customer {cid} does not exist.")
        return row

    def _check_tax_code(self, tid: int) -> None:
        if not self.store.scalar("SELECT 1 FROM tax_codes WHERE id = ?", (tid,)):
            raise bad_request(f"Tax code {tid} does not exist.")

    def create_document(self, kind: str, data: dict[str, Any]) -> int:
        stamp = now_text()
        with self.store.transaction():
            customer = self._check_customer(data.get("customer_id"))
            mainname = (data.get("mainname") or "").strip()
            if customer is not None and not mainname:
                mainname = (
                    " ".join(p for p in (customer["first"], customer["last"]) if p) or customer["company"]
                )
            if kind == "order" and customer is None and not mainname:
                raise bad_request("order_customer/mainname is required for an order without a customer.")
            tax_code_id = data.get("tax_code_id") or self._default_tax_code_id()
            if tax_code_id is not None:
                self._check_tax_code(tax_code_id)
            returned = data.get("returned_invoice_id")
            if returned is not None and not self.store.scalar(
                "SELECT 1 FROM documents WHERE kind = 'invoice' AND id = ?", (returned,)
            ):
                raise bad_request(f"returned_invoice: invoice {returned} does not exist.")
            doc_id = int(
                self.store.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM documents WHERE kind = ?", (kind,))
            )
            extra = {
                k: data[k] for k in (*DOC_CUSTOMER_FIELDS, "printed_notes", "internal_notes") if k in data
            }
            if data.get("discount") is not None:
                extra["discount"] = str(data["discount"])
            extra.pop("mainname", None)
            self.store.insert(
                "documents",
                {
                    "kind": kind,
                    "id": doc_id,
                    "customer_id": data.get("customer_id"),
                    "mainname": mainname,
                    "web_order_number": data.get("web_order_number") if kind == "order" else None,
                    "import_id": data.get("import_id"),
                    "po": data.get("po"),
                    "status": (data.get("status") or "Open") if kind == "order" else None,
                    "returned_invoice_id": returned if kind == "invoice" else None,
                    "tax_code_id": tax_code_id,
                    "shipping_method": data.get("shipping_method"),
                    "datetime_created": stamp,
                    "datetime_modified": stamp,
                    "extra": _blob(extra),
                },
            )
            return doc_id

    def update_document(self, kind: str, doc_id: int, data: dict[str, Any]) -> None:
        """A PUT: the given fields change; ``voided: True`` voids the document (an Order releases its
        reservations, an Invoice gives its stock back). A void cannot be undone."""
        with self.store.transaction():
            row = self._doc_row(kind, doc_id)
            data = dict(data)
            void = data.pop("voided", None)
            if void is False and row["voided"]:
                raise bad_request(f"{kind.capitalize()} {doc_id} is voided; a void cannot be undone.")
            if void and row["voided"] and not data:
                return  # voiding a voided document again changes nothing
            self._editable(kind, row)
            changes: Row = {}
            if "customer_id" in data:
                self._check_customer(data["customer_id"])
                changes["customer_id"] = data["customer_id"]
            for k in ("mainname", "import_id", "po", "shipping_method"):
                if k in data:
                    changes[k] = data[k]
            if kind == "order":
                for k in ("web_order_number", "status"):
                    if k in data:
                        changes[k] = data[k]
            if data.get("tax_code_id") is not None:
                self._check_tax_code(data["tax_code_id"])
                changes["tax_code_id"] = data["tax_code_id"]
            extra = _unblob(row["extra"])
            for k in (*DOC_CUSTOMER_FIELDS, "printed_notes", "internal_notes"):
                if k in data and k != "mainname":
                    extra[k] = data[k]
            if data.get("discount") is not None:
                extra["discount"] = str(data["discount"])
            changes["extra"] = _blob(extra)
            if void:
                self._void(kind, row)
                changes["voided"] = 1
            changes["datetime_modified"] = now_text()
            self.store.update("documents", "pk", row["pk"], changes)

    def _void(self, kind: str, row: Row) -> None:
        for line in self._lines(kind, [row["id"]])[row["id"]]:
            if kind == "order" and line["reserved"]:
                self._move(
                    line["product_id"],
                    "reserved",
                    -line["reserved"],
                    "order_voided",
                    kind,
                    row["id"],
                    line["id"],
                )
                self.store.update("lineitems", "id", line["id"], {"reserved": 0.0})
            if kind == "invoice":
                self._move(
                    line["product_id"],
                    "total",
                    line["quantity"],
                    "invoice_voided",
                    kind,
                    row["id"],
                    line["id"],
                )

    # -- line items --------------------------------------------------------------------------------

    def _line_row(self, kind: str, doc_id: int, line_id: int) -> Row:
        row = self.store.one(
            "SELECT * FROM lineitems WHERE kind = ? AND doc_id = ? AND id = ?", (kind, doc_id, line_id)
        )
        if row is None:
            raise not_found(f"Line item {line_id} does not exist on {kind} {doc_id}.")
        return row

    def get_line(self, kind: str, doc_id: int, line_id: int) -> dict[str, Any]:
        self._doc_row(kind, doc_id)
        return self._line_dict(self._line_row(kind, doc_id, line_id))

    def list_lines(self, kind: str, doc_id: int) -> list[dict[str, Any]]:
        self._doc_row(kind, doc_id)
        return self._lines(kind, [doc_id])[doc_id]

    @staticmethod
    def _reserve_amount(
        requested: Any, quantity: Decimal, previous: Decimal = ZERO, previous_quantity: Decimal = ZERO
    ) -> Decimal:
        """``reserved``: True → the whole quantity, False → nothing, a number → that quantity. Not
        given on an update: a fully reserved line stays fully reserved, else at most the quantity."""
        if requested is None:
            if previous and previous == previous_quantity:
                return max(quantity, ZERO)
            return min(previous, max(quantity, ZERO))
        amount = (quantity if requested else ZERO) if isinstance(requested, bool) else q3(Decimal(requested))
        if amount and quantity <= 0:
            raise bad_request("Only a line with a positive quantity can reserve stock.")
        if amount < 0 or amount > quantity:
            raise bad_request(f"reserved must be between 0 and the line quantity ({quantity}).")
        return amount

    def add_line(self, kind: str, doc_id: int, data: dict[str, Any]) -> int:
        with self.store.transaction():
            doc = self._doc_row(kind, doc_id)
            self._editable(kind, doc)
            product_id = data.get("product_id")
            if product_id is None:
                raise bad_request("lineitem_product/product is required (a product id).")
            product = self.store.one("SELECT * FROM products WHERE id = ?", (product_id,))
            if product is None:
                raise bad_request(f"Product {product_id} does not exist.")
            quantity = data.get("quantity")
            if quantity is None or not q3(quantity):
                raise bad_request("quantity is required and cannot be 0.")
            quantity = q3(quantity)
            sell = data.get("sell_price")
            sell = q3(sell) if sell is not None else dec(product["sell_price"])
            reserved = self._reserve_amount(data.get("reserved"), quantity) if kind == "order" else ZERO
            description = data.get("description")
            stamp = now_text()
            line_id = self.store.insert(
                "lineitems",
                {
                    "kind": kind,
                    "doc_id": doc_id,
                    "product_id": product_id,
                    "quantity": float(quantity),
                    "sell_price": float(sell),
                    "base_price": product["sell_price"],
                    "cost": product["cost"],
                    "reserved": float(reserved),
                    "description": description if description else product["description"],
                    "code": product["code"],
                    "taxable": product["taxable"],
                    "datetime_created": stamp,
                    "datetime_modified": stamp,
                },
            )
            if kind == "order":
                self._move(product_id, "reserved", reserved, "order_line_reserved", kind, doc_id, line_id)
            else:
                self._move(product_id, "total", -quantity, "invoice_line", kind, doc_id, line_id)
            self.store.update("documents", "pk", doc["pk"], {"datetime_modified": stamp})
            return line_id

    def update_line(self, kind: str, doc_id: int, line_id: int, data: dict[str, Any]) -> None:
        with self.store.transaction():
            doc = self._doc_row(kind, doc_id)
            self._editable(kind, doc)
            old = self._line_dict(self._line_row(kind, doc_id, line_id))
            product_id = data.get("product_id") or old["product_id"]
            product = self.store.one("SELECT * FROM products WHERE id = ?", (product_id,))
            if product is None:
                raise bad_request(f"Product {product_id} does not exist.")
            quantity = q3(data["quantity"]) if data.get("quantity") is not None else old["quantity"]
            if not quantity:
                raise bad_request("quantity cannot be 0 (delete the line instead).")
            changes: Row = {"quantity": float(quantity), "datetime_modified": now_text()}
            if data.get("sell_price") is not None:
                changes["sell_price"] = float(q3(data["sell_price"]))
            if data.get("description") is not None:
                changes["description"] = data["description"] or product["description"]
            if product_id != old["product_id"]:
                changes |= {
                    "product_id": product_id,
                    "code": product["code"],
                    "base_price": product["sell_price"],
                    "cost": product["cost"],
                    "taxable": product["taxable"],
                }
                if data.get("description") is None:
                    changes["description"] = product["description"]
            if kind == "order":
                reserved = self._reserve_amount(
                    data.get("reserved"), quantity, old["reserved"], old["quantity"]
                )
                changes["reserved"] = float(reserved)
                self._move(
                    old["product_id"],
                    "reserved",
                    -old["reserved"],
                    "order_line_changed",
                    kind,
                    doc_id,
                    line_id,
                )
                self._move(product_id, "reserved", reserved, "order_line_changed", kind, doc_id, line_id)
            else:
                self._move(
                    old["product_id"], "total", old["quantity"], "invoice_line_changed", kind, doc_id, line_id
                )
                self._move(product_id, "total", -quantity, "invoice_line_changed", kind, doc_id, line_id)
            self.store.update("lineitems", "id", line_id, changes)
            self.store.update(
                "documents", "pk", doc["pk"], {"datetime_modified": changes["datetime_modified"]}
            )

    def delete_line(self, kind: str, doc_id: int, line_id: int) -> None:
        with self.store.transaction():
            doc = self._doc_row(kind, doc_id)
            self._editable(kind, doc)
            old = self._line_dict(self._line_row(kind, doc_id, line_id))
            if kind == "order":
                self._move(
                    old["product_id"],
                    "reserved",
                    -old["reserved"],
                    "order_line_deleted",
                    kind,
                    doc_id,
                    line_id,
                )
            else:
                self._move(
                    old["product_id"], "total", old["quantity"], "invoice_line_deleted", kind, doc_id, line_id
                )
            self.store.execute("DELETE FROM lineitems WHERE id = ?", (line_id,))
            self.store.update("documents", "pk", doc["pk"], {"datetime_modified": now_text()})

    # -- payments ----------------------------------------------------------------------------------

    def get_payment(self, kind: str, doc_id: int, payment_id: int) -> dict[str, Any]:
        self._doc_row(kind, doc_id)
        row = self.store.one(
            "SELECT * FROM payments WHERE kind = ? AND doc_id = ? AND id = ?", (kind, doc_id, payment_id)
        )
        if row is None:
            raise not_found(f"Payment {payment_id} does not exist on {kind} {doc_id}.")
        return self._payment_dict(row)

    def list_payments(self, kind: str, doc_id: int) -> list[dict[str, Any]]:
        self._doc_row(kind, doc_id)
        return self._payments(kind, [doc_id])[doc_id]

    def _payment_method_name(self, method: Any) -> str:
        if isinstance(method, int):
            name = self.store.scalar("SELECT name FROM payment_methods WHERE id = ?", (method,))
        else:
            name = self.store.scalar(
                "SELECT name FROM payment_methods WHERE lower(name) = lower(?)", (str(method or "").strip(),)
            )
        if name is None:
            raise bad_request(f"Unknown payment method {method!r}.")
        return str(name)

    def add_payment(self, kind: str, doc_id: int, data: dict[str, Any], payment_type: str = "Deposit") -> int:
        with self.store.transaction():
            doc = self._doc_row(kind, doc_id)
            self._editable(kind, doc)
            method = self._payment_method_name(data.get("payment_method"))
            amount = data.get("amount")
            if amount is None or not q2(amount):
                raise bad_request("amount is required and cannot be 0.")
            tendered = data.get("tendered")
            stamp = now_text()
            pid = self.store.insert(
                "payments",
                {
                    "kind": kind,
                    "doc_id": doc_id,
                    "payment_method": method,
                    "type": payment_type,
                    "amount": float(q2(amount)),
                    "tendered": float(q2(tendered if tendered is not None else amount)),
                    "number": data.get("number", "") or "",
                    "authcode": data.get("authcode", "") or "",
                    "datetime_created": stamp,
                    "datetime_modified": stamp,
                },
            )
            self.store.update("documents", "pk", doc["pk"], {"datetime_modified": stamp})
            return pid

    # -- staff actions (control interface) ---------------------------------------------------------

    def convert_order(self, order_id: int) -> int:
        """What staff do at the counter: the Order becomes an Invoice. Reservations are released,
        the invoice deducts the stock, deposits move to the invoice as payments."""
        with self.store.transaction():
            order = self._doc_row("order", order_id)
            self._editable("order", order)
            extra = _unblob(order["extra"])
            data: dict[str, Any] = {
                k: extra[k] for k in (*DOC_CUSTOMER_FIELDS, "printed_notes", "internal_notes") if k in extra
            }
            data |= {
                "customer_id": order["customer_id"],
                "mainname": order["mainname"],
                "po": order["po"],
                "import_id": order["import_id"],
                "tax_code_id": order["tax_code_id"],
                "shipping_method": order["shipping_method"],
            }
            invoice_id = self.create_document("invoice", data)
            for line in self._lines("order", [order_id])[order_id]:
                if line["reserved"]:
                    self._move(
                        line["product_id"],
                        "reserved",
                        -line["reserved"],
                        "order_converted",
                        "order",
                        order_id,
                        line["id"],
                    )
                    self.store.update("lineitems", "id", line["id"], {"reserved": 0.0})
                self.add_line(
                    "invoice",
                    invoice_id,
                    {
                        "product_id": line["product_id"],
                        "quantity": line["quantity"],
                        "sell_price": line["sell_price"],
                        "description": line["description"],
                    },
                )
            for payment in self._payments("order", [order_id])[order_id]:
                if not payment["voided"]:
                    self.add_payment(
                        "invoice",
                        invoice_id,
                        {"payment_method": payment["payment_method"], "amount": payment["amount"]},
                        payment_type="Deposit",
                    )
            self.store.update(
                "documents",
                "pk",
                order["pk"],
                {"converted_id": invoice_id, "datetime_modified": now_text()},
            )
            self.store.execute(
                "UPDATE documents SET converted_id = ? WHERE kind = 'invoice' AND id = ?",
                (order_id, invoice_id),
            )
            return invoice_id

    def post_invoice(self, invoice_id: int) -> None:
        with self.store.transaction():
            row = self._doc_row("invoice", invoice_id)
            self._editable("invoice", row)
            self.store.update("documents", "pk", row["pk"], {"posted": 1, "datetime_modified": now_text()})

    def reserved_from_lines(self) -> dict[int, Decimal]:
        """Σ reserved quantities of open order lines per product (must equal ``inventory.reserved``)."""
        rows = self.store.all(
            "SELECT l.product_id AS pid, SUM(l.reserved) AS r FROM lineitems l JOIN documents d"
            " ON d.kind = l.kind AND d.id = l.doc_id WHERE l.kind = 'order' AND d.voided = 0"
            " AND d.converted_id IS NULL GROUP BY l.product_id"
        )
        return {r["pid"]: dec(r["r"]) for r in rows if dec(r["r"])}

    def check_inventory(self) -> list[str]:
        """Bookkeeping problems (an empty list when ``reserved`` matches the order lines)."""
        expected = self.reserved_from_lines()
        problems = []
        for r in self.store.all("SELECT product_id, reserved FROM inventory"):
            want, have = expected.get(r["product_id"], ZERO), dec(r["reserved"])
            if want != have:
                problems.append(f"product {r['product_id']}: reserved {have}, open order lines hold {want}")
        return problems
