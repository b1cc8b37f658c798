"""Resending one order (``m2pos resend``, the console's "resend"): through the CLI against the
Magento sandbox and the memory POS. Never a second document, never a second invoice."""

from __future__ import annotations

from m2pos.engine.crash import EXIT_CODE
from m2pos.ledger import OrderStatus
from m2pos.rules import plan_resend
from tests.engine.conftest import Store
from tests.engine.invariants import magento_invoices


def row_of(store: Store, number: str):  # type: ignore[no-untyped-def]
    ledger = store.ledger()
    try:
        return ledger.orders_by_number(number)[0]
    finally:
        ledger.close()


def test_a_skipped_order_is_sent_once_and_not_invoiced(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="checkmo")  # unpaid: waits
    assert store.cli("sync", "--once").exit_code == 0
    assert row_of(store, order["increment_id"]).status == OrderStatus.WAITING
    resent = store.cli("resend", order["increment_id"], "--yes")
    assert resent.exit_code == 0, resent.output
    assert "not in the POS" in resent.output and "was resent" in resent.output
    assert store.pos_references() == [order["increment_id"]]
    assert magento_invoices(store).get(order["entity_id"], []) == []
    again = store.cli("resend", order["increment_id"], "--yes")
    assert "nothing was created" in again.output
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [order["increment_id"]]  # still once, cycles after it too
    assert magento_invoices(store).get(order["entity_id"], []) == []


def test_a_document_deleted_in_the_pos_is_created_again_without_a_second_invoice(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    first = row_of(store, order["increment_id"])
    assert first.status == OrderStatus.TRANSFERRED and first.invoice_id is not None
    pos = store.pos()
    try:
        pos.delete_document(first.pos_document_id)
    finally:
        pos._db.close()
    assert store.pos_references() == []
    resent = store.cli("resend", order["increment_id"], "--yes")
    assert resent.exit_code == 0, resent.output
    assert "Its Magento invoice is not made again" in resent.output
    row = row_of(store, order["increment_id"])
    assert store.pos_references() == [order["increment_id"]]
    assert row.pos_document_id != first.pos_document_id and row.invoice_id == first.invoice_id
    assert magento_invoices(store)[order["entity_id"]] == [first.invoice_id]


def test_a_requested_resend_is_carried_out_by_the_next_cycle(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="checkmo")
    assert store.cli("sync", "--once").exit_code == 0
    ledger = store.ledger()
    try:
        ledger.request_resend(order["entity_id"], "console: merchant")
    finally:
        ledger.close()
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [order["increment_id"]]
    ledger = store.ledger()
    try:
        assert ledger.resends_due() == []
        steps = [(e.step, e.detail) for e in ledger.events("order", order["entity_id"])]
    finally:
        ledger.close()
    assert ("resend_requested", "resend requested by console: merchant") in steps
    assert any(step == "resend" and "was resent" in detail for step, detail in steps)


def test_an_order_cancelled_before_download_is_not_resent(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="checkmo")
    store.sandbox.control.cancel(order["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    refused = store.cli("resend", order["increment_id"], "--yes")
    assert refused.exit_code == 1
    assert "cancelled in Magento before it reached the POS" in refused.output
    assert store.pos_references() == []


def test_a_crash_during_a_resend_leaves_one_document(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="checkmo")
    assert store.cli("sync", "--once").exit_code == 0
    crashed = store.process(
        "resend", order["increment_id"], "--yes", env={"M2POS_CRASH_AT": "after_pos_create"}
    )
    assert crashed.returncode == EXIT_CODE, crashed.stderr
    assert store.pos_references() == [order["increment_id"]]  # written, not recorded
    ledger = store.ledger()
    try:
        ledger.request_resend(order["entity_id"], "console: merchant")  # the person tries again
    finally:
        ledger.close()
    assert store.cli("sync", "--once").exit_code == 0
    assert store.pos_references() == [order["increment_id"]]
    row = row_of(store, order["increment_id"])
    assert row.pos_document_id is not None and row.resend_requested_at is None


def test_the_confirmation_says_what_will_happen() -> None:
    cancelled = plan_resend("100", pos_document=None, invoiced=False, cancelled=True, why_not_sent=None)
    assert not cancelled.allowed
    skipped = plan_resend("101", pos_document=None, invoiced=False, cancelled=False, why_not_sent="Not paid.")
    assert skipped.allowed and "(Not paid)" in skipped.text and "not invoiced" in skipped.text
    present = plan_resend("102", pos_document="sale S-1", invoiced=True, cancelled=False, why_not_sent=None)
    assert "in the POS as sale S-1" in present.text and "invoice is not made again" in present.text
    # An order cancelled after download is in the POS: resending looks it up, it is allowed.
    assert plan_resend(
        "103", pos_document="sale S-2", invoiced=False, cancelled=True, why_not_sent=None
    ).allowed
