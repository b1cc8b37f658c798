"""Rendering the backend's records as OnSite XML.

A single object (``GET /api/orders/71/``) is a full render (``full_render="true"``); list items and
embedded line items are partial (``full_render="false"``) with the fields a real server's listing
shows [V]: products ``code, flags/{inventoried, editable_sell, master_model}, sell_price, description,
inventory/available``; orders ``datetime_created, order_id, order_customer/{customer, mainname,
mainphone, contact_info}, totals/total``; invoices the same plus ``flags/posted``. Listing fields of
customers and other collections are [U].
"""

from __future__ import annotations

from typing import Any

from m2pos.sandbox.onsite._xml import Element, element, f2, f3, fbool, ref, sub

API_USER_ID = 1001  # the OnSite user the API session acts as (appears as primary_user)


class Urls:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/") + "/"  # https://host:9630/api/

    def of(self, *parts: Any) -> str:
        return self.base + "".join(f"{p}/" for p in parts)


def _datetimes(node: Element, rec: dict[str, Any], dates: bool = False) -> None:
    if dates:
        sub(node, "date_created", (rec["datetime_created"] or "")[:10])
    sub(node, "datetime_created", rec["datetime_created"])
    if dates:
        sub(node, "date_modified", (rec["datetime_modified"] or "")[:10])
    sub(node, "datetime_modified", rec["datetime_modified"])


# -- customers -----------------------------------------------------------------------------------------


def _address(parent: Element, tag: str, address: dict[str, Any]) -> None:
    node = sub(parent, tag)
    for key in ("address1", "address2", "city", "state", "zip", "country"):
        sub(node, key, address.get(key, ""))


def customer(urls: Urls, c: dict[str, Any], full: bool = True) -> Element:
    node = element("customer", urls.of("customers", c["id"]), c["id"], full)
    _datetimes(node, c)
    name = sub(node, "name")
    sub(name, "first", c["first"])
    sub(name, "last", c["last"])
    sub(node, "company", c["company"])
    sub(node, "email", c["email"])
    if full:
        sub(node, "phone", c["phone"])
        sub(node, "mobile", c["mobile"])
        _address(node, "billing_address", c["billing_address"])
        _address(node, "shipping_address", c["shipping_address"])
        sub(node, "notes", c["notes"])
    merged = sub(node, "merged_to")
    target = c["merged_to"]
    ref(merged, "customer", urls.of("customers", target) if target else None, target)
    return node


# -- products and inventory ----------------------------------------------------------------------------


def _inventory_values(node: Element, inv: dict[str, Any]) -> None:
    for key in (
        "available",
        "reserved",
        "coming_for_stock",
        "coming_for_customer",
        "warehouses",
        "in_transit",
        "total",
    ):
        sub(node, key, f3(inv[key]))


def product(urls: Urls, p: dict[str, Any], full: bool = True) -> Element:
    node = element("product", urls.of("products", p["id"]), p["id"], full)
    flags = p["flags"]
    if not full:
        sub(node, "code", p["code"])
        fl = sub(node, "flags")
        for key in ("inventoried", "editable_sell", "master_model"):
            sub(fl, key, fbool(flags[key]))
        sub(node, "sell_price", f3(p["sell_price"]))
        sub(node, "description", p["description"])
        inv = sub(node, "inventory")
        sub(inv, "available", f3(p["inventory"]["available"]))
        return node
    _datetimes(node, p)
    sub(node, "code", p["code"])
    sub(node, "upc", p["upc"])
    sub(node, "manufacturer_sku", p["manufacturer_sku"])
    sub(node, "description", p["description"])
    sub(node, "long_description", p["long_description"])
    fl = sub(node, "flags")
    for key in ("current", "editable_sell", "master_model", "inventoried", "web", "taxable"):
        sub(fl, key, fbool(flags[key]))
    sub(node, "sell_price", f3(p["sell_price"]))
    sub(node, "cost", f3(p["cost"]))
    _inventory_values(sub(node, "inventory"), p["inventory"])
    return node


