"""Magento orders become R-Series Sales or Quotes over real HTTP: lines, money, the payment under
"Magento", the reference, customers (matched, created, guests), configurable children, unknown SKUs
on "No Product Found", and stock taken by sales only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Env

D = Decimal

EXPECTED = {
    "simple": [("MUG-001", D(2)), ("MUG-350/BLK", D(1)), ("SHIPPING", D(1)), ("MAGENTO-TAX", D(1))],
    "configurable": [("MH01-S-Gray", D(1)), ("SHIPPING", D(1)), ("MAGENTO-TAX", D(1))],
    "bundle": [
        ("24-WG082-blue", D(1)),
        ("24-WG084", D(1)),
        ("24-WG086", D(1)),
        ("24-WG088", D(1)),
        ("SHIPPING", D(1)),
        ("MAGENTO-TAX", D(1)),
    ],
}


def _lines(sale: dict) -> list[tuple[str, Decimal]]:  # type: ignore[type-arg]
    return [(line["sku"], line["quantity"]) for line in sale["lines"] if line["quantity"]]


@pytest.mark.parametrize("kind", ["sale", "quote"])
async def test_documents_of_each_order_kind(env: Env, kind: str) -> None:
    pos = env.adapter(download_orders_as=kind)
    for order_kind, expected in EXPECTED.items():
        order = env.order(order_kind)
        goods = [sku for sku, _ in expected if sku not in ("SHIPPING", "MAGENTO-TAX")]
        before = {sku: env.control.stock(sku) for sku in goods}
        document = await pos.create_document(order, order.increment_id or "")
        assert document.kind == kind
        (sale,) = env.control.sales(order.increment_id)
        assert (sale["reference"], sale["source"]) == (order.increment_id, "Magento")
        got = [(sku, qty) for sku, qty in _lines(sale) if not (sku == "MAGENTO-TAX" and not order.tax_amount)]
        want = [(sku, qty) for sku, qty in expected if not (sku == "MAGENTO-TAX" and not order.tax_amount)]
        assert got == want
        assert sale["total"] == order.grand_total  # lines, discounts, shipping and tax add up
        assert sale["quote"] is (kind == "quote")
        assert sale["completed"] is (kind == "sale")
        if kind == "sale":
            assert sale["payments"] == [("Magento", order.grand_total)]
            assert sale["ship_to"]["Contact"]["Addresses"]["ContactAddress"]
        else:
            assert sale["payments"] == []
        for sku, qty in expected:
            if sku in goods:
                taken = qty if kind == "sale" else D(0)
                assert env.control.stock(sku) == before[sku] - taken, sku
        assert f"Magento order #{order.increment_id}" in sale["note"] or order.increment_id in sale["note"]
        assert await pos.find_document(order.increment_id or "") == document


async def test_customers_matched_created_and_guests(env: Env) -> None:
    pos = env.adapter()
    known = env.order(customer_index=3)
    await pos.create_document(known, known.increment_id or "")
    (sale,) = env.control.sales(known.increment_id)
    matches = env.control.customers(known.customer_email or "")
    assert len(matches) == 1 and sale["customer_id"] == matches[0].customer_id
    new = env.order(customer_index=4)  # even indexes are not in the demo data
    assert env.control.customers(new.customer_email or "") == []
    await pos.create_document(new, new.increment_id or "")
    await pos.create_document(second := env.order(customer_index=4), second.increment_id or "")
    (created,) = env.control.customers(new.customer_email or "")  # created once, then matched
    assert [s["customer_id"] for s in env.control.sales(second.increment_id)] == [created.customer_id]
    assert created.addresses and created.addresses[0]["city"]
    guest = env.order(guest=True)
    document = await pos.create_document(guest, guest.increment_id or "")
    (sale,) = env.control.sales(guest.increment_id)
    assert document.kind == "sale"
    assert sale["customer_id"] in (
        0,
        *(c.customer_id for c in env.control.customers(guest.customer_email or "")),
    )


async def test_unknown_sku_lands_on_no_product_found(env: Env) -> None:
    pos = env.adapter()
    order = env.order(items=[{"sku": "HEADPH-BT/2", "qty": 1}, {"sku": "MUG-001", "qty": 1}])
    await pos.create_document(order, order.increment_id or "")
    (sale,) = env.control.sales(order.increment_id)
    npf = [line for line in sale["lines"] if line["sku"] == "NO-PRODUCT-FOUND"]
    assert len(npf) == 1 and npf[0]["note"].startswith("No Product Found: HEADPH-BT/2")
    assert "NO PRODUCT FOUND" in sale["note"]
    assert sale["total"] == order.grand_total
