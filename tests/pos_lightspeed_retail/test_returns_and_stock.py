"""Cancellations, credit memos (full, partial, with and without return to stock) on Sales and
Quotes, and the stock sync: Magento gets what R-Series' ``qoh`` says."""

from __future__ import annotations

from decimal import Decimal

from .conftest import Env

D = Decimal


async def test_cancelled_sale_gets_a_refund_sale_that_restocks(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    before = env.control.stock("MUG-001")
    document = await pos.create_document(order, order.increment_id or "")
    assert env.control.stock("MUG-001") == before - 2
    await pos.cancel_document(document, order)
    await pos.cancel_document(document, order)  # a second cancellation does nothing
    (refund,) = env.control.sales(f"CANCEL-{order.increment_id}")
    assert refund["completed"] and refund["total"] == -order.grand_total
    assert refund["payments"] == [("Magento", -order.grand_total)]
    assert env.control.stock("MUG-001") == before
    assert await pos.find_document(order.increment_id or "") == document  # the sale itself stays


async def test_cancelled_quote_is_voided(env: Env) -> None:
    pos = env.adapter(download_orders_as="quote")
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    await pos.cancel_document(document, order)
    (sale,) = env.control.sales(order.increment_id)
    assert sale["voided"]
    assert await pos.find_document(order.increment_id or "") is None


async def test_full_credit_memo_with_return_to_stock(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    before = {sku: env.control.stock(sku) for sku in ("MUG-001", "MUG-350/BLK")}
    original = await pos.create_document(order, order.increment_id or "")
    memo, order = env.refund(order, return_to_stock=True)
    restock = frozenset(i.order_item_id for i in memo.items if i.order_item_id is not None)
    document = await pos.create_return(memo, order, original, memo.increment_id or "", restock)
    (refund,) = env.control.sales(f"CM-{memo.increment_id}")
    assert refund["total"] == -memo.grand_total
    assert refund["payments"] == [("Magento", -memo.grand_total)]
    assert {sku: env.control.stock(sku) for sku in before} == before
    assert await pos.find_return(memo.increment_id or "") == document


async def test_partial_credit_memo_without_return_to_stock(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    original = await pos.create_document(order, order.increment_id or "")
    after_sale = env.control.stock("MUG-001")
    item = next(i for i in order.items if i.sku == "MUG-001")
    memo, order = env.refund(order, items=[{"order_item_id": item.item_id, "qty": 1}], shipping_amount=0)
    await pos.create_return(memo, order, original, memo.increment_id or "", frozenset())
    (refund,) = env.control.sales(f"CM-{memo.increment_id}")
    assert {line["sku"] for line in refund["lines"]} <= {"REFUND", "MAGENTO-TAX"}
    assert refund["total"] == -memo.grand_total
    assert env.control.stock("MUG-001") == after_sale  # money only: nothing back on the shelf


async def test_partial_credit_memo_with_return_to_stock(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    original = await pos.create_document(order, order.increment_id or "")
    after_sale = env.control.stock("MUG-001")
    item = next(i for i in order.items if i.sku == "MUG-001")
    memo, order = env.refund(
        order,
        items=[{"order_item_id": item.item_id, "qty": 1}],
        shipping_amount=0,
        return_to_stock=[item.item_id],
    )
    restock = frozenset({item.item_id}) if item.item_id is not None else frozenset()
    await pos.create_return(memo, order, original, memo.increment_id or "", restock)
    (refund,) = env.control.sales(f"CM-{memo.increment_id}")
    assert [(line["sku"], line["quantity"]) for line in refund["lines"] if line["sku"] == "MUG-001"] == [
        ("MUG-001", D(-1))
    ]
    assert refund["total"] == -memo.grand_total
    assert env.control.stock("MUG-001") == after_sale + 1


async def test_credit_memo_on_a_quote_lowers_or_voids_it(env: Env) -> None:
    pos = env.adapter(download_orders_as="quote")
    order = env.order("simple")
    original = await pos.create_document(order, order.increment_id or "")
    item = next(i for i in order.items if i.sku == "MUG-001")
    memo, order = env.refund(order, items=[{"order_item_id": item.item_id, "qty": 1}], shipping_amount=0)
    for _ in range(2):  # targets, not deltas: twice is harmless
        await pos.create_return(memo, order, original, memo.increment_id or "", frozenset())
    (sale,) = env.control.sales(order.increment_id)
    assert [(line["sku"], line["quantity"]) for line in sale["lines"] if line["sku"] == "MUG-001"] == [
        ("MUG-001", D(1))
    ]
    rest, order = env.refund(order, return_to_stock=True)
    await pos.create_return(rest, order, original, rest.increment_id or "", frozenset())
    (sale,) = env.control.sales(order.increment_id)
    assert sale["voided"]


async def test_stock_levels_are_qoh_of_the_shop_read_fresh(env: Env) -> None:
    pos = env.adapter()
    skus = ["MUG-001", "MH01-S-Gray", "HEADPH-BT/2", "WARRANTY-2Y"]
    levels = await pos.stock_levels(skus)
    assert levels == {sku: env.control.stock(sku) for sku in skus if env.control.stock(sku) is not None}
    assert "HEADPH-BT/2" not in levels  # not in R-Series
    env.control.set_stock("MUG-001", D(77))
    assert (await pos.stock_levels(["MUG-001"]))["MUG-001"] == D(77)  # not from the look-up cache
    order = env.order("simple")
    await pos.create_document(order, order.increment_id or "")
    assert (await pos.stock_levels(["MUG-001"]))["MUG-001"] == D(75)
