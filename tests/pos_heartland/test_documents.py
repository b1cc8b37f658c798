"""Sales orders: customer (validated, matched, created), lines, shipping charge, payments, the
reference; distribution and auto-invoicing; No Product Found."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from m2pos.pos.port import PosError, PosRejected

from .conftest import Env

D = Decimal


async def test_an_order_lands_open_with_lines_shipping_payment_and_reference(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 2}])
    reference = order.increment_id or ""
    document = await env.adapter().create_document(order, reference)
    record = env.sales_order(reference)
    assert document.id == str(record["id"]) and document.kind == "sales_order"
    assert record["status"] == "open"
    assert record["custom"]["magento_order_number"] == reference
    assert env.codes(record) == [("MUG-001", D(2))]
    assert D(record["shipping"]["amount"]) == order.shipping_amount
    assert D(record["total_paid"]) == order.grand_total
    assert f"Magento order #{reference}" in record["notes"]
    customer = env.control.customer(record["customer_id"])
    assert customer["email"].lower() == (order.customer_email or "").lower()
    # Magento's total, to the cent: lines + shipping (+ the tax line in the default tax mode).
    assert D(record["total"]) == order.grand_total
    # An open, undistributed order commits nothing.
    assert env.control.inventory("MUG-001")["qty_committed"] == 0


async def test_distribute_commits_and_auto_invoice_takes_the_stock(env: Env) -> None:
    before = env.control.inventory("MUG-001")
    first = env.order("simple", items=[{"sku": "MUG-001", "qty": 1}])
    await env.adapter(distribute=True).create_document(first, first.increment_id or "")
    after = env.control.inventory("MUG-001")
    assert after["qty_committed"] == before["qty_committed"] + 1
    assert after["qty_available"] == before["qty_available"] - 1
    second = env.order("simple", items=[{"sku": "MUG-001", "qty": 2}])
    await env.adapter(auto_invoice=True).create_document(second, second.increment_id or "")
    record = env.sales_order(second.increment_id or "")
    assert record["status"] == "closed" and len(env.control.invoices(record["id"])) == 1
    final = env.control.inventory("MUG-001")
    assert final["qty_on_hand"] == before["qty_on_hand"] - 2
    assert final["qty_committed"] == after["qty_committed"]


async def test_a_new_customer_is_created_once_and_an_unknown_sku_goes_on_no_product_found(env: Env) -> None:
    order = env.order("simple", guest=True, customer_index=10, items=[{"sku": "HEADPH-BT/2", "qty": 1}])
    assert not env.control.customers(order.customer_email)
    pos = env.adapter()
    await pos.create_document(order, order.increment_id or "")
    await pos.create_document(env.order("simple", guest=True, customer_index=10), "second")
    record = env.sales_order(order.increment_id or "")
    line = record["lines"][0]
    assert env.codes(record) == [("NO-PRODUCT-FOUND", D(1))]
    assert "No Product Found: HEADPH-BT/2" in line["description"]
    assert "NO PRODUCT FOUND" in record["notes"]
    assert len(env.control.customers(order.customer_email)) == 1


async def test_a_customer_heartland_would_reject_is_refused_before_sending(env: Env) -> None:
    order = env.order("simple", guest=True, customer_index=11)
    assert order.billing_address is not None
    nameless = order.model_copy(
        update={
            "customer_lastname": None,
            "billing_address": order.billing_address.model_copy(update={"lastname": None}),
        }
    )
    before = env.control.counters()["total"]
    with pytest.raises(PosRejected) as refused:
        await env.adapter().create_document(nameless, nameless.increment_id or "")
    message = refused.value.message
    assert nameless.increment_id in message and "last_name" in message and "billing address" in message
    assert not refused.value.retryable
    assert env.control.counters()["total"] == before  # nothing was sent


async def test_an_order_without_email_needs_the_default_customer(env: Env) -> None:
    order = env.order("simple")
    anonymous = order.model_copy(update={"customer_email": None})
    with pytest.raises(PosRejected) as refused:
        await env.adapter().create_document(anonymous, "X-1")
    assert "default_customer_id" in refused.value.message
    (someone,) = env.control.customers()[:1]
    document = await env.adapter(default_customer_id=someone["id"]).create_document(anonymous, "X-1")
    assert env.sales_order("X-1")["customer_id"] == someone["id"] and document.reference == "X-1"


async def test_the_token_is_in_no_repr_or_error(env: Env) -> None:
    pos = env.adapter(api_token="wrong-token-123")
    assert "wrong-token-123" not in repr(pos) + repr(pos.client) + repr(pos.settings)
    assert isinstance(pos.settings.api_token, SecretStr)
    with pytest.raises(PosError) as failed:
        await pos.check()
    assert "401" in str(failed.value) and "pos.api_token" in str(failed.value)
    assert "wrong-token-123" not in str(failed.value)


async def test_check_describes_the_set_up(env: Env) -> None:
    text = await env.adapter(auto_invoice=True).check()
    assert "invoiced" in text and "Online" in text and "NO-PRODUCT-FOUND" in text
    with pytest.raises(PosError) as failed:
        await env.adapter(location_id=99).check()
    assert "location_id = 99" in str(failed.value)


async def test_tax_left_to_heartland_sends_no_tax_line(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 1}])
    await env.adapter(tax_mode="heartland").create_document(order, order.increment_id or "")
    record = env.sales_order(order.increment_id or "")
    items = env.sandbox.backend.s.items
    assert [items[line["item_id"]]["public_id"] for line in record["lines"]] == ["MUG-001"]
    shipping = D(record["shipping"]["amount"])
    assert shipping == order.shipping_amount + order.shipping_tax_amount
