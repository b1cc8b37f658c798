"""Resending one order (``m2pos resend``, the console's "resend"): through the CLI against the
Magento sandbox and the memory POS. Never a second document, never a second invoice."""

from __future__ import annotations

from m2pos.engine.crash import EXIT_CODE
from m2pos.engine.items import describe_resend
from m2pos.ledger import OrderRow, OrderStatus
from m2pos.rules import plan_resend
from tests.engine import invariants
from tests.engine.conftest import Store
from tests.engine.invariants import Expectation, magento_invoices


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


# --- more cases: an order still in the POS, a failed Auto-Invoice order, cancellations, failures ---

BAD_SKU = "24-MB01"


def _delete_in_pos(store: Store, document_id: str | None) -> None:
    assert document_id is not None
    pos = store.pos()
    try:
        pos.delete_document(document_id)
    finally:
        pos._db.close()


def test_an_order_still_in_the_pos_is_not_created_again_nor_invoiced_again(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    before = row_of(store, order["increment_id"])
    resent = store.cli("resend", order["increment_id"], "--yes")
    assert resent.exit_code == 0, resent.output
    assert f"is in the POS as sale {before.pos_document_id}: nothing was created" in resent.output
    assert store.pos_references() == [order["increment_id"]]
    assert magento_invoices(store)[order["entity_id"]] == [before.invoice_id]
    after = row_of(store, order["increment_id"])
    assert (after.pos_document_id, after.status) == (before.pos_document_id, OrderStatus.TRANSFERRED)


def test_the_ledger_is_relinked_when_the_pos_shows_another_id(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    before = row_of(store, order["increment_id"])
    pos = store.pos()
    try:  # staff re-keyed the document in the POS
        pos._db.execute("UPDATE documents SET id = 'S-rekeyed' WHERE id = ?", (before.pos_document_id,))
    finally:
        pos._db.close()
    resent = store.cli("resend", order["increment_id"], "--yes")
    assert "is in the POS as sale S-rekeyed: nothing was created" in resent.output
    after = row_of(store, order["increment_id"])
    assert (after.pos_document_id, after.invoice_id, after.status) == (
        "S-rekeyed",
        before.invoice_id,
        OrderStatus.TRANSFERRED,
    )
    assert store.pos_references() == [order["increment_id"]]


def test_a_failed_auto_invoice_order_is_sent_then_invoiced_once(store: Store) -> None:
    store.configure(pos={"reject_skus": [BAD_SKU]})
    order = store.sandbox.control.place_order(
        "simple", payment="authorised", items=[{"sku": BAD_SKU, "qty": 1}]
    )
    assert store.cli("sync", "--once").exit_code == 1
    assert row_of(store, order["increment_id"]).status == OrderStatus.NEEDS_ATTENTION
    store.configure(pos={"reject_skus": []})  # the product is sellable again
    resent = store.cli("resend", order["increment_id"], "--yes")
    assert resent.exit_code == 0, resent.output
    assert "Then m2pos invoices it in Magento" in resent.output  # the confirmation said so
    assert "was invoiced in Magento" in resent.output
    assert store.pos_references() == [order["increment_id"]]
    row = row_of(store, order["increment_id"])
    assert row.status == OrderStatus.TRANSFERRED
    assert magento_invoices(store)[order["entity_id"]] == [row.invoice_id]
    assert store.cli("sync", "--once").exit_code == 0
    assert len(magento_invoices(store)[order["entity_id"]]) == 1


def test_a_cancelled_order_deleted_in_the_pos_is_not_created_again(store: Store) -> None:
    control = store.sandbox.control
    order = control.place_order("simple", payment="authorised")
    # In the POS, not yet invoiced (the process died first), then cancelled in Magento and carried.
    crashed = store.process("sync", "--once", env={"M2POS_CRASH_AT": "before_invoice"})
    assert crashed.returncode == EXIT_CODE, crashed.stderr
    assert control.cancel(order["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0
    row = row_of(store, order["increment_id"])
    assert row.cancellation_carried_at is not None
    _delete_in_pos(store, row.pos_document_id)
    resent = store.cli("resend", order["increment_id"], "--yes")
    assert "it is not created again, because the order is cancelled" in resent.output  # the confirmation
    assert "no longer in the POS and was cancelled in Magento" in resent.output
    assert store.pos_references() == []
    assert magento_invoices(store).get(order["entity_id"], []) == []


def test_a_resend_the_pos_refuses_needs_attention_and_is_not_tried_every_cycle(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="checkmo", items=[{"sku": BAD_SKU, "qty": 1}])
    assert store.cli("sync", "--once").exit_code == 0  # waits for payment
    store.configure(pos={"reject_skus": [BAD_SKU]})
    ledger = store.ledger()
    try:
        ledger.request_resend(order["entity_id"], "console: merchant")
    finally:
        ledger.close()
    failed = store.cli("sync", "--once")
    assert failed.exit_code == 1
    ledger = store.ledger()
    try:
        assert ledger.resends_due() == []  # closed: retrying cannot mend a refusal
        row = ledger.order(order["entity_id"])
        assert row is not None and row.status == OrderStatus.NEEDS_ATTENTION
        closing = [e.detail for e in ledger.events("order", order["entity_id"]) if e.step == "resend"]
    finally:
        ledger.close()
    assert closing and "was not resent" in closing[-1] and "needs attention" in closing[-1]
    assert store.cli("sync", "--once").exit_code == 0  # not attempted again
    assert store.pos_references() == []


def test_a_crash_while_creating_a_deleted_document_again_then_a_restart_leaves_one(store: Store) -> None:
    order = store.sandbox.control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    first = row_of(store, order["increment_id"])
    _delete_in_pos(store, first.pos_document_id)
    crashed = store.process(
        "resend", order["increment_id"], "--yes", env={"M2POS_CRASH_AT": "after_pos_create"}
    )
    assert crashed.returncode == EXIT_CODE, crashed.stderr
    assert store.pos_references() == [order["increment_id"]]  # written, not recorded
    # The restart alone finishes it: the request is still open, and the POS is asked first.
    assert store.cli("sync", "--once").exit_code == 0
    assert store.cli("sync", "--once").exit_code == 0
    expected = Expectation()
    expected.add_order(order)
    invariants.check(store, expected)  # one sale, one invoice (the first), ledger linked, no open intent
    row = row_of(store, order["increment_id"])
    assert row.invoice_id == first.invoice_id and row.resend_requested_at is None


def _row(**fields: object) -> OrderRow:
    defaults: dict[str, object] = {
        "increment_id": "200",
        "status": OrderStatus.WAITING,
        "invoice_required": False,
    }
    return OrderRow(**{**defaults, **fields})


def test_the_confirmation_says_whether_magento_is_invoiced() -> None:
    waiting = describe_resend(_row(decision="wait", message="Order 200 waits for payment."))
    assert "(Order 200 waits for payment)" in waiting.text and "It is not invoiced in Magento" in waiting.text
    assert waiting.text.startswith("Order 200 is not in the POS") and "At the next cycle" in waiting.text
    failed = describe_resend(
        _row(status=OrderStatus.FAILED, decision="download", mode="auto_invoice", last_error="POS: down"),
        at_once=True,
    )
    assert "(POS: down)" in failed.text and "Then m2pos invoices it in Magento" in failed.text
    assert "At the next cycle" not in failed.text
    invoice_left = describe_resend(
        _row(
            status=OrderStatus.PENDING, pos_document_id="S-1", pos_document_kind="sale", invoice_required=True
        )
    )
    assert "in the POS as sale S-1" in invoice_left.text and "invoices it in Magento" in invoice_left.text
    cancelled = describe_resend(
        _row(pos_document_id="S-2", pos_document_kind="sale", magento_state="canceled", status="transferred")
    )
    assert cancelled.allowed and "it is not created again, because the order is cancelled" in cancelled.text
