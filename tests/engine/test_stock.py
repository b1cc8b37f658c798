"""Stock back to Magento, and credit memos restocked in the POS as Magento did."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.engine.conftest import Store

SKU = "24-UG06"
PUSH = "POST /V1/inventory/source-items"


def magento_quantity(store: Store, sku: str) -> float:
    return next(
        float(s["quantity"]) for s in store.sandbox.control.stock(sku) if s["source_code"] == "default"
    )


def set_pos_stock(store: Store, sku: str, quantity: int) -> None:
    pos = store.pos()
    try:
        pos.set_stock(sku, Decimal(quantity))
    finally:
        pos._db.close()


def pos_stock(store: Store, sku: str) -> Decimal:
    pos = store.pos()
    try:
        row = pos._db.execute("SELECT on_hand FROM stock WHERE sku = ?", (sku,)).fetchone()
        return Decimal(row[0])
    finally:
        pos._db.close()


def test_the_pos_quantity_is_pushed_to_magento_only_when_it_changed(store: Store) -> None:
    set_pos_stock(store, SKU, 42)
    assert store.cli("sync", "--once").exit_code == 0
    assert magento_quantity(store, SKU) == 42
    pushes = store.sandbox.control.count(PUSH)
    assert pushes == 1
    assert store.cli("sync", "--once").exit_code == 0
    assert store.sandbox.control.count(PUSH) == pushes  # nothing changed: nothing sent
    # An order taken by the POS (through m2pos) lowers its stock; Magento follows at the next cycle.
    store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": SKU, "qty": 2}])
    assert store.cli("sync", "--once").exit_code == 0
    assert pos_stock(store, SKU) == 40
    assert magento_quantity(store, SKU) == 40


def test_stock_sync_can_be_switched_off(store: Store) -> None:
    store.configure(inventory={"sync": False})
    set_pos_stock(store, SKU, 42)
    assert store.cli("sync", "--once").exit_code == 0
    assert store.sandbox.control.count(PUSH) == 0


def test_restock_as_magento_needs_the_stock_sync(store: Store) -> None:
    store.configure(inventory={"sync": False}, credit_memos={"restock": "as_magento"})
    result = store.cli("sync", "--once")
    assert result.exit_code == 2
    assert "credit_memos.restock" in result.output


@pytest.mark.parametrize(
    ("shipped", "returned"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_credit_memo_restocks_the_pos_exactly_when_magento_did(
    store: Store, shipped: bool, returned: bool
) -> None:
    store.configure(credit_memos={"restock": "as_magento"})
    set_pos_stock(store, SKU, 10)
    order = store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": SKU, "qty": 2}])
    assert store.cli("sync", "--once").exit_code == 0  # transferred and invoiced; POS 8, Magento 8
    if shipped:
        store.sandbox.control.ship(order["entity_id"])
        assert store.cli("sync", "--once").exit_code == 0  # the shipment is seen, Magento set back to 8
    # The merchant refunds later: not within the second of a stock read (Magento stamps whole seconds,
    # so a memo in the second of m2pos's first read could be before or after it).
    time.sleep(1.1)
    store.sandbox.control.refund(order["entity_id"], return_to_stock=returned)
    time.sleep(1.1)  # the next stock read must come after the credit memo's (whole-second) stamp
    result = store.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    returns = store.pos().documents("return")
    assert len(returns) == 1
    assert [line["restock"] for line in returns[0].body["lines"]] == [returned]
    assert pos_stock(store, SKU) == (10 if returned else 8)
    explained = [
        e.detail
        for e in store.ledger().events("credit_memo", store.ledger().list_credit_memos()[0].magento_entity_id)
    ]
    assert any(("returned to stock" if returned else "not returned to stock") in d for d in explained)


def test_another_movement_of_the_same_sku_makes_the_signal_unreadable(store: Store) -> None:
    store.configure(credit_memos={"restock": "as_magento"})
    set_pos_stock(store, SKU, 10)
    first = store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": SKU, "qty": 2}])
    second = store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": SKU, "qty": 1}])
    assert store.cli("sync", "--once").exit_code == 0
    store.sandbox.control.ship(first["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    time.sleep(1.1)
    store.sandbox.control.refund(first["entity_id"], return_to_stock=True)  # +2 at the source
    store.sandbox.control.ship(second["entity_id"])  # -1 at the source, in the same interval
    time.sleep(1.1)
    assert store.cli("sync", "--once").exit_code == 0
    returns = store.pos().documents("return")
    assert [line["restock"] for line in returns[0].body["lines"]] == [False]
    ledger = store.ledger()
    memo = ledger.list_credit_memos()[0]
    notes = [e.detail for e in ledger.events("credit_memo", memo.magento_entity_id) if e.step == "restock"]
    expected = "moved by +1, which matches neither a return (+2) nor no return (0)"
    assert any(expected in n for n in notes), notes
