"""Exactly once through crashes and faults; cancellations; credit memos; the stock sync."""

from __future__ import annotations

from decimal import Decimal

import pytest

from m2pos.pos.port import PosError

from .conftest import Env

D = Decimal


async def _nosleep(_: float) -> None:
    return None


async def test_a_half_made_order_is_resumed_not_duplicated(env: Env) -> None:
    order = env.order("bundle")
    reference = order.increment_id or ""
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/sales/orders/{id}/lines")
    with pytest.raises(PosError) as failed:
        await env.adapter().create_document(order, reference)
    assert failed.value.retryable and f"Magento order {reference}" in failed.value.message
    partial = env.sales_order(reference)
    assert partial["status"] == "pending" and len(partial["lines"]) == 1
    recovering = env.adapter()
    assert await recovering.find_document(reference) is None
    document = await recovering.create_document(order, reference)
    complete = env.sales_order(reference)
    assert document.id == str(partial["id"]) and complete["status"] == "open"
    assert [code for code, _ in env.codes(complete)] == ["24-WG082-blue", "24-WG084", "24-WG086", "24-WG088"]
    assert await env.adapter().find_document(reference) == document


async def test_a_lost_answer_to_the_invoice_does_not_invoice_twice(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 1}])
    reference = order.increment_id or ""
    before = env.control.inventory("MUG-001")["qty_on_hand"]
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/sales/invoices")
    with pytest.raises(PosError):
        await env.adapter(auto_invoice=True).create_document(order, reference)
    again = env.adapter(auto_invoice=True)
    found = await again.find_document(reference)
    assert found is not None  # the invoice was made: the order is complete
    record = env.sales_order(reference)
    assert len(env.control.invoices(record["id"])) == 1
    assert env.control.inventory("MUG-001")["qty_on_hand"] == before - 1


async def test_an_open_order_missing_its_invoice_is_finished_by_the_next_attempt(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 1}])
    reference = order.increment_id or ""
    env.control.set_faults(error_next=1, route="POST /api/sales/invoices")
    with pytest.raises(PosError):
        await env.adapter(auto_invoice=True, max_attempts=1).create_document(order, reference)
    pos = env.adapter(auto_invoice=True)
    assert await pos.find_document(reference) is None
    await pos.create_document(order, reference)
    assert len(env.control.orders(reference)) == 1
    assert env.sales_order(reference)["status"] == "closed"


async def test_a_post_is_not_repeated_after_a_timeout_but_a_get_is(env: Env) -> None:
    order = env.order("simple")
    pos = env.adapter(timeout_seconds=0.5, sleep=_nosleep)
    env.control.set_faults(
        drop_after_commit_next=1, drop_mode="hang", timeout_seconds=2, route="POST /api/sales/orders"
    )
    with pytest.raises(PosError):
        await pos.create_document(order, order.increment_id or "")
    assert env.control.count("POST /api/sales/orders") == 1
    env.control.reset_faults()
    env.control.set_faults(error_next=1, route="GET /api/sales/orders")
    assert await pos.find_document(order.increment_id or "") is None  # pending: resumed next
    assert env.control.count("GET /api/sales/orders") == 2
    await pos.create_document(order, order.increment_id or "")
    assert len(env.control.orders(order.increment_id)) == 1


async def test_cancelling_releases_committed_stock(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 2}])
    pos = env.adapter(distribute=True)
    before = env.control.inventory("MUG-001")
    document = await pos.create_document(order, order.increment_id or "")
    assert env.control.inventory("MUG-001")["qty_committed"] == before["qty_committed"] + 2
    await pos.cancel_document(document, order)
    await pos.cancel_document(document, order)  # twice is harmless
    assert env.sales_order(order.increment_id or "")["status"] == "canceled"
    assert env.control.inventory("MUG-001") == before


async def test_cancelling_an_invoiced_order_makes_one_return_ticket(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 2}])
    pos = env.adapter(auto_invoice=True)
    before = env.control.inventory("MUG-001")["qty_on_hand"]
    document = await pos.create_document(order, order.increment_id or "")
    await pos.cancel_document(document, order)
    await pos.cancel_document(document, order)
    (ticket,) = env.control.tickets(f"CANCEL-{order.increment_id}")
    assert ticket["status"] == "complete"
    assert env.control.inventory("MUG-001")["qty_on_hand"] == before


async def test_a_partial_credit_memo_on_an_open_order_lowers_its_lines(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 3}])
    pos = env.adapter(distribute=True)
    before = env.control.inventory("MUG-001")["qty_committed"]
    document = await pos.create_document(order, order.increment_id or "")
    (item,) = [i for i in order.items if i.sku == "MUG-001"]
    memo, after = env.refund(
        order, items=[{"order_item_id": item.item_id, "qty": 1}], return_to_stock=True, shipping_amount=0
    )
    reference = memo.increment_id or ""
    done = await pos.create_return(memo, after, document, reference, frozenset({item.item_id or 0}))
    await pos.create_return(memo, after, document, reference, frozenset({item.item_id or 0}))
    assert done.kind == "sales_order_reduced"
    # the refunded tax is on the Refund line (the order's tax is one line, tax_mode = "line")
    assert env.codes(env.sales_order(order.increment_id or "")) == [("MUG-001", D(2)), ("REFUND", D(1))]
    assert env.control.inventory("MUG-001")["qty_committed"] == before + 2


