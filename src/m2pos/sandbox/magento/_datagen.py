"""Placing orders (control interface) and the seeded demo-data generator.

The generator streams orders into SQLite in batches and keeps only the current batch in memory, so
100,000 orders fit in a modest amount of RAM. Every random choice comes from ``random.Random`` seeded
from the sandbox seed, and timestamps are laid on a fixed timeline ending at ``anchor``, so the same
seed and anchor give byte-identical data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from m2pos.sandbox.magento._catalog import Catalog, Product
from m2pos.sandbox.magento._clock import format_magento
from m2pos.sandbox.magento._errors import MagentoError, bad_request
from m2pos.sandbox.magento._orders import (
    PAYMENT_METHODS,
    Address,
    Customer,
    NextId,
    OrderLine,
    Placement,
    StoreView,
    build_order,
)
from m2pos.sandbox.magento._sales import (
    Outcome,
    authorize_at_placement,
    can_hold,
    cancel,
    create_invoice,
    create_refund,
    hold,
    review_at_placement,
    ship,
)
from m2pos.sandbox.magento._store import Doc

_FIRST = [
    "Jane",
    "John",
    "Maria",
    "Wei",
    "Aisha",
    "Carlos",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Sofia",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloe",
    "Mateo",
    "Ava",
    "Yuki",
    "Fatima",
    "Omar",
    "Grace",
    "Henry",
    "Isla",
    "Jack",
    "Leah",
    "Mason",
    "Nora",
    "Owen",
    "Priya",
    "Quinn",
    "Ruby",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Zoe",
]
_LAST = [
    "Doe",
    "Smith",
    "Garcia",
    "Chen",
    "Khan",
    "Lopez",
    "Brown",
    "Wilson",
    "Taylor",
    "Nguyen",
    "Rossi",
    "Müller",
    "Martin",
    "Kim",
    "Patel",
    "Silva",
    "Johnson",
    "Lee",
    "Walker",
    "Young",
    "Hall",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
    "O'Brien",
]
_CITIES = (
    ("Purchase", "New York", "NY", 43, "10577"),
    ("Brooklyn", "New York", "NY", 43, "11201"),
    ("Los Angeles", "California", "CA", 12, "90012"),
    ("San Francisco", "California", "CA", 12, "94103"),
    ("Austin", "Texas", "TX", 57, "73301"),
    ("Seattle", "Washington", "WA", 62, "98101"),
    ("Miami", "Florida", "FL", 18, "33101"),
    ("Chicago", "Illinois", "IL", 23, "60601"),
    ("Denver", "Colorado", "CO", 13, "80202"),
    ("Portland", "Oregon", "OR", 49, "97201"),
)
_STREETS = ("Oak Ave", "Main St", "Maple Dr", "Cedar Ln", "Elm St", "Park Blvd", "Lake Rd", "Hill St")

PAYMENT_CHOICES = (
    "authorised",
    "captured",
    "checkmo",
    "free",
    "banktransfer",
    "cashondelivery",
    "purchaseorder",
    "pending_payment",
    "payment_review",
)
KINDS = ("simple", "configurable", "bundle", "virtual", "mixed")


def make_customer(index: int, seed: int, guest: bool) -> Customer:
    """The same person for the same (index, seed); registered customers get ``customer_id = index``."""
    rng = random.Random(seed * 1_000_003 + index)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, region, code, region_id, postcode = rng.choice(_CITIES)
    address = Address(
        first,
        last,
        (f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",),
        city,
        region,
        code,
        region_id,
        postcode,
        "US",
        f"512-555-{rng.randint(0, 9999):04d}",
    )
    local = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
    email = f"{local}{index}@example.com"
    return Customer(email, first, last, address, None if guest else index)


@dataclass
class OrderRequest:
    """What the control interface's "place order" accepts."""

    kind: str = "simple"
    guest: bool = True
    payment: str = "checkmo"
    store_id: int = 1
    items: list[dict[str, Any]] | None = None  # [{"sku": ..., "qty": ...}]
    customer_index: int = 1
    shipping_method: str = "flatrate_flatrate"
    coupon_percent: float = 0.0
    created_at: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> OrderRequest:
        known = {k: body[k] for k in cls.__dataclass_fields__ if k in body}
        req = cls(**known)
        if req.kind not in KINDS:
            raise bad_request(f"kind must be one of {', '.join(KINDS)}")
        if req.payment not in PAYMENT_CHOICES:
            raise bad_request(f"payment must be one of {', '.join(PAYMENT_CHOICES)}")
        return req


