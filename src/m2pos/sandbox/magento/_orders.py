"""Building order documents shaped like ``sales-data-order-interface`` and rendering them for output.

Line shapes (as real Magento stores them):
- simple/virtual: one row carrying the money;
- configurable: a parent row (``product_type: configurable``, the child's SKU, the money) and a child
  ``simple`` row with ``parent_item_id``, price 0 and an embedded ``parent_item``;
- bundle (dynamic price, dynamic SKU): a parent ``bundle`` row whose SKU joins the selections' SKUs
  and whose ``price`` is the sum of the selections (informational, ``row_total`` 0), and one child
  row per selection carrying the money. So "sum rows without a parent" is wrong for bundles — that is
  the real trap (magento2#6988/#21231).

Stored documents omit ``parent_item`` and ``shipping_assignments[].items``; ``render_order`` adds
them (and the status histories) on the way out, so they always mirror the current rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from m2pos.sandbox.magento._catalog import BundleSelection, Catalog, Product
from m2pos.sandbox.magento._store import Doc

NextId = Callable[[str], int]


def money(value: float) -> float:
    """Round half away from zero to cents, as Magento's PriceCurrency::round does."""
    scaled = abs(value) * 100.0
    rounded = math.floor(scaled + 0.5 + 1e-7) / 100.0
    return rounded if value >= 0 else -rounded


def fmt_money(value: float) -> str:
    return f"${value:,.2f}"


STATE_DEFAULT_STATUS = {
    "new": "pending",
    "pending_payment": "pending_payment",
    "processing": "processing",
    "complete": "complete",
    "closed": "closed",
    "canceled": "canceled",
    "holded": "holded",
    "payment_review": "payment_review",
}


@dataclass(frozen=True)
class StoreView:
    store_id: int
    code: str
    name: str

    @property
    def store_name(self) -> str:
        return f"Main Website\nMain Website Store\n{self.name}"

    @property
    def increment_prefix(self) -> str:
        # Magento's sales sequence profile: store 1 has no prefix, other stores use their id.
        return "" if self.store_id == 1 else str(self.store_id)


def make_store_views(codes: tuple[str, ...]) -> list[StoreView]:
    views = []
    for i, code in enumerate(codes, start=1):
        name = "Default Store View" if code == "default" else f"{code.replace('_', ' ').title()} Store View"
        views.append(StoreView(i, code, name))
    return views


@dataclass(frozen=True)
class Address:
    firstname: str
    lastname: str
    street: tuple[str, ...]
    city: str
    region: str
    region_code: str
    region_id: int
    postcode: str
    country_id: str
    telephone: str


@dataclass(frozen=True)
class Customer:
    email: str
    firstname: str
    lastname: str
    address: Address
    customer_id: int | None = None  # None: a guest

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    title: str
    info: tuple[str, ...]
    online: bool  # a gateway that can capture/refund online
    card: bool = False


PAYMENT_METHODS = {
    m.code: m
    for m in (
        PaymentMethod("checkmo", "Check / Money order", ("Check / Money order",), online=False),
        PaymentMethod("banktransfer", "Bank Transfer Payment", ("Bank Transfer Payment", ""), online=False),
        PaymentMethod("cashondelivery", "Cash On Delivery", ("Cash On Delivery", ""), online=False),
        PaymentMethod("purchaseorder", "Purchase Order", ("Purchase Order",), online=False),
        PaymentMethod("free", "No Payment Information Required", ("No Payment Information Required",), False),
        PaymentMethod(
            "braintree", "Credit Card", ("Credit Card", "Visa", "xxxx-1111"), online=True, card=True
        ),
        PaymentMethod("paypal_express", "PayPal Express Checkout", ("PayPal Express Checkout",), online=True),
    )
}

SHIPPING_METHODS = {
    "flatrate_flatrate": ("Flat Rate - Fixed", 5.0, True),  # per item
    "tablerate_bestway": ("Best Way - Table Rate", 10.0, False),
    "freeshipping_freeshipping": ("Free Shipping - Free", 0.0, False),
}

# Magento's sample tax rates, named like the default tax identifiers (Accumula matches on these names).
TAX_RATES = {"CA": ("US-CA-*-Rate 1", 8.25), "NY": ("US-NY-*-Rate 1", 8.375)}


@dataclass
class OrderLine:
    product: Product
    qty: float = 1.0
    child: Product | None = None  # the chosen simple of a configurable
    selections: list[BundleSelection] = field(default_factory=list)


@dataclass
class Placement:
    store: StoreView
    customer: Customer
    lines: list[OrderLine]
    payment: PaymentMethod
    shipping_method: str = "flatrate_flatrate"
    coupon_percent: float = 0.0
    created_at: str = ""
    remote_ip: str = "203.0.113.10"