async def test_credit_memos_on_an_invoiced_order_become_tickets_with_and_without_restock(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 3}])
    pos = env.adapter(auto_invoice=True)
    document = await pos.create_document(order, order.increment_id or "")
    on_hand = env.control.inventory("MUG-001")["qty_on_hand"]
    (item,) = [i for i in order.items if i.sku == "MUG-001"]
    memo, after = env.refund(order, items=[{"order_item_id": item.item_id, "qty": 1}], return_to_stock=True)
    first = await pos.create_return(
        memo, after, document, memo.increment_id or "", frozenset({item.item_id or 0})
    )
    assert await env.adapter().find_return(memo.increment_id or "") == first
    assert env.control.inventory("MUG-001")["qty_on_hand"] == on_hand + 1
    memo2, after2 = env.refund(
        order, items=[{"order_item_id": item.item_id, "qty": 1}], return_to_stock=False
    )
    await pos.create_return(memo2, after2, document, memo2.increment_id or "", frozenset())
    (ticket,) = env.control.tickets(f"CM-{memo2.increment_id}")
    assert next(code for code, _ in env.codes(ticket)) == "REFUND"
    assert env.control.inventory("MUG-001")["qty_on_hand"] == on_hand + 1


async def test_stock_levels_are_on_hand_minus_committed(env: Env) -> None:
    env.control.set_on_hand("MUG-001", 10)
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 3}])
    pos = env.adapter(distribute=True)
    await pos.create_document(order, order.increment_id or "")
    levels = await env.adapter().stock_levels(["MUG-001", "HEADPH-BT/2", "WARRANTY-2Y"])
    assert levels == {"MUG-001": D(7)}


async def test_a_half_made_return_ticket_is_resumed_once(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 2}, {"sku": "24-WG084", "qty": 1}])
    pos = env.adapter(auto_invoice=True)
    document = await pos.create_document(order, order.increment_id or "")
    on_hand = env.control.inventory("MUG-001")["qty_on_hand"]
    memo, after = env.refund(order, return_to_stock=True)
    reference = memo.increment_id or ""
    restock = frozenset(i.order_item_id or 0 for i in memo.items)
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/sales/tickets/{id}/lines")
    with pytest.raises(PosError):
        await pos.create_return(memo, after, document, reference, restock)
    recovering = env.adapter(auto_invoice=True)
    assert await recovering.find_return(reference) is None  # pending: not taken as done
    done = await recovering.create_return(memo, after, document, reference, restock)
    (ticket,) = env.control.tickets(f"CM-{reference}")
    assert done.id == str(ticket["id"]) and ticket["status"] == "complete"
    products = sorted(c for c in env.codes(ticket) if c[0] != "REFUND")  # REFUND: the shipping
    assert products == [("24-WG084", D(-1)), ("MUG-001", D(-2))]
    assert env.control.inventory("MUG-001")["qty_on_hand"] == on_hand + 2
    assert await env.adapter().find_return(reference) == done


async def test_a_half_made_order_whose_lines_differ_is_abandoned_and_made_again(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 1}])
    reference = order.increment_id or ""
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/sales/orders/{id}/lines")
    with pytest.raises(PosError):
        await env.adapter().create_document(order, reference)
    (half,) = env.control.orders(reference)
    line = half["lines"][0]
    env.sandbox.backend.s.orders[half["id"]]["lines"][0]["qty"] = "5"  # someone changed it in Heartland
    recovering = env.adapter()
    assert await recovering.find_document(reference) is None
    document = await recovering.create_document(order, reference)
    (made,) = env.control.orders(reference)
    assert document.id == str(made["id"]) != str(half["id"]) and line["id"] != made["lines"][0]["id"]
    assert env.sandbox.backend.order(half["id"])["status"] == "canceled"


async def test_a_credit_memo_on_an_open_order_refunds_shipping_and_payment_once(env: Env) -> None:
    order = env.order("simple", items=[{"sku": "MUG-001", "qty": 2}])
    pos = env.adapter()
    document = await pos.create_document(order, order.increment_id or "")
    (item,) = [i for i in order.items if i.sku == "MUG-001"]
    memo, after = env.refund(order, items=[{"order_item_id": item.item_id, "qty": 1}], shipping_amount=5.0)
    reference = memo.increment_id or ""
    for _ in range(2):  # a retry after a lost answer changes nothing more
        await pos.create_return(memo, after, document, reference, frozenset())
    record = env.sales_order(order.increment_id or "")
    refunds = [line for line in record["lines"] if reference in str(line["description"])]
    refunded = memo.shipping_amount + memo.tax_amount  # the tax is one line (tax_mode = "line")
    assert len(refunds) == 1 and D(refunds[0]["qty"]) * D(refunds[0]["unit_price"]) == -refunded
    reversed_ = [p for p in record["payments"] if p["reference"] == f"CM-{reference}"]
    assert len(reversed_) == 1 and D(reversed_[0]["amount"]) == -memo.grand_total
    assert ("MUG-001", D(1)) in env.codes(record)
    assert D(record["total"]) == order.grand_total - memo.grand_total  # what the customer still owes
