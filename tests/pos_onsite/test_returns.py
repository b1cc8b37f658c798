"""Cancellations and credit memos: Orders voided (reservations released), Invoices returned, credit
memos as return invoices with their tax and discount, Refund lines, stock back only when restocked,
each exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from m2pos.magento.models import Order
from m2pos.pos.port import PosError

from .conftest import Env, lines

D = Decimal


def _money_item(order: Order, sku: str) -> int:
    item = next(i for i in order.items if i.sku == sku and i.parent_item_id is None)
    assert item.item_id is not None
    return item.item_id


async def test_cancelling_an_order_voids_it_and_releases_the_reservation(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True, create_order_deposits=True)
    before = env.stock("MUG-001")
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    assert env.stock("MUG-001") == (before[0], before[1] + 2)
    await pos.cancel_document(document, order)
    record = env.document(document)
    assert record["voided"] and record["status"] == "Voided"
    assert env.stock("MUG-001") == before
    env.control.reset_counters()
    await pos.cancel_document(document, order)  # a second cancellation: nothing more
    assert env.control.counters()["counters"] == {"GET /api/orders/{id}/": 1}
    assert env.control.check_inventory() == []


async def test_cancelling_an_invoice_gives_it_a_return_invoice_once(env: Env) -> None:
    pos = env.adapter()
    before = env.stock("MUG-001")
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    await pos.cancel_document(document, order)
    await pos.cancel_document(document, order)
    (returned,) = env.control.invoices(f"CANCEL-{order.increment_id}")
    assert returned["returned_invoice_id"] == int(document.id[2:])
    assert lines(returned) == [(code, -qty, price) for code, qty, price in lines(env.document(document))]
    assert returned["totals"]["total"] == -order.grand_total
    assert env.stock("MUG-001") == before  # the goods are back


async def test_cancelling_a_converted_order_returns_its_invoice(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True)
    before = env.stock("MUG-001")
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    invoice_id = env.control.convert_order(int(document.id[2:]))  # staff turned it into an invoice
    assert env.stock("MUG-001") == (before[0] - 2, before[1])
    await pos.cancel_document(document, order)
    (returned,) = env.control.invoices(f"CANCEL-{order.increment_id}")
    assert returned["returned_invoice_id"] == invoice_id
    assert env.stock("MUG-001") == before


async def test_full_credit_memo_with_restock_on_an_invoice(env: Env) -> None:
    pos = env.adapter()
    order = env.order("configurable", coupon_percent=10)
    document = await pos.create_document(order, order.increment_id or "")
    before = env.stock("MH01-S-Gray")
    memo, order = env.refund(order, return_to_stock=True)
    item = _money_item(order, "MH01-S-Gray")
    assert memo.increment_id is not None
    returned = await pos.create_return(memo, order, document, memo.increment_id, frozenset({item}))
    assert returned.kind == "return"
    record = env.document(returned)
    assert record["returned_invoice_id"] == int(document.id[2:])
    assert record["import_id"] == f"CM-{memo.increment_id}"
    sold = env.document(document)
    product = next(line for line in sold["lines"] if line["code"] == "MH01-S-Gray")
    back = next(line for line in record["lines"] if line["code"] == "MH01-S-Gray")
    assert (back["quantity"], back["sell_price"]) == (-product["quantity"], product["sell_price"])  # discount
    assert record["totals"]["tax"] == -memo.tax_amount  # its tax
    assert record["totals"]["total"] == -memo.grand_total
    assert env.stock("MH01-S-Gray") == (before[0] + 1, before[1])
    # Found again by the memo's reference (crash recovery), in a new process.
    assert await env.adapter().find_return(memo.increment_id) == returned
    assert await env.adapter().find_return("999999") is None


async def test_partial_credit_memo_without_restock_is_money_only(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    item = _money_item(order, "MUG-001")
    before = env.stock("MUG-001")
    memo, order = env.refund(
        order, items=[{"order_item_id": item, "qty": 1}], shipping_amount=5, adjustment_positive=2
    )
    returned = await pos.create_return(memo, order, document, memo.increment_id or "", frozenset())
    record = env.document(returned)
    assert [(code, qty) for code, qty, _ in lines(record)] == [("REFUND", D(-1)), ("REFUND", D(-1))]
    descriptions = [line["description"] for line in record["lines"]]
    assert descriptions[0].startswith("Refund (not restocked): MUG-001")
    assert descriptions[1] == "Refund: shipping 5.00, adjustment refund 2.00"
    assert record["totals"]["total"] == -memo.grand_total
    assert env.stock("MUG-001") == before  # nothing came back to stock


async def test_partial_credit_memo_with_restock_of_one_bundle_component(env: Env) -> None:
    pos = env.adapter()
    order = env.order("bundle")
    document = await pos.create_document(order, order.increment_id or "")
    child = next(i for i in order.items if i.sku == "24-WG084")
    other = next(i for i in order.items if i.sku == "24-WG086")
    assert child.item_id and other.item_id
    before = {sku: env.stock(sku) for sku in ("24-WG084", "24-WG086")}
    memo, order = env.refund(
        order,
        items=[{"order_item_id": child.item_id, "qty": 1}, {"order_item_id": other.item_id, "qty": 1}],
        return_to_stock=[child.item_id],
        shipping_amount=0,
    )
    restock = frozenset({child.item_id})
    record = env.document(await pos.create_return(memo, order, document, memo.increment_id or "", restock))
    codes = [code for code, _, _ in lines(record)]
    assert codes == ["24-WG084", "REFUND"]
    assert env.stock("24-WG084") == (before["24-WG084"][0] + 1, before["24-WG084"][1])
    assert env.stock("24-WG086") == before["24-WG086"]
    assert record["totals"]["total"] == -memo.grand_total


async def test_credit_memos_on_an_order_still_open_lower_it(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True, create_order_deposits=True)
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    before = env.stock("MUG-001")
    item = _money_item(order, "MUG-001")
    memo, order = env.refund(order, items=[{"order_item_id": item, "qty": 1}], shipping_amount=5)
    result = await pos.create_return(memo, order, document, memo.increment_id or "", frozenset({item}))
    assert result.id == document.id
    record = env.document(document)
    mug = next(line for line in record["lines"] if line["code"] == "MUG-001")
    assert (mug["quantity"], mug["reserved"]) == (1, 1)
    assert env.stock("MUG-001") == (before[0], before[1] - 1)  # reservation follows; nothing left the shop
    assert record["totals"]["total"] == order.grand_total - memo.grand_total
    # Done twice (a retry after a crash): nothing changes.
    await pos.create_return(memo, order, document, memo.increment_id or "", frozenset({item}))
    assert env.document(document)["lines"] == record["lines"]
    # The rest refunded: the order is voided, its reservations released.
    memo2, order = env.refund(order, shipping_amount=10)
    await pos.create_return(memo2, order, document, memo2.increment_id or "", frozenset())
    assert env.document(document)["voided"]
    assert env.stock("MUG-001") == (before[0], before[1] - 2)
    assert env.control.check_inventory() == []


async def test_credit_memo_on_a_converted_order_returns_the_invoice(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", create_order_deposits=True)
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    invoice_id = env.control.convert_order(int(document.id[2:]))
    before = env.stock("MUG-350/BLK")
    memo, order = env.refund(order, return_to_stock=True)
    restock = frozenset(i.item_id for i in order.items if i.item_id is not None)
    returned = await pos.create_return(memo, order, document, memo.increment_id or "", restock)
    record = env.document(returned)
    assert record["returned_invoice_id"] == invoice_id
    assert record["totals"]["total"] == -memo.grand_total
    assert env.stock("MUG-350/BLK") == (before[0] + 1, before[1])


async def test_a_return_half_made_by_a_crash_is_resumed(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    document = await pos.create_document(order, order.increment_id or "")
    before = env.stock("MUG-001")
    memo, order = env.refund(order, return_to_stock=True)
    reference = memo.increment_id or ""
    restock = frozenset(i.item_id for i in order.items if i.item_id is not None)
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/invoices/*/lineitems/")
    with pytest.raises(PosError, match="Return for Magento credit memo"):  # the first line's reply is lost
        await pos.create_return(memo, order, document, reference, restock)
    recovering = env.adapter()
    assert await recovering.find_return(reference) is None  # half-made: not done yet
    returned = await recovering.create_return(memo, order, document, reference, restock)
    (record,) = env.control.invoices(f"CM-{reference}")
    assert returned.id == f"I-{record['id']}"
    assert record["totals"]["total"] == -memo.grand_total
    assert env.stock("MUG-001") == (before[0] + 2, before[1])  # each line once
    assert await env.adapter().find_return(reference) == returned