def _address_doc(
    a: Address, kind: str, entity_id: int, order_id: int, email: str, customer_id: int | None
) -> Doc:
    doc: Doc = {
        "address_type": kind,
        "city": a.city,
        "country_id": a.country_id,
        "email": email,
        "entity_id": entity_id,
        "firstname": a.firstname,
        "lastname": a.lastname,
        "parent_id": order_id,
        "postcode": a.postcode,
        "region": a.region,
        "region_code": a.region_code,
        "region_id": a.region_id,
        "street": list(a.street),
        "telephone": a.telephone,
    }
    if customer_id is not None:
        doc["customer_id"] = customer_id
    return doc


_ZERO_ITEM_FIELDS = (
    "amount_refunded",
    "base_amount_refunded",
    "base_discount_invoiced",
    "base_discount_tax_compensation_amount",
    "base_row_invoiced",
    "base_tax_invoiced",
    "discount_invoiced",
    "discount_tax_compensation_amount",
    "qty_canceled",
    "qty_invoiced",
    "qty_refunded",
    "qty_shipped",
    "row_invoiced",
    "tax_invoiced",
)


def _item_row(
    *,
    item_id: int,
    order_id: int,
    quote_item_id: int,
    product: Product,
    sku: str,
    name: str,
    product_type: str,
    qty: float,
    price: float,
    tax_percent: float,
    discount_percent: float,
    store_id: int,
    created_at: str,
    is_virtual: bool,
    carries_money: bool,
) -> Doc:
    row: Doc = dict.fromkeys(_ZERO_ITEM_FIELDS, 0.0)
    row_total = money(price * qty) if carries_money else 0.0
    discount = money(row_total * discount_percent / 100.0)
    tax = money((row_total - discount) * tax_percent / 100.0)
    incl = money(price * (1 + tax_percent / 100.0))
    row_incl = money(row_total * (1 + tax_percent / 100.0))
    row.update(
        {
            "base_cost": product.cost,
            "base_discount_amount": discount,
            "base_original_price": price if product_type != "configurable" or carries_money else 0.0,
            "base_price": price,
            "base_price_incl_tax": incl,
            "base_row_total": row_total,
            "base_row_total_incl_tax": row_incl,
            "base_tax_amount": tax,
            "created_at": created_at,
            "discount_amount": discount,
            "discount_percent": discount_percent if carries_money else 0.0,
            "free_shipping": 0,
            "is_qty_decimal": 0,
            "is_virtual": int(is_virtual),
            "item_id": item_id,
            "name": name,
            "no_discount": 0,
            "order_id": order_id,
            "original_price": price,
            "price": price,
            "price_incl_tax": incl,
            "product_id": product.id,
            "product_type": product_type,
            "qty_ordered": qty,
            "quote_item_id": quote_item_id,
            "row_total": row_total,
            "row_total_incl_tax": row_incl,
            "row_weight": product.weight * qty,
            "sku": sku,
            "store_id": store_id,
            "tax_amount": tax,
            "tax_percent": tax_percent if carries_money else 0.0,
            "updated_at": created_at,
            "weight": product.weight,
        }
    )
    if discount:
        row["applied_rule_ids"] = "1"
    return row