def inventory(urls: Urls, inv: dict[str, Any], full: bool = True) -> Element:
    pid = inv["product_id"]
    node = element("product_inventory", urls.of("product_inventory", pid), pid, full)
    ref(node, "product", urls.of("products", pid), pid)
    _inventory_values(node, inv)
    return node


# -- reference data --------------------------------------------------------------------------------------


def tax_code(urls: Urls, t: dict[str, Any], full: bool = True) -> Element:
    node = element("tax_code", urls.of("tax_codes", t["id"]), t["id"], full)
    sub(node, "name", t["name"])
    sub(node, "rate", f3(t["rate"]))
    return node


def payment_method(urls: Urls, m: dict[str, Any], full: bool = True) -> Element:
    node = element("payment_method", urls.of("payment_methods", m["id"]), m["id"], full)
    sub(node, "name", m["name"])
    return node


# -- documents -------------------------------------------------------------------------------------------


def _plural(kind: str) -> str:
    return f"{kind}s"


def lineitem(urls: Urls, line: dict[str, Any], full: bool = True) -> Element:
    kind = line["kind"]
    node = element(
        "lineitem", urls.of(_plural(kind), line["doc_id"], "lineitems", line["id"]), line["id"], full
    )
    if full:
        _datetimes(node, line)
    sub(node, "quantity", f3(line["quantity"]))
    sub(node, "sell_price", f3(line["sell_price"]))
    sells = sub(node, "sells")
    sub(sells, "sell", f3(line["sell_price"]))
    sub(sells, "base", f3(line["base_price"]))
    sub(sells, "total", f2(line["total"]))
    lp = sub(node, "lineitem_product")
    ref(lp, "product", urls.of("products", line["product_id"]), line["product_id"])
    sub(lp, "code", line["code"])
    sub(lp, "description", line["description"])
    if kind == "order":
        sub(node, "reserved", f3(line["reserved"]))
    if full:
        sub(node, "cost", f3(line["cost"]))
        sub(node, "taxable", fbool(line["taxable"]))
    return node


def payment(urls: Urls, pay: dict[str, Any], full: bool = True) -> Element:
    kind = pay["kind"]
    node = element("payment", urls.of(_plural(kind), pay["doc_id"], "payments", pay["id"]), pay["id"], full)
    sub(node, "type", pay["type"])
    sub(node, "payment_method", pay["payment_method"])
    _datetimes(node, pay)
    sub(node, "number", pay["number"])
    sub(node, "amount", f2(pay["amount"]))
    sub(node, "tendered", f2(pay["tendered"]))
    sub(node, "authcode", pay["authcode"])
    sub(node, "avs_result")
    sub(node, "till")
    flags = sub(node, "flags")
    sub(flags, "exported", "false")
    sub(flags, "posted", "false")
    sub(flags, "voided", fbool(pay["voided"]))
    return node


def _doc_customer(urls: Urls, parent: Element, doc: dict[str, Any], full: bool) -> None:
    block = sub(parent, f"{doc['kind']}_customer")
    cid = doc["customer_id"]
    ref(block, "customer", urls.of("customers", cid) if cid else None, cid)
    c = doc["customer"]
    sub(block, "mainname", c["mainname"])
    sub(block, "mainphone", c["mainphone"])
    if full:
        sub(block, "phone_email", c["phone_email"])
        sub(block, "phone", c["phone"])
        sub(block, "contact", c["contact"])
    sub(block, "contact_info", c["contact_info"])
    if full:
        sub(block, "discount", f3(c["discount"]))
        sub(block, "pricing_level", "0")
        sub(block, "zip", c["zip"])
        # An unset PO is rendered as Python's None, as in a real invoice [V].
        sub(block, "po", "None" if c["po"] is None else c["po"])


