"""Every download rule, driven through the CLI against the Magento sandbox over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.engine.conftest import Store


def test_auto_invoice_downloads_a_paid_order_then_invoices_it_once(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    result = store.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    assert store.pos_references() == [order["increment_id"]]
    after = store.sandbox.control.get_order(order["entity_id"])
    assert after["total_invoiced"] == after["grand_total"]
    assert after["state"] == "processing"
    assert store.sandbox.control.count("POST /V1/order/{orderId}/invoice") == 1
    # A second cycle changes nothing.
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [order["increment_id"]]
    assert store.sandbox.control.count("POST /V1/order/{orderId}/invoice") == 1


def test_auto_invoice_waits_for_an_unpaid_check_order_and_explains_why(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="checkmo")
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == []
    explained = store.cli("explain", order["increment_id"])
    assert "waits for payment" in explained.output
    assert "method=checkmo" in explained.output
    # The merchant trusts check/money orders: the next cycle takes it.
    store.configure(orders={"paid_methods": ["checkmo"]})
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [order["increment_id"]]


def test_auto_invoice_skips_orders_invoiced_elsewhere_and_warns(store: Store) -> None:
    for _ in range(3):
        store.sandbox.control.place_order("simple", payment="captured")  # the gateway invoiced it
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == []
    status = store.cli("status")
    assert "Another auto-invoicing feature" in status.output


def test_wait_for_invoice_downloads_once_invoiced_and_never_invoices(store: Store) -> None:
    store.configure(orders={"mode": "wait_for_invoice"})
    order = store.sandbox.control.place_order("configurable", payment="checkmo")
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == []
    store.sandbox.control.invoice(order["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [order["increment_id"]]
    assert store.sandbox.control.count("POST /V1/order/{orderId}/invoice") == 0


def test_download_orders_off_downloads_nothing(store: Store) -> None:
    store.configure(orders={"download_orders": False})
    store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == []
    assert "Download Orders is off" in store.cli("orders", "--status", "skipped").output


def test_cancelled_before_download_is_never_downloaded(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    store.sandbox.control.cancel(order["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == []
    assert "cancelled before it was downloaded" in store.cli("explain", order["increment_id"]).output


def test_orders_before_the_start_date_are_left_alone_until_backfilled(store: Store) -> None:
    old = store.sandbox.control.place_order(
        "simple",
        payment="authorised",
        created_at=(datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    new = store.sandbox.control.place_order("simple", payment="authorised")
    start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.configure(orders={"start_date": start})
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [new["increment_id"]]
    since = (datetime.now(UTC) - timedelta(days=5)).strftime("%Y-%m-%d")
    result = store.cli("backfill", "--since", since)
    assert result.exit_code == 0, result.output
    assert store.pos_references() == sorted([old["increment_id"], new["increment_id"]])


def test_one_bad_order_is_set_aside_without_blocking_the_others(store: Store) -> None:
    bad_sku, good_sku = "24-MB01", "24-UG06"
    bad = store.sandbox.control.place_order(
        "simple", payment="authorised", items=[{"sku": bad_sku, "qty": 1}]
    )
    good = store.sandbox.control.place_order(
        "simple", payment="authorised", items=[{"sku": good_sku, "qty": 1}]
    )
    store.configure(pos={"reject_skus": [bad_sku]}, orders={"max_attempts": 2})
    result = store.cli("sync", "--once")
    assert result.exit_code == 1
    assert f"Order {bad['increment_id']}" in result.output
    assert bad_sku in result.output
    assert good["increment_id"] in store.pos_references()
    assert bad["increment_id"] not in store.pos_references()
    failed = store.cli("orders", "--status", "needs_attention")  # the POS refusal cannot mend itself
    assert bad["increment_id"] in failed.output
    # The merchant restores the product in the POS, then retries.
    store.configure(pos={"reject_skus": []})
    retried = store.cli("retry", bad["increment_id"])
    assert retried.exit_code == 0, retried.output
    assert bad["increment_id"] in store.pos_references()


def test_credit_memo_of_a_downloaded_order_becomes_one_return(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    memo_id = store.sandbox.control.refund(order["entity_id"], return_to_stock=True)
    assert store.cli("sync", "--once").exit_code == 0
    assert store.cli("sync", "--once").exit_code == 0
    returns = store.pos().documents("return")
    assert len(returns) == 1
    ledger = store.ledger()
    memo = ledger.credit_memo(memo_id)
    assert memo is not None
    assert memo.pos_return_id == returns[0].id


def test_download_credit_memos_off(store: Store) -> None:
    store.configure(orders={"download_credit_memos": False})
    order = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    store.sandbox.control.refund(order["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos().documents("return") == []
    assert store.ledger().credit_memo_counts() == {"skipped": 1}


def test_the_mode_is_not_retroactive(store: Store) -> None:
    assert store.cli("sync", "--once").exit_code == 0  # Auto-Invoice recorded in the history
    before = store.sandbox.control.place_order("simple", payment="authorised")
    time.sleep(1.1)  # Magento's timestamps have whole seconds
    store.configure(orders={"mode": "wait_for_invoice"})
    assert store.cli("sync", "--once").exit_code == 0
    time.sleep(1.1)
    after = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    # Created under Auto-Invoice: downloaded and invoiced by m2pos although the mode is now Wait for Invoice.
    assert store.pos_references() == [before["increment_id"]]
    assert store.sandbox.control.count("POST /V1/order/{orderId}/invoice") == 1
    assert "waits for an invoice" in store.cli("explain", after["increment_id"]).output


def test_cancelled_after_download_is_carried_to_the_pos(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    crashed = store.process("sync", "--once", env={"M2POS_CRASH_AT": "after_pos_create"})
    assert crashed.returncode == 86, crashed.stderr
    # The order reached the POS but m2pos died before invoicing; the merchant cancels it meanwhile.
    store.sandbox.control.cancel(order["entity_id"])
    result = store.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    documents = store.pos().documents("sale")
    assert [(d.reference, d.status) for d in documents] == [(order["increment_id"], "void")]
    assert store.sandbox.control.count("POST /V1/order/{orderId}/invoice") == 0
    assert store.ledger().open_intents() == []


def test_only_selected_store_views_are_downloaded(store: Store) -> None:
    store.configure(magento={"store_ids": [2]})
    one = store.sandbox.control.place_order("simple", payment="authorised", store_id=1)
    two = store.sandbox.control.place_order("simple", payment="authorised", store_id=2)
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [two["increment_id"]]
    seen = [row.increment_id for row in store.ledger().list_orders()]
    assert seen == [two["increment_id"]]  # filtered in the Magento search itself
    assert one["increment_id"] != two["increment_id"]


def test_reconciliation_finds_an_order_the_incremental_read_missed(store: Store) -> None:
    store.configure(orders={"reconcile_every_seconds": 100_000})
    assert store.cli("sync", "--once").exit_code == 0  # reconciles once, then not for a long time
    # An order whose transaction committed late: the cursor (minus the overlap) is already past it.
    late = store.sandbox.control.place_order("simple", payment="authorised")
    store.ledger().set_cursor("orders", datetime.now(UTC) + timedelta(hours=1))
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == []
    store.configure(orders={"reconcile_every_seconds": 1})
    time.sleep(1.1)
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [late["increment_id"]]


def test_credit_memo_of_an_order_never_downloaded_is_skipped(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="captured")  # invoiced elsewhere: skipped
    store.sandbox.control.refund(order["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos().documents("return") == []
    assert store.ledger().credit_memo_counts() == {"skipped": 1}
