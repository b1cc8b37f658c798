"""The scenarios every POS passes: document types, guests, configurable lines, unknown SKUs,
cancellations, credit memos with and without return to stock, the stock sync, and recovery."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from m2pos.engine import Outcome
from m2pos.pos import open_pos
from m2pos.sandbox.magento._store import CREDITMEMOS
from tests.pos_suite.conftest import Shop

D = Decimal


def stock_skus(order: dict) -> dict[str, Decimal]:  # type: ignore[type-arg]
    """Magento SKU → quantity of the rows that hold stock (simple children, simple products)."""
    out: dict[str, Decimal] = {}
    for item in order["items"]:
        if item["product_type"] in ("simple", "virtual"):
            out[item["sku"]] = out.get(item["sku"], D(0)) + D(str(item["qty_ordered"]))
    return out


async def test_paid_orders_land_once_with_their_lines_and_customer(shop: Shop) -> None:
    registered = shop.control.place_order("simple", payment="authorised", guest=False, customer_index=3)
    guest = shop.control.place_order("simple", payment="free", guest=True, customer_index=7)
    configurable = shop.control.place_order("configurable", payment="authorised")
    report = await shop.cycle()
    assert report.ok, (report.errors, [r.message for r in report.failed])
    assert report.count(Outcome.TRANSFERRED) == 3
    for order in (registered, guest, configurable):
        (document,) = shop.target.documents(order["increment_id"])
        assert not document.cancelled
        assert document.product_lines() == stock_skus(order), document  # the child SKU, not the parent
        assert (document.customer_email or "").lower() == order["customer_email"].lower()
    again = await shop.cycle()
    assert again.ok and again.count(Outcome.TRANSFERRED) == 0
    assert len(shop.target.documents(registered["increment_id"])) == 1


async def test_an_unknown_sku_still_transfers_on_a_no_product_found_line(shop: Shop) -> None:
    sku = shop.target.unknown_sku
    order = shop.control.place_order("simple", payment="authorised", items=[{"sku": sku, "qty": 1}])
    report = await shop.cycle()
    assert report.ok, (report.errors, [r.message for r in report.failed])
    (document,) = shop.target.documents(order["increment_id"])
    assert any(line.sku is None and sku in line.description for line in document.lines), document
    assert sku not in document.product_lines()


async def test_a_cancellation_after_download_is_carried(shop: Shop) -> None:
    order = shop.control.place_order("simple", payment="authorised")
    # The invoice step fails, so the order is in the POS and still cancellable in Magento.
    shop.control.set_faults(route="POST /V1/order/{orderId}/invoice", error_rate=1.0)
    first = await shop.cycle(orders={"max_attempts": 5})
    shop.control.reset_faults()
    assert [d.cancelled for d in shop.target.documents(order["increment_id"])] == [False], first.errors
    assert shop.control.cancel(order["entity_id"])
    report = await shop.cycle()
    assert report.ok, (report.errors, [r.message for r in report.failed])
    (document,) = shop.target.documents(order["increment_id"])
    assert document.cancelled
    assert shop.control.get_order(order["entity_id"]).get("total_invoiced") in (None, 0, 0.0)


async def _refund(shop: Shop, return_to_stock: bool) -> tuple[dict, int]:  # type: ignore[type-arg]
    order = shop.control.place_order("simple", payment="authorised", items=[{"sku": "MUG-001", "qty": 2}])
    assert (await shop.cycle()).ok
    await asyncio.sleep(1.1)  # Magento stamps whole seconds: not in the second of a stock read
    memo_id = shop.control.refund(order["entity_id"], return_to_stock=return_to_stock)
    await asyncio.sleep(1.1)  # the next stock read comes after the credit memo's stamp
    report = await shop.cycle()
    assert report.ok, (report.errors, [r.message for r in report.failed])
    memo = shop.sandbox.backend.get_document(CREDITMEMOS, memo_id)
    return order, str(memo["increment_id"])


async def test_a_credit_memo_returned_to_stock_is_restocked(shop: Shop) -> None:
    order, memo = await _refund(shop, return_to_stock=True)
    assert shop.target.credit_memo_carried(order["increment_id"], memo)
    expected = {"MUG-001": D(2)} if shop.target.takes_stock else {}
    assert dict(shop.target.restocked(memo)) == expected


async def test_a_credit_memo_not_returned_to_stock_moves_no_stock(shop: Shop) -> None:
    order, memo = await _refund(shop, return_to_stock=False)
    assert shop.target.credit_memo_carried(order["increment_id"], memo)
    assert dict(shop.target.restocked(memo)) == {}


async def test_the_stock_sync_sends_what_the_pos_has_available(shop: Shop) -> None:
    shop.control.place_order("simple", payment="authorised", items=[{"sku": "MUG-001", "qty": 3}])
    report = await shop.cycle()
    assert report.ok and report.stock is not None and report.stock.skus_matched > 0
    available = shop.target.available("MUG-001")
    assert available is not None
    assert shop.source_quantity("MUG-001") == available


async def test_a_document_is_found_again_by_its_reference(shop: Shop) -> None:
    order = shop.control.place_order("bundle", payment="authorised")
    assert (await shop.cycle()).ok
    (document,) = shop.target.documents(order["increment_id"])
    settings = shop.settings()
    pos = open_pos(settings.pos)
    try:
        found = await pos.find_document(order["increment_id"])
        assert found is not None and found.reference == order["increment_id"]
        assert await pos.find_document("000999999") is None
    finally:
        await pos.aclose()
    assert document.product_lines() == stock_skus(order)