def _totals(parent: Element, doc: dict[str, Any], full: bool) -> None:
    totals = sub(parent, "totals")
    t = doc["totals"]
    if not full:
        sub(totals, "total", f2(t["total"]))
        return
    if doc["kind"] == "order":
        for key in ("cost", "subtotal", "profit", "tax", "credit", "total", "paid"):
            sub(totals, key, f2(t[key]))
        sub(totals, "remaining_balance", f2(t["balance"]))
    else:
        for key in ("subtotal", "tax", "total"):
            sub(totals, key, f2(t[key]))
        sub(totals, "owing", f2(t["balance"]))
        sub(totals, "paid", f2(t["paid"]))


def _taxes(urls: Urls, parent: Element, doc: dict[str, Any]) -> None:
    tax = doc["tax_code"]
    ref(parent, "tax_code", urls.of("tax_codes", tax["id"]) if tax else None, tax["id"] if tax else None)
    taxes = sub(parent, "taxes", inclusive="false")
    for t in doc["taxes"]:
        sub(taxes, "tax", t["name"], rate=f3(t["rate"]), total=f2(t["total"]), id=str(t["id"]))


def document(urls: Urls, doc: dict[str, Any], full: bool = True) -> Element:
    kind = doc["kind"]
    node = element(kind, urls.of(_plural(kind), doc["id"]), doc["id"], full)
    if not full:
        sub(node, "datetime_created", doc["datetime_created"])
        sub(node, f"{kind}_id", doc["display_id"])
        _doc_customer(urls, node, doc, full=False)
        if kind == "invoice":
            sub(sub(node, "flags"), "posted", fbool(doc["posted"]))
        _totals(node, doc, full=False)
        return node
    sub(node, "document_id", str(doc["id"]))
    _datetimes(node, doc, dates=True)
    flags = sub(node, "flags")
    sub(flags, "drop_shipment", "false")
    if kind == "invoice":
        sub(flags, "exported", "false")
        sub(flags, "pay_backorders", "false")
        sub(flags, "posted", fbool(doc["posted"]))
    sub(flags, "voided", fbool(doc["voided"]))
    sub(node, f"{kind}_id", doc["display_id"])
    _doc_customer(urls, node, doc, full=True)
    sub(node, "margin", f3(doc["margin"]))
    user = sub(node, "primary_user")
    ref(user, "user", urls.of("users", API_USER_ID), API_USER_ID)
    ref(sub(node, "secondary_user"), "user", None, None)
    sub(node, "printed_notes", doc["printed_notes"])
    sub(node, "internal_notes", doc["internal_notes"])
    sub(node, "shipping_method", "None" if doc["shipping_method"] is None else doc["shipping_method"])
    currency = element("currency", urls.of("currencies", 1), 1, True)
    sub(currency, "name", "USD")
    sub(currency, "rate", "1.000000")
    sub(currency, "symbol", "$")
    node.append(currency)
    sub(node, "terms")
    sub(node, "due", (doc["datetime_created"] or "")[:10])
    sub(node, "import_id", doc["import_id"])
    if kind == "order":
        sub(node, "status", doc["status"])
        sub(node, "web_order_number", doc["web_order_number"])
    else:
        returned = doc["returned_invoice_id"]
        ref(
            sub(node, "returned_invoice"),
            "invoice",
            urls.of("invoices", returned) if returned else None,
            returned,
        )
        sub(node, "invoice_status", doc["status"])
    _totals(node, doc, full=True)
    _taxes(urls, node, doc)
    sub(node, "c_discount_percentage", f3(doc["customer"]["discount"]))
    payments = sub(node, "payments")
    for pay in doc["payments"]:
        ref(payments, "payment", urls.of(_plural(kind), doc["id"], "payments", pay["id"]), pay["id"])
    lines = sub(node, "lineitems")
    for line in doc["lines"]:
        lines.append(lineitem(urls, line, full=False))
    return node


def collection(tag: str, total: int, items: list[Element]) -> Element:
    root = element(tag)
    root.set("total_count", str(total))
    root.extend(items)
    return root