def _line_for(product: Product, qty: float, catalog: Catalog) -> OrderLine:
    if product.parent_id is not None:  # a configurable's child SKU: order it through its parent
        return OrderLine(catalog.by_id[product.parent_id], qty, child=product)
    if product.type_id == "configurable":
        return OrderLine(product, qty, child=catalog.by_id[product.children[0]])
    return OrderLine(product, qty)


def default_lines(kind: str, catalog: Catalog) -> list[OrderLine]:
    """Predictable lines when the caller names no SKUs (tests rely on them)."""
    simple = catalog.sellable("simple")
    lines = {
        "simple": [OrderLine(simple[0], 2), OrderLine(simple[1], 1)],
        "configurable": [_line_for(catalog.sellable("configurable")[0], 1, catalog)],
        "bundle": [OrderLine(catalog.sellable("bundle")[0], 1)],
        "virtual": [OrderLine(catalog.sellable("virtual")[0], 1)],
    }
    if kind == "mixed":
        return lines["simple"][:1] + lines["configurable"] + lines["bundle"]
    return lines[kind]


def place(
    req: OrderRequest,
    catalog: Catalog,
    views: dict[int, StoreView],
    seed: int,
    now: str,
    next_id: NextId,
) -> tuple[Doc, list[Doc], list[Doc]]:
    """Place one order: returns (order, invoices, status histories)."""
    if req.store_id not in views:
        raise bad_request(f"unknown store_id {req.store_id}")
    if req.items:
        lines = []
        for entry in req.items:
            product = catalog.by_sku.get(str(entry.get("sku")))
            if product is None:
                raise bad_request(f"unknown sku {entry.get('sku')!r}")
            lines.append(_line_for(product, float(entry.get("qty", 1)), catalog))
    else:
        lines = default_lines(req.kind, catalog)
    payment = req.payment
    method = {
        "authorised": "braintree",
        "captured": "braintree",
        "payment_review": "braintree",
        "pending_payment": "paypal_express",
    }.get(payment, payment)
    coupon = 100.0 if payment == "free" else req.coupon_percent
    shipping = "freeshipping_freeshipping" if payment == "free" else req.shipping_method
    placement = Placement(
        store=views[req.store_id],
        customer=make_customer(req.customer_index, seed, req.guest),
        lines=lines,
        payment=PAYMENT_METHODS[method],
        shipping_method=shipping,
        coupon_percent=coupon,
        created_at=req.created_at or now,
    )
    order = build_order(placement, catalog, next_id)
    when = placement.created_at
    invoices: list[Doc] = []
    histories: list[Doc] = []
    if payment == "authorised":
        histories += authorize_at_placement(order, when, next_id).histories
    elif payment == "captured":  # authorize_capture: the gateway captured, Magento invoiced at once
        authorize_at_placement(order, when, next_id)
        out = create_invoice(
            order,
            None,
            capture=True,
            notify=True,
            append_comment=False,
            comment=None,
            now=when,
            next_id=next_id,
        )
        invoices.append(_require(out))
        histories += out.histories
    elif payment == "payment_review":
        histories += review_at_placement(order, when, next_id).histories
    elif payment == "pending_payment":
        order["state"] = order["status"] = "pending_payment"
    return order, invoices, histories


def _require(out: Outcome) -> Doc:
    assert out.document is not None
    return out.document


# -- bulk generation -------------------------------------------------------------------------------

# (weight, scenario): the spread of states in the demo data.
_SCENARIOS = (
    (18, "new"),
    (2, "new_free"),
    (5, "pending_payment"),
    (10, "authorised"),
    (15, "captured"),
    (5, "invoiced_offline"),
    (22, "complete"),
    (5, "complete_partial_refund"),
    (6, "closed"),
    (6, "canceled"),
    (4, "holded"),
    (2, "payment_review"),
)


@dataclass
class Batch:
    orders: list[Doc] = field(default_factory=list)
    invoices: list[Doc] = field(default_factory=list)
    creditmemos: list[Doc] = field(default_factory=list)
    histories: list[Doc] = field(default_factory=list)


def _pick_lines(rng: random.Random, catalog: Catalog) -> list[OrderLine]:
    simples = catalog.sellable("simple")
    configurables = catalog.sellable("configurable")
    bundles = catalog.sellable("bundle")
    virtuals = catalog.sellable("virtual")
    if rng.random() < 0.01:
        return [OrderLine(rng.choice(virtuals), 1)]
    lines: list[OrderLine] = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        roll = rng.random()
        qty = float(rng.choice((1, 1, 1, 1, 2, 2, 3)))
        if roll < 0.6:
            lines.append(OrderLine(rng.choice(simples), qty))
        elif roll < 0.9:
            parent = rng.choice(configurables)
            lines.append(OrderLine(parent, qty, child=catalog.by_id[rng.choice(parent.children)]))
        else:
            lines.append(OrderLine(rng.choice(bundles), 1))
    if rng.random() < 0.05:
        lines.append(OrderLine(virtuals[1], 1))
    return lines


