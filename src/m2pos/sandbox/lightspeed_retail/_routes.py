"""The R-Series API's routes in the sandbox: ``/API/V3/Account/{accountID}/{Resource}[/{id}].json``
and the token endpoint. Query filters as R-Series takes them: ``field=value``, ``field=IN,[a,b]``,
dotted relation fields (``Contact.email``), ``load_relations=["A","B"]`` or ``all``, ``limit`` (at most
100) and ``offset``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from m2pos.sandbox.lightspeed_retail._render import customer_json, item_json, sale_json
from m2pos.sandbox.lightspeed_retail._store import Customer, RetailError, Store, now_text

PATH = re.compile(r"^/API/V3/Account/(?P<account>[^/]+)/(?P<resource>[A-Za-z]+)(?:/(?P<id>\d+))?\.json$")
MAX_LIMIT = 100


@dataclass
class Query:
    filters: list[tuple[str, str]]
    relations: set[str]
    limit: int
    offset: int


def parse_query(text: str) -> Query:
    filters, relations, limit, offset = [], set(), MAX_LIMIT, 0
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key == "load_relations":
            if value == "all":
                relations = {"all", "ItemShops", "Contact", "SaleLines", "SalePayments", "ShipTo"}
            else:
                try:
                    names = json.loads(value)
                except ValueError:
                    raise RetailError(400, "load_relations must be a JSON array of relation names.") from None
                relations |= {str(n) for n in names}
        elif key == "limit":
            limit = int(value) if value.isdigit() else MAX_LIMIT
            if limit > MAX_LIMIT:
                raise RetailError(400, f"limit cannot be greater than {MAX_LIMIT}.")
        elif key == "offset":
            offset = int(value) if value.isdigit() else 0
        elif key not in ("orderby", "orderby_desc", "sort"):
            filters.append((key, value))
    return Query(filters, relations, limit, offset)


def _matches(record: dict[str, Any], key: str, wanted: str) -> bool:
    values = _values(record, key.split("."))
    if wanted.startswith("IN,"):
        try:
            options = {str(v) for v in json.loads(wanted[3:])}
        except ValueError:
            raise RetailError(400, f'{key}: IN takes a JSON array, e.g. IN,["a","b"].') from None
        return any(v in options for v in values)
    if key.startswith("Contact."):
        return any(v.casefold() == wanted.casefold() for v in values)
    return wanted in values


def _values(node: Any, path: list[str]) -> list[str]:
    if isinstance(node, list):
        return [v for entry in node for v in _values(entry, path)]
    if not path:
        return [node] if isinstance(node, str) else []
    if not isinstance(node, dict):
        return []
    head, rest = path[0], path[1:]
    if head == "email" and "Emails" in node:  # Contact.email: any of the contact's addresses
        emails = node["Emails"]
        return _values(emails.get("ContactEmail") if isinstance(emails, dict) else [], ["address"])
    return _values(node.get(head), rest)


def listing(name: str, records: list[dict[str, Any]], query: Query) -> dict[str, Any]:
    for key, value in query.filters:
        records = [r for r in records if _matches(r, key, value)]
    page = records[query.offset : query.offset + query.limit]
    out: dict[str, Any] = {
        "@attributes": {"count": str(len(records)), "offset": str(query.offset), "limit": str(query.limit)}
    }
    if page:
        out[name] = page[0] if len(page) == 1 else page
    return out


def single(name: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"@attributes": {"count": "1"}, name: record}


Handler = Callable[[Store, str | None, Query, dict[str, Any]], dict[str, Any]]


def _items(store: Store, item_id: str | None, query: Query, body: dict[str, Any]) -> dict[str, Any]:
    relations = query.relations | {"ItemShops"}  # filters may name them; rendered only when asked
    archived = next((v for k, v in query.filters if k == "archived"), "false")
    query.filters = [(k, v) for k, v in query.filters if k != "archived"]
    with store.lock:
        items = [i for i in store.items.values() if archived == "true" or not i.archived]
        if item_id is not None:
            items = [store.item(int(item_id))]
        records = [item_json(i, store, relations) for i in items]
    if "ItemShops" not in query.relations:
        for record in records:
            record.pop("ItemShops", None)
    return single("Item", records[0]) if item_id is not None else listing("Item", records, query)


def _create_item(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    description = str(body.get("description") or "").strip()
    if not description:
        raise RetailError(400, "description cannot be blank.")
    price = Decimal(0)
    prices = body.get("Prices")
    if isinstance(prices, dict):
        entries = prices.get("ItemPrice") or []
        entries = entries if isinstance(entries, list) else [entries]
        price = next(
            (Decimal(str(p.get("amount", "0"))) for p in entries if p.get("useType") == "Default"), price
        )
    item = store.add_item(
        custom_sku=str(body.get("customSku") or ""),
        description=description,
        price=price,
        upc=str(body.get("upc") or ""),
        ean=str(body.get("ean") or ""),
        manufacturer_sku=str(body.get("manufacturerSku") or ""),
        item_type=str(body.get("itemType") or "default"),
        tax=str(body.get("tax", "true")).lower() == "true",
    )
    return single("Item", item_json(item, store, set()))


def _contact(customer: Customer, body: dict[str, Any]) -> None:
    contact = body.get("Contact")
    if not isinstance(contact, dict):
        return
    emails = contact.get("Emails")
    if isinstance(emails, dict):
        entries = emails.get("ContactEmail") or []
        entries = entries if isinstance(entries, list) else [entries]
        customer.emails = [str(e.get("address") or "") for e in entries if e.get("address")]
    phones = contact.get("Phones")
    if isinstance(phones, dict):
        entries = phones.get("ContactPhone") or []
        entries = entries if isinstance(entries, list) else [entries]
        customer.phones = [str(p.get("number") or "") for p in entries if p.get("number")]
    addresses = contact.get("Addresses")
    if isinstance(addresses, dict):
        entries = addresses.get("ContactAddress") or []
        entries = entries if isinstance(entries, list) else [entries]
        keys = ("address1", "address2", "city", "state", "zip", "country")
        customer.addresses = [{k: str(e.get(k) or "") for k in keys} for e in entries if isinstance(e, dict)]


def _customers(store: Store, customer_id: str | None, query: Query, body: dict[str, Any]) -> dict[str, Any]:
    relations = query.relations | {"Contact"}
    with store.lock:
        if customer_id is not None:
            customer = store.customers.get(int(customer_id))
            if customer is None:
                raise RetailError(404, f"Customer {customer_id} not found.")
            found = [customer_json(customer, query.relations)]
            return single("Customer", found[0])
        records = [customer_json(c, relations) for c in store.customers.values() if not c.archived]
    out = listing("Customer", records, query)
    if "Contact" not in query.relations:
        for record in (
            out.get("Customer", []) if isinstance(out.get("Customer"), list) else [out.get("Customer")]
        ):
            if isinstance(record, dict):
                record.pop("Contact", None)
    return out


def _write_customer(store: Store, customer_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        if customer_id is None:
            first, last = str(body.get("firstName") or ""), str(body.get("lastName") or "")
            if not (first or last or body.get("company")):
                raise RetailError(400, "firstName, lastName or company is required.")
            customer = Customer(store.next_id("customer", 100), first, last, str(body.get("company") or ""))
            store.customers[customer.customer_id] = customer
        else:
            found = store.customers.get(int(customer_id))
            if found is None:
                raise RetailError(404, f"Customer {customer_id} not found.")
            customer = found
            customer.time_stamp = now_text()
        _contact(customer, body)
        return single("Customer", customer_json(customer, {"Contact"}))


def _payment_types(store: Store, _id: str | None, query: Query, body: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        records = [
            {
                "paymentTypeID": str(i),
                "name": n,
                "requireCustomer": "false",
                "archived": "false",
                "code": n.upper(),
            }
            for i, n in store.payment_types.items()
        ]
    return listing("PaymentType", records, query)


def _sales(store: Store, sale_id: str | None, query: Query, body: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        if sale_id is not None:
            sale = store.sales.get(int(sale_id))
            if sale is None:
                raise RetailError(404, f"Sale {sale_id} not found.")
            return single("Sale", sale_json(sale, query.relations))
        every = {"SaleLines", "SalePayments", "ShipTo"}
        records = [sale_json(s, every) for s in store.sales.values()]
    out = listing("Sale", records, query)
    found = out.get("Sale")
    for record in found if isinstance(found, list) else [found] if found else []:
        for name in every - query.relations:
            if "all" not in query.relations:
                record.pop(name, None)
    return out


def _account(store: Store, _id: str | None, query: Query, body: dict[str, Any]) -> dict[str, Any]:
    return single("Account", {"accountID": store.account_id, "name": store.account_name})


READS: dict[str, Handler] = {
    "Item": _items,
    "Customer": _customers,
    "PaymentType": _payment_types,
    "Sale": _sales,
    "Account": _account,
}


def dispatch(
    store: Store, method: str, resource: str, record_id: str | None, query: Query, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    if method == "GET":
        handler = READS.get(resource)
        if handler is None:
            raise RetailError(404, f"Unknown resource {resource}.")
        return 200, handler(store, record_id, query, body)
    if method == "POST" and record_id is None:
        if resource == "Sale":
            sale = store.create_sale(body)
            return 200, single("Sale", sale_json(sale, {"SaleLines", "SalePayments", "ShipTo"}))
        if resource == "Item":
            return 200, _create_item(store, body)
        if resource == "Customer":
            return 200, _write_customer(store, None, body)
    if method == "PUT" and record_id is not None:
        if resource == "Sale":
            sale = store.update_sale(int(record_id), body)
            return 200, single("Sale", sale_json(sale, {"SaleLines", "SalePayments"}))
        if resource == "Customer":
            return 200, _write_customer(store, record_id, body)
        if resource == "SaleLine":
            sale, _line = store.update_sale_line(int(record_id), body)
            return 200, single("Sale", sale_json(sale, {"SaleLines"}))
    if method == "DELETE" and record_id is not None and resource == "SaleLine":
        store.delete_sale_line(int(record_id))
        return 200, {"@attributes": {"count": "0"}}
    raise RetailError(405, f"{method} is not allowed on {resource}.")
