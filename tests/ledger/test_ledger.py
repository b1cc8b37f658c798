"""The ledger on SQLite and PostgreSQL: migrations, uniqueness, intents, retries, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from m2pos.ledger import Ledger, OrderStatus
from m2pos.magento.models import CreditMemo, Order
from m2pos.rules import RuleSettings, decide_order

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def order(entity_id: int, number: str | None = None, **fields: object) -> Order:
    return Order.model_validate(
        {
            "entity_id": entity_id,
            "increment_id": number or f"{entity_id:09d}",
            "state": "processing",
            "grand_total": 10,
            "created_at": "2026-11-27 10:00:00",
            "updated_at": "2026-11-27 10:05:00",
            "payment": {"method": "braintree", "amount_authorized": 10},
            **fields,
        }
    )


@pytest.fixture
def ledger(database_url: str) -> Ledger:
    return Ledger.open(database_url)


def test_migrations_are_idempotent(database_url: str) -> None:
    Ledger.open(database_url).close()
    again = Ledger.open(database_url)  # a second start must not fail or duplicate anything
    assert again.order_counts() == {}


def test_an_order_has_one_row_and_one_pos_document(ledger: Ledger) -> None:
    ledger.observe_order(order(1), NOW)
    ledger.observe_order(order(1, state="complete"), NOW)
    ledger.observe_order(order(2), NOW)
    assert len(ledger.list_orders()) == 2
    ledger.mark_transferred(1, "DOC-1", "sale", invoice_required=False, now=NOW)
    with pytest.raises(IntegrityError):
        ledger.mark_transferred(2, "DOC-1", "sale", invoice_required=False, now=NOW)


def test_timestamps_come_back_as_utc(ledger: Ledger) -> None:
    row = ledger.observe_order(order(1), NOW)
    again = ledger.order(1)
    assert again is not None
    assert again.created_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert again.first_seen_at == NOW
    assert row.updated_at == datetime(2026, 11, 27, 10, 5, tzinfo=UTC)


def test_an_unfinished_intent_is_reported_on_the_next_start(ledger: Ledger) -> None:
    ledger.observe_order(order(1), NOW)
    assert ledger.start_intent("pos_create", 1, "000000001", NOW) is False
    # The process died here; the next attempt learns that the first one may have reached the POS.
    assert ledger.start_intent("pos_create", 1, "000000001", NOW) is True
    assert [i.action for i in ledger.open_intents()] == ["pos_create"]
    ledger.mark_transferred(1, "DOC-1", "sale", invoice_required=True, now=NOW)
    assert ledger.open_intents() == []
    assert ledger.order(1).status == OrderStatus.PENDING  # type: ignore[union-attr]
    ledger.start_intent("magento_invoice", 1, "000000001", NOW)
    ledger.mark_invoiced(1, 55, NOW)
    row = ledger.order(1)
    assert row is not None
    assert (row.status, row.invoice_id) == (OrderStatus.TRANSFERRED, 55)


def test_failures_are_retried_then_need_attention(ledger: Ledger) -> None:
    ledger.observe_order(order(1), NOW)
    ledger.record_order_failure(1, "POS down", NOW + timedelta(minutes=1), NOW)
    assert ledger.orders_due(NOW) == []
    assert ledger.orders_due(NOW + timedelta(minutes=2)) == [1]
    row = ledger.record_order_failure(1, "POS refused", None, NOW)
    assert (row.status, row.attempts) == (OrderStatus.NEEDS_ATTENTION, 2)
    assert [r.increment_id for r in ledger.problems()[0]] == ["000000001"]
    ledger.reset_order_for_retry(1, NOW)
    assert ledger.order(1).attempts == 0  # type: ignore[union-attr]
    assert ledger.orders_due(NOW) == [1]


def test_decisions_are_recorded_with_their_reason_and_timeline(ledger: Ledger) -> None:
    unpaid = order(1, payment={"method": "checkmo"}, state="new")
    ledger.observe_order(unpaid, NOW)
    verdict = decide_order(unpaid, current=RuleSettings())
    row = ledger.record_order_decision(1, verdict, NOW)
    assert (row.status, row.reason) == (OrderStatus.WAITING, "not_paid")
    ledger.record_order_decision(1, verdict, NOW)  # the same decision again adds no event
    steps = [e.step for e in ledger.events("order", 1)]
    assert steps == ["seen", "decided:wait"]


def test_settings_history_keeps_changes_only(ledger: Ledger) -> None:
    auto = RuleSettings(mode="auto_invoice", start_date=NOW)
    assert ledger.record_settings(auto, "file", NOW)
    assert not ledger.record_settings(auto, "file", NOW + timedelta(hours=1))
    assert ledger.record_settings(
        RuleSettings(mode="wait_for_invoice", start_date=NOW), "alice", NOW + timedelta(hours=2)
    )
    history = ledger.settings_history()
    assert [h.settings.mode for h in history] == ["auto_invoice", "wait_for_invoice"]
    assert history[0].settings.start_date == NOW
    assert [c.changed_by for c in ledger.settings_changes()] == ["file", "alice"]


def test_cursors_and_markers(ledger: Ledger) -> None:
    assert ledger.cursor("orders") is None
    ledger.set_cursor("orders", NOW)
    ledger.set_cursor("orders", NOW + timedelta(seconds=5))
    assert ledger.cursor("orders") == NOW + timedelta(seconds=5)
    assert ledger.set_marker_once("first_run", NOW) == NOW
    assert ledger.set_marker_once("first_run", NOW + timedelta(days=1)) == NOW


def test_stores_are_kept_apart(database_url: str) -> None:
    one, two = Ledger.open(database_url, "one"), Ledger.open(database_url, "two")
    one.observe_order(order(1), NOW)
    two.observe_order(order(1), NOW)
    one.mark_transferred(1, "DOC-1", "sale", invoice_required=False, now=NOW)
    two.mark_transferred(1, "DOC-1", "sale", invoice_required=False, now=NOW)  # another POS
    assert one.order_counts() == {"transferred": 1}
    assert two.order_counts() == {"transferred": 1}


def test_credit_memos_are_carried_once(ledger: Ledger) -> None:
    memo = CreditMemo.model_validate({"entity_id": 9, "increment_id": "CM9", "order_id": 1, "grand_total": 5})
    ledger.observe_credit_memo(memo, "000000001", NOW)
    ledger.observe_credit_memo(memo, "000000001", NOW)
    ledger.mark_credit_memo_carried(9, "RET-1", NOW)
    memo2 = CreditMemo.model_validate({"entity_id": 10, "increment_id": "CM10", "order_id": 1})
    ledger.observe_credit_memo(memo2, "000000001", NOW)
    with pytest.raises(IntegrityError):
        ledger.mark_credit_memo_carried(10, "RET-1", NOW)
    assert [m.increment_id for m in ledger.credit_memos_of_order(1)] == ["CM9", "CM10"]


def test_a_resend_request_waits_for_the_retry_time_after_a_failed_attempt(ledger: Ledger) -> None:
    ledger.observe_order(order(1), NOW)
    ledger.record_order_failure(1, "POS down", NOW + timedelta(minutes=5), NOW)
    # A person asks: due now, although the last attempt set a retry time.
    ledger.request_resend(1, "alice", NOW)
    assert ledger.resends_due(NOW) == [1]
    assert ledger.orders_due(NOW) == [1]
    # The resend fails in its turn: it is not due again before its retry time.
    ledger.record_order_failure(1, "POS still down", NOW + timedelta(minutes=1), NOW)
    assert ledger.resends_due(NOW) == []
    assert ledger.resends_due(NOW + timedelta(minutes=2)) == [1]
    ledger.close_resend(1, "Order 000000001 was resent.", NOW)
    assert ledger.resends_due(NOW + timedelta(minutes=2)) == []
    steps = [(e.step, e.detail) for e in ledger.events("order", 1)]
    assert ("resend_requested", "resend requested by alice") in steps
    assert ("resend", "Order 000000001 was resent.") in steps


def test_a_document_created_again_keeps_its_invoice(ledger: Ledger) -> None:
    ledger.observe_order(order(1), NOW)
    ledger.mark_transferred(1, "DOC-1", "sale", invoice_required=True, now=NOW)
    ledger.mark_invoiced(1, 55, NOW)
    ledger.forget_pos_document(1, "deleted in the POS", NOW)
    row = ledger.mark_transferred(1, "DOC-2", "sale", invoice_required=True, now=NOW)
    assert (row.status, row.invoice_id, row.pos_document_id) == (OrderStatus.TRANSFERRED, 55, "DOC-2")


def test_who_asked_for_a_retry_is_on_the_timeline(ledger: Ledger) -> None:
    ledger.observe_order(order(1), NOW)
    ledger.record_order_failure(1, "POS refused", None, NOW)
    ledger.reset_order_for_retry(1, NOW, requested_by="alice")
    ledger.reset_order_for_retry(1, NOW)
    details = [e.detail for e in ledger.events("order", 1) if e.step == "retry_requested"]
    assert details == ["retry requested by alice", "retry requested"]