def build_order(p: Placement, catalog: Catalog, next_id: NextId) -> Doc:
    """A freshly placed order: state ``new``/status ``pending``, nothing invoiced (payment effects such
    as an authorisation or an online capture are applied afterwards by ``_sales``)."""
    order_id = next_id("order")
    seq = next_id(f"order_seq_{p.store.store_id}")
    increment_id = f"{p.store.increment_prefix}{seq:09d}"
    addr = p.customer.address
    tax_code, tax_percent = TAX_RATES.get(addr.region_code, ("", 0.0))
    created = p.created_at
    items: list[Doc] = []
    quote_id = order_id + 1000

    def row(product: Product, **kw: Any) -> Doc:
        r = _item_row(
            item_id=next_id("order_item"),
            order_id=order_id,
            quote_item_id=next_id("quote_item"),
            product=product,
            store_id=p.store.store_id,
            created_at=created,
            tax_percent=tax_percent,
            discount_percent=p.coupon_percent,
            **kw,
        )
        items.append(r)
        return r

    for line in p.lines:
        prod = line.product
        if prod.type_id == "configurable":
            child = line.child or catalog.by_id[prod.children[0]]
            parent = row(
                prod,
                sku=child.sku,
                name=prod.name,
                product_type="configurable",
                qty=line.qty,
                price=child.price,
                is_virtual=False,
                carries_money=True,
            )
            parent["base_cost"] = child.cost
            parent["product_option"] = {
                "extension_attributes": {
                    "configurable_item_options": [
                        {"option_id": str(a), "option_value": v} for a, v in child.super_attributes.items()
                    ]
                }
            }
            c = row(
                child,
                sku=child.sku,
                name=child.name,
                product_type="simple",
                qty=line.qty,
                price=0.0,
                is_virtual=False,
                carries_money=False,
            )
            c["parent_item_id"] = parent["item_id"]
            c["original_price"] = c["base_original_price"] = 0.0
        elif prod.type_id == "bundle":
            selections = line.selections or [opt[2][0] for opt in prod.bundle_options]
            children = [(catalog.by_id[s.product_id], s) for s in selections]
            unit = money(sum(ch.price * s.qty for ch, s in children))
            parent = row(
                prod,
                sku="-".join([prod.sku] + [ch.sku for ch, _ in children]),
                name=prod.name,
                product_type="bundle",
                qty=line.qty,
                price=unit,
                is_virtual=False,
                carries_money=False,
            )
            parent["product_option"] = {
                "extension_attributes": {
                    "bundle_options": [
                        {
                            "option_id": s.option_id,
                            "option_qty": int(s.qty),
                            "option_selections": [s.selection_id],
                        }
                        for _, s in children
                    ]
                }
            }
            for ch, s in children:
                c = row(
                    ch,
                    sku=ch.sku,
                    name=ch.name,
                    product_type=ch.type_id,
                    qty=s.qty * line.qty,
                    price=ch.price,
                    is_virtual=ch.is_virtual,
                    carries_money=True,
                )
                c["parent_item_id"] = parent["item_id"]
        else:
            row(
                prod,
                sku=prod.sku,
                name=prod.name,
                product_type=prod.type_id,
                qty=line.qty,
                price=prod.price,
                is_virtual=prod.is_virtual,
                carries_money=True,
            )

    money_rows = [r for r in items if is_money_row(r, items)]
    top_rows = [r for r in items if "parent_item_id" not in r]
    is_virtual = all(r["is_virtual"] for r in top_rows)
    subtotal = money(sum(r["row_total"] for r in money_rows))
    discount = money(sum(r["discount_amount"] for r in money_rows))
    tax = money(sum(r["tax_amount"] for r in money_rows))
    subtotal_incl = money(sum(r["row_total_incl_tax"] for r in money_rows))
    if is_virtual:
        ship_desc, shipping = None, 0.0
    else:
        ship_desc, ship_price, per_item = SHIPPING_METHODS[p.shipping_method]
        physical_qty = sum(r["qty_ordered"] for r in top_rows if not r["is_virtual"])
        shipping = money(ship_price * physical_qty if per_item else ship_price)
    grand = money(subtotal - discount + tax + shipping)
    customer = p.customer
    billing_id = next_id("order_address")
    order: Doc = {
        "base_currency_code": "USD",
        "base_discount_amount": 0.0 - discount,
        "base_grand_total": grand,
        "base_discount_tax_compensation_amount": 0.0,
        "base_shipping_amount": shipping,
        "base_shipping_discount_amount": 0.0,
        "base_shipping_discount_tax_compensation_amnt": 0.0,
        "base_shipping_incl_tax": shipping,
        "base_shipping_tax_amount": 0.0,
        "base_subtotal": subtotal,
        "base_subtotal_incl_tax": subtotal_incl,
        "base_tax_amount": tax,
        "base_total_due": grand,
        "base_to_global_rate": 1.0,
        "base_to_order_rate": 1.0,
        "billing_address_id": billing_id,
        "created_at": created,
        "customer_email": customer.email,
        "customer_firstname": customer.firstname,
        "customer_group_id": 0 if customer.is_guest else 1,
        "customer_is_guest": int(customer.is_guest),
        "customer_lastname": customer.lastname,
        "customer_note_notify": 1,
        "discount_amount": 0.0 - discount,
        "email_sent": 1,
        "entity_id": order_id,
        "global_currency_code": "USD",
        "grand_total": grand,
        "discount_tax_compensation_amount": 0.0,
        "increment_id": increment_id,
        "is_virtual": int(is_virtual),
        "order_currency_code": "USD",
        "protect_code": f"{(order_id * 2654435761) & 0xFFFFFF:06x}",
        "quote_id": quote_id,
        "remote_ip": p.remote_ip,
        "shipping_amount": shipping,
        "shipping_discount_amount": 0.0,
        "shipping_discount_tax_compensation_amount": 0.0,
        "shipping_incl_tax": shipping,
        "shipping_tax_amount": 0.0,
        "state": "new",
        "status": "pending",
        "store_currency_code": "USD",
        "store_id": p.store.store_id,
        "store_name": p.store.store_name,
        "store_to_base_rate": 0.0,
        "store_to_order_rate": 0.0,
        "subtotal": subtotal,
        "subtotal_incl_tax": subtotal_incl,
        "tax_amount": tax,
        "total_due": grand,
        "total_item_count": len(top_rows),
        "total_qty_ordered": sum(r["qty_ordered"] for r in top_rows),
        "updated_at": created,
        "weight": sum(r["row_weight"] for r in top_rows if not r["is_virtual"]),
    }
    if customer.customer_id is not None:
        order["customer_id"] = customer.customer_id
    if ship_desc:
        order["shipping_description"] = ship_desc
    if discount:
        order["applied_rule_ids"] = "1"
        order["coupon_code"] = f"SAVE{int(p.coupon_percent)}"
        order["discount_description"] = order["coupon_code"]
    order["items"] = items
    order["billing_address"] = _address_doc(
        addr, "billing", billing_id, order_id, customer.email, customer.customer_id
    )
    pay = p.payment
    payment: Doc = {
        "account_status": None,
        "additional_information": list(pay.info),
        "amount_ordered": grand,
        "base_amount_ordered": grand,
        "base_shipping_amount": shipping,
        "cc_last4": "1111" if pay.card else None,
        "entity_id": order_id,
        "method": pay.code,
        "parent_id": order_id,
        "shipping_amount": shipping,
    }
    if pay.card:
        payment.update({"cc_exp_month": "12", "cc_exp_year": "2031", "cc_type": "VI"})
    if pay.code == "purchaseorder":
        payment["po_number"] = f"PO-{order_id:06d}"
    order["payment"] = payment
    total: Doc = {
        "base_shipping_amount": shipping,
        "base_shipping_discount_amount": 0.0,
        "base_shipping_incl_tax": shipping,
        "base_shipping_tax_amount": 0.0,
        "shipping_amount": shipping,
        "shipping_discount_amount": 0.0,
        "shipping_discount_tax_compensation_amount": 0.0,
        "shipping_incl_tax": shipping,
        "shipping_tax_amount": 0.0,
    }
    shipping_doc: Doc = {"total": total}
    if not is_virtual:
        shipping_doc["address"] = _address_doc(
            addr, "shipping", next_id("order_address"), order_id, customer.email, customer.customer_id
        )
        shipping_doc["method"] = p.shipping_method
    ext: Doc = {
        "shipping_assignments": [{"shipping": shipping_doc}],
        "payment_additional_info": [{"key": "method_title", "value": pay.title}],
        "applied_taxes": [],
        "item_applied_taxes": [],
    }
    if tax_code and tax:
        applied = {
            "code": tax_code,
            "title": tax_code,
            "percent": tax_percent,
            "amount": tax,
            "base_amount": tax,
            "extension_attributes": {
                "rates": [{"code": tax_code, "title": tax_code, "percent": tax_percent}]
            },
        }
        ext["applied_taxes"] = [applied]
        ext["item_applied_taxes"] = [
            {
                "type": "product",
                "item_id": r["item_id"],
                "applied_taxes": [{**applied, "amount": r["tax_amount"], "base_amount": r["tax_amount"]}],
            }
            for r in money_rows
            if r["tax_amount"]
        ]
    order["extension_attributes"] = ext
    return order


