"""Magento orders become OnSite Invoices or Orders: lines, money, reservations, deposits, customers,
products that OnSite lacks, taxes."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from m2pos.pos.port import PosRejected

from .conftest import COMBINATIONS, Env, lines

D = Decimal


@pytest.mark.parametrize("combination", list(COMBINATIONS))
async def test_each_setting_combination(env: Env, combination: str) -> None:
    options = COMBINATIONS[combination]
    pos = env.adapter(**options)
    is_order = options.get("download_orders_as") == "order"
    reserve = bool(options.get("reserve_order_inventory"))
    deposit = bool(options.get("create_order_deposits"))
    expected_lines = {
        "simple": [("MUG-001", D(2)), ("MUG-350/BLK", D(1)), ("SHIPPING", D(1))],
        "configurable": [("MH01-S-Gray", D(1)), ("SHIPPING", D(1))],  # the child SKU, the parent's money
        "bundle": [  # one line per component, the bundle's money on them
            ("24-WG082-blue", D(1)),
            ("24-WG084", D(1)),
            ("24-WG086", D(1)),
            ("24-WG088", D(1)),
            ("SHIPPING", D(1)),
        ],
    }
    for kind, expected in expected_lines.items():
        order = env.order(kind, payment="captured")
        goods = [code for code, _ in expected if code != "SHIPPING"]
        before = {code: env.stock(code) for code in goods}
        document = await pos.create_document(order, order.increment_id or "")
        assert document.kind == ("order" if is_order else "invoice")
        assert document.id.startswith("O-" if is_order else "I-")
        record = env.document(document)
        assert [(code, qty) for code, qty, _ in lines(record)] == expected
        assert record["totals"]["total"] == order.grand_total  # lines, discount, shipping and tax add up
        assert (record.get("web_order_number"), record["import_id"]) == (
            (order.increment_id if is_order else None),
            order.increment_id,
        )
        paid = sum((p["amount"] for p in record["payments"]), D(0))
        assert paid == (order.grand_total if deposit else 0)
        if deposit:
            assert [p["payment_method"] for p in record["payments"]] == ["Magento"]
        for code, qty in expected:
            if code == "SHIPPING":
                continue
            total, reserved = env.stock(code)
            total_before, reserved_before = before[code]
            if not is_order:  # an invoice takes the stock at once
                assert (total, reserved) == (total_before - qty, reserved_before)
            elif reserve:  # on hand unchanged, reserved grows, available shrinks
                assert (total, reserved) == (total_before, reserved_before + qty)
            else:
                assert (total, reserved) == before[code]
    assert env.control.check_inventory() == []


async def test_stock_levels_see_the_reservation(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True)
    before = await pos.stock_levels(["MUG-001", "MUG-350/BLK"])
    order = env.order("simple")
    await pos.create_document(order, order.increment_id or "")
    pos.products.cache.clear()
    after = await pos.stock_levels(["MUG-001", "MUG-350/BLK"])
    assert after == {"MUG-001": before["MUG-001"] - 2, "MUG-350/BLK": before["MUG-350/BLK"] - 1}


async def test_an_unknown_sku_goes_on_a_no_product_found_line(env: Env, caplog: Any) -> None:
    pos = env.adapter()
    order = env.order(items=[{"sku": "MUG-001", "qty": 1}, {"sku": "HEADPH-BT/2", "qty": 2}])
    with caplog.at_level(logging.WARNING, logger="m2pos.pos.lightspeed_onsite"):
        document = await pos.create_document(order, order.increment_id or "")
    record = env.document(document)
    missing = next(line for line in record["lines"] if line["code"] == "NO-PRODUCT-FOUND")
    item = next(i for i in order.items if i.sku == "HEADPH-BT/2")
    assert missing["description"] == f"No Product Found: HEADPH-BT/2 {item.name}"
    assert (missing["quantity"], missing["sell_price"]) == (D(2), item.price)
    # The order still transfers, in full (OnSite taxes the sum, Magento each line: a cent may differ).
    assert abs(record["totals"]["total"] - order.grand_total) <= D("0.01")
    assert "NO PRODUCT FOUND" in record["internal_notes"] and "HEADPH-BT/2" in record["internal_notes"]
    assert any(
        "No Product Found" in r.getMessage() and "HEADPH-BT/2" in str(r.__dict__) for r in caplog.records
    )


async def test_guest_without_email_goes_to_the_default_customer_or_a_walk_in(env: Env) -> None:
    order = env.order(guest=True).model_copy(update={"customer_email": None})
    default = env.control.create_customer("Web", "Orders", "web@shop.example")
    customers = len(env.control.customers())
    pos = env.adapter(default_customer_id=default)
    record = env.document(await pos.create_document(order, order.increment_id or ""))
    assert record["customer_id"] == default
    walk_in = env.adapter(download_orders_as="order")
    record = env.document(await walk_in.create_document(order, order.increment_id or ""))
    assert record["customer_id"] is None
    assert record["customer"]["mainname"] == order.billing_address.full_name  # type: ignore[union-attr]
    assert len(env.control.customers()) == customers  # nothing created for an order without e-mail
    assert env.count("GET /api/customers/") == 0  # and nothing looked up


async def test_customers_matched_by_email_merged_skipped_created_updated(env: Env) -> None:
    pos = env.adapter()
    customers_before = len(env.control.customers())
    # Customer 1 exists twice in OnSite: the newer record was merged into the older one.
    first = env.order(customer_index=1)
    records = env.control.customers(first.customer_email)
    assert len(records) == 2
    survivor = next(c for c in records if c["merged_to"] is None)
    document = env.document(await pos.create_document(first, first.increment_id or ""))
    assert document["customer_id"] == survivor["id"]
    # Customer 3 exists once, with the same address: matched, not written to.
    third = env.order(customer_index=3, guest=True)  # a guest with a known e-mail is matched too
    (known,) = env.control.customers(third.customer_email)
    document = env.document(await pos.create_document(third, third.increment_id or ""))
    assert document["customer_id"] == known["id"]
    assert env.count("PUT /api/customers/{id}/") == 0
    # Customer 2 is not in OnSite: created with the order's addresses.
    second = env.order(customer_index=2)
    document = env.document(await pos.create_document(second, second.increment_id or ""))
    (created,) = env.control.customers(second.customer_email)
    assert document["customer_id"] == created["id"]
    assert created["billing_address"]["city"] == second.billing_address.city  # type: ignore[union-attr]
    assert len(env.control.customers()) == customers_before + 1
    # A known customer with a new address: the address is updated.
    moved_address = third.billing_address.model_copy(update={"city": "Springfield", "street": ("1 New St",)})  # type: ignore[union-attr]
    moved = env.order(customer_index=3).model_copy(update={"billing_address": moved_address})
    await pos.create_document(moved, moved.increment_id or "")
    assert env.control.customer(known["id"])["billing_address"]["city"] == "Springfield"
    assert env.count("PUT /api/customers/{id}/") == 1
    assert env.control.locks() == {}


async def test_lookups_are_cached_so_repeat_orders_cost_only_their_writes(env: Env) -> None:
    pos = env.adapter()
    await pos.check()
    first = env.order("simple")
    await pos.create_document(first, first.increment_id or "")
    env.control.reset_counters()
    again = env.order("simple")
    await pos.create_document(again, again.increment_id or "")
    counters = env.control.counters()["counters"]
    # POST the invoice, LOCK, 3 lines, UNLOCK: nothing else (customer, products, tax codes cached).
    assert counters == {
        "POST /api/invoices/": 1,
        "LOCK /api/invoices/{id}/": 1,
        "POST /api/invoices/{id}/lineitems/": 3,
        "UNLOCK /api/invoices/{id}/": 1,
    }


async def test_cold_order_requests(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True, create_order_deposits=True)
    await pos.check()
    env.control.reset_counters()
    order = env.order("simple", customer_index=2)  # a new customer
    await pos.create_document(order, order.increment_id or "")
    counters = env.control.counters()["counters"]
    assert counters == {
        "GET /api/customers/": 1,  # by e-mail
        "POST /api/customers/": 1,  # created
        "GET /api/products/": 1,  # both SKUs in one IN {…} filter
        "POST /api/orders/": 1,
        "LOCK /api/orders/{id}/": 1,
        "POST /api/orders/{id}/lineitems/": 3,
        "POST /api/orders/{id}/payments/": 1,
        "UNLOCK /api/orders/{id}/": 1,
    }


async def test_taxes_by_tax_code_name_or_as_one_line(env: Env) -> None:
    order = env.order("simple", coupon_percent=10)  # California: "US-CA-*-Rate 1", a discount
    assert order.applied_taxes and order.discount_amount < 0
    by_name = env.document(await env.adapter().create_document(order, order.increment_id or ""))
    assert by_name["tax_code"]["name"] == order.applied_taxes[0].title
    assert by_name["totals"]["tax"] == order.tax_amount
    assert by_name["totals"]["total"] == order.grand_total
    mug = next(line for line in by_name["lines"] if line["code"] == "MUG-001")
    assert mug["sell_price"] < mug["base_price"]  # the discount is on the line
    as_line = env.document(
        await env.adapter(tax_mode="line").create_document(order, order.increment_id or "")
    )
    assert as_line["tax_code"]["name"] == "No Tax"
    tax = next(line for line in as_line["lines"] if line["code"] == "MAGENTO-TAX")
    assert tax["sell_price"] == order.tax_amount
    assert as_line["totals"]["total"] == order.grand_total


async def test_an_unknown_tax_identifier_is_refused_with_what_to_do(env: Env) -> None:
    order = env.order("simple")
    renamed = order.applied_taxes[0].model_copy(update={"title": "NY Tax", "code": "NY Tax"})
    order = order.model_copy(update={"applied_taxes": (renamed,)})
    with pytest.raises(PosRejected) as refused:
        await env.adapter().create_document(order, order.increment_id or "")
    message = refused.value.message
    assert f"Magento order {order.increment_id}" in message
    assert 'no tax code named "NY Tax"' in message and 'tax_mode = "line"' in message
    assert env.control.invoices() == []  # refused before anything was written


async def test_reference_data_is_escaped_in_xml(env: Env) -> None:
    order = env.order("simple", customer_index=2)
    order = order.model_copy(
        update={
            "customer_note": 'Leave at <door> & ring "twice"\x01',
            "customer_lastname": "O'Brien & <Sons>",
        }
    )
    record = env.document(await env.adapter().create_document(order, order.increment_id or ""))
    assert 'Customer comment: Leave at <door> & ring "twice"' in record["internal_notes"]
    assert env.control.customer(record["customer_id"])["last"] == "O'Brien & <Sons>"