def generate(
    count: int,
    seed: int,
    catalog: Catalog,
    views: list[StoreView],
    anchor: datetime,
    next_id: NextId,
    batch_size: int = 1000,
    span_days: int = 30,
) -> Iterator[Batch]:
    """Yield batches of demo documents; created_at is spread over ``span_days`` before ``anchor``."""
    rng = random.Random(seed)
    weights = [w for w, _ in _SCENARIOS]
    names = [n for _, n in _SCENARIOS]
    start = anchor - timedelta(days=span_days)
    step = (span_days * 86400 - 7200) / max(count, 1)
    customers = max(50, count // 20)
    store_weights = [70] + [30 // max(len(views) - 1, 1)] * (len(views) - 1)
    offline = ("checkmo", "checkmo", "banktransfer", "cashondelivery", "purchaseorder")
    batch = Batch()
    for i in range(count):
        created = start + timedelta(seconds=i * step + rng.random() * step * 0.5)
        scenario = rng.choices(names, weights)[0]
        guest = rng.random() < 0.35
        cust_index = rng.randint(1, customers)
        method = {
            "new_free": "free",
            "pending_payment": "paypal_express",
            "authorised": "braintree",
            "captured": "braintree",
            "payment_review": "braintree",
            "invoiced_offline": rng.choice(offline),
        }.get(scenario) or (
            rng.choice(("braintree", "checkmo")) if scenario != "new" else rng.choice(offline)
        )
        free = method == "free"
        placement = Placement(
            store=rng.choices(views, store_weights)[0],
            customer=make_customer(cust_index, seed, guest),
            lines=_pick_lines(rng, catalog),
            payment=PAYMENT_METHODS[method],
            shipping_method="freeshipping_freeshipping"
            if free
            else rng.choices(
                ("flatrate_flatrate", "tablerate_bestway", "freeshipping_freeshipping"), (6, 3, 1)
            )[0],
            coupon_percent=100.0 if free else (10.0 if rng.random() < 0.1 else 0.0),
            created_at=format_magento(created),
            remote_ip=f"198.51.100.{rng.randint(1, 254)}",
        )
        order = build_order(placement, catalog, next_id)
        t = created

        def later(minutes_low: float, minutes_high: float) -> str:
            nonlocal t
            t = min(
                t + timedelta(minutes=rng.uniform(minutes_low, minutes_high)), anchor - timedelta(seconds=1)
            )
            return format_magento(t)

        when = placement.created_at
        online = method == "braintree"
        if scenario == "pending_payment":
            order["state"] = order["status"] = "pending_payment"
        elif scenario == "payment_review":
            batch.histories += review_at_placement(order, when, next_id).histories
        elif online:
            auth = authorize_at_placement(order, when, next_id)
            if scenario == "authorised":
                batch.histories += auth.histories
        invoiced = scenario in (
            "captured",
            "invoiced_offline",
            "complete",
            "complete_partial_refund",
            "closed",
        )
        invoiced = invoiced or (scenario == "holded" and rng.random() < 0.5)
        if invoiced:
            out = create_invoice(
                order,
                None,
                capture=online,
                notify=True,
                append_comment=False,
                comment=None,
                now=when if scenario == "captured" or online else later(5, 2880),
                next_id=next_id,
            )
            batch.invoices.append(_require(out))
            batch.histories += out.histories
        shipped = scenario in ("complete", "complete_partial_refund") or (
            scenario == "closed" and rng.random() < 0.5
        )
        if shipped and not order.get("is_virtual"):
            ship(order, later(60, 4320))
        if scenario in ("closed", "complete_partial_refund"):
            items_req = None
            if scenario == "complete_partial_refund":
                first = next(r for r in order["items"] if "parent_item_id" not in r)
                items_req = [{"order_item_id": first["item_id"], "qty": 1}]
            args = {"shipping_amount": 0.0} if items_req else None
            try:
                out = create_refund(
                    order,
                    items_req,
                    args,
                    notify=False,
                    append_comment=False,
                    comment=None,
                    now=later(1440, 10080),
                    next_id=next_id,
                    auto_return=False,
                )
            except MagentoError:  # e.g. a 100%-discount order has nothing to refund
                pass
            else:
                batch.creditmemos.append(_require(out))
                batch.histories += out.histories
        if scenario == "canceled":
            cancel(order, later(30, 2880))
        if scenario == "holded" and can_hold(order):
            hold(order, later(30, 600))
        batch.orders.append(order)
        if len(batch.orders) >= batch_size:
            yield batch
            batch = Batch()
    if batch.orders:
        yield batch