# -- item roles ----------------------------------------------------------------------------------


def children_of(item: Doc, items: list[Doc]) -> list[Doc]:
    return [r for r in items if r.get("parent_item_id") == item["item_id"]]


def parent_of(item: Doc, items: list[Doc]) -> Doc | None:
    pid = item.get("parent_item_id")
    if pid is None:
        return None
    return next((r for r in items if r["item_id"] == pid), None)


def is_money_row(item: Doc, items: list[Doc]) -> bool:
    """Rows that carry prices: simple/virtual lines, configurable parents, bundle children."""
    if item["product_type"] == "bundle":
        return False
    parent = parent_of(item, items)
    return parent is None or parent["product_type"] == "bundle"


def physical_rows(item: Doc, items: list[Doc]) -> list[Doc]:
    """The rows whose SKU is a stocked product (configurable/bundle parents expand to children)."""
    if item["product_type"] in ("configurable", "bundle"):
        return children_of(item, items)
    return [item]


# -- output --------------------------------------------------------------------------------------


def render_order(order: Doc, histories: list[Doc]) -> Doc:
    """Complete a freshly loaded document for output (it is mutated; the store hands out copies)."""
    out = order
    items: list[Doc] = out.get("items", [])
    by_id = {r["item_id"]: r for r in items}
    for r in items:
        pid = r.get("parent_item_id")
        if pid is not None and pid in by_id:
            r["parent_item"] = dict(by_id[pid])
    out["status_histories"] = histories
    ext = out.setdefault("extension_attributes", {})
    for assignment in ext.get("shipping_assignments", []):
        assignment["items"] = items
    # Magento's output order: scalars, items, addresses, payment, histories, extension attributes.
    ordered: Doc = {k: v for k, v in out.items() if not isinstance(v, dict | list)}
    for key in ("items", "billing_address", "payment", "status_histories", "extension_attributes"):
        if key in out:
            ordered[key] = out[key]
    return ordered
