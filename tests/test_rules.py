"""Each download rule on its own (the pure decision function; scenario tests drive the CLI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from m2pos.magento.models import CreditMemo, Order
from m2pos.rules import (
    CreditMemoRecord,
    Decision,
    OrderRecord,
    Reason,
    RuleSettings,
    SettingsChange,
    decide_credit_memo,
    decide_order,
    settings_at,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
AUTO = RuleSettings(mode="auto_invoice", start_date=START)
WAIT = RuleSettings(mode="wait_for_invoice", start_date=START)


def order(**fields: Any) -> Order:
    data: dict[str, Any] = {
        "entity_id": 7,
        "increment_id": "000000007",
        "state": "processing",
        "status": "processing",
        "grand_total": 50,
        "created_at": "2026-11-20 10:00:00",
        "payment": {"method": "braintree", "amount_authorized": 50},
    }
    data.update(fields)
    return Order.model_validate(data)


def test_auto_invoice_downloads_a_paid_uninvoiced_processing_order() -> None:
    verdict = decide_order(order(), current=AUTO)
    assert verdict.decision == Decision.DOWNLOAD
    assert verdict.reason == Reason.ELIGIBLE
    assert verdict.mode == "auto_invoice"


@pytest.mark.parametrize("state", ["new", "pending_payment", "processing"])
def test_auto_invoice_accepts_the_three_states(state: str) -> None:
    assert decide_order(order(state=state), current=AUTO).decision == Decision.DOWNLOAD


@pytest.mark.parametrize("state", ["complete", "closed", "holded", "payment_review"])
def test_auto_invoice_skips_other_states(state: str) -> None:
    verdict = decide_order(order(state=state), current=AUTO)
    assert verdict.decision == Decision.SKIP
    assert verdict.reason == Reason.STATE_NOT_ELIGIBLE


def test_auto_invoice_skips_an_order_invoiced_elsewhere_and_says_so() -> None:
    verdict = decide_order(order(total_invoiced=50), current=AUTO)
    assert verdict.reason == Reason.INVOICED_ELSEWHERE
    assert "another extension" in verdict.message or "other than m2pos" in verdict.message


def test_auto_invoice_waits_for_an_unpaid_check_order() -> None:
    verdict = decide_order(order(state="new", payment={"method": "checkmo"}), current=AUTO)
    assert verdict.decision == Decision.WAIT
    assert verdict.reason == Reason.NOT_PAID


def test_paid_methods_make_offline_orders_count_as_paid() -> None:
    settings = RuleSettings(start_date=START, paid_methods=("checkmo",))
    verdict = decide_order(order(state="new", payment={"method": "checkmo"}), current=settings)
    assert verdict.decision == Decision.DOWNLOAD


def test_a_zero_total_order_counts_as_paid() -> None:
    verdict = decide_order(order(grand_total=0, payment={"method": "free"}), current=AUTO)
    assert verdict.decision == Decision.DOWNLOAD


def test_a_partial_authorisation_is_not_paid() -> None:
    verdict = decide_order(order(payment={"method": "braintree", "amount_authorized": 20}), current=AUTO)
    assert verdict.reason == Reason.NOT_PAID


def test_wait_for_invoice_waits_until_total_invoiced_is_non_zero() -> None:
    assert decide_order(order(), current=WAIT).reason == Reason.NOT_INVOICED
    assert (
        decide_order(order(total_invoiced=10), current=WAIT).decision == Decision.DOWNLOAD
    )  # partly invoiced


def test_download_orders_off_downloads_nothing() -> None:
    off = RuleSettings(download_orders=False, start_date=START)
    verdict = decide_order(order(), current=off)
    assert verdict.reason == Reason.DOWNLOAD_ORDERS_OFF


def test_cancelled_before_download_is_never_downloaded() -> None:
    for settings in (AUTO, WAIT):
        verdict = decide_order(order(state="canceled", total_invoiced=50), current=settings)
        assert verdict.reason == Reason.CANCELLED_BEFORE_DOWNLOAD


def test_cancelled_after_download_is_carried_once() -> None:
    cancelled = order(state="canceled")
    assert decide_order(cancelled, current=AUTO, record=OrderRecord(in_pos=True)).decision == Decision.CANCEL
    done = decide_order(cancelled, current=AUTO, record=OrderRecord(in_pos=True, cancellation_carried=True))
    assert done.decision == Decision.DONE


def test_an_order_in_the_pos_is_done_even_when_download_is_switched_off() -> None:
    off = RuleSettings(download_orders=False, start_date=START)
    assert decide_order(order(), current=off, record=OrderRecord(in_pos=True)).reason == Reason.ALREADY_IN_POS


def test_orders_before_the_start_date_are_left_alone_unless_backfilled() -> None:
    old = order(created_at="2026-10-31 23:59:59")
    assert decide_order(old, current=AUTO).reason == Reason.BEFORE_START_DATE
    assert decide_order(old, current=AUTO, backfill=True).decision == Decision.DOWNLOAD


def test_store_views_can_be_restricted() -> None:
    settings = RuleSettings(start_date=START, store_ids=(1,))
    assert decide_order(order(store_id=2), current=settings).reason == Reason.STORE_NOT_SELECTED
    assert decide_order(order(store_id=1), current=settings).decision == Decision.DOWNLOAD


def test_the_mode_is_not_retroactive() -> None:
    history = [
        SettingsChange(datetime(2026, 11, 1, tzinfo=UTC), AUTO),
        SettingsChange(datetime(2026, 11, 15, tzinfo=UTC), WAIT),
    ]
    before_change = order(created_at="2026-11-10 10:00:00")
    after_change = order(created_at="2026-11-20 10:00:00")
    # Judged now under Wait for Invoice, but the first order was created under Auto-Invoice.
    assert decide_order(before_change, current=WAIT, history=history).decision == Decision.DOWNLOAD
    assert decide_order(after_change, current=WAIT, history=history).reason == Reason.NOT_INVOICED
    # A backfill judges by the current settings instead.
    backfilled = decide_order(before_change, current=WAIT, history=history, backfill=True)
    assert backfilled.reason == Reason.NOT_INVOICED


def test_settings_before_the_first_change_are_the_first_settings() -> None:
    history = [SettingsChange(datetime(2026, 11, 15, tzinfo=UTC), WAIT)]
    assert settings_at(history, datetime(2026, 1, 1, tzinfo=UTC)).mode == "wait_for_invoice"
    assert settings_at([], None).mode == "auto_invoice"


def test_every_check_is_reported_with_the_value_seen() -> None:
    verdict = decide_order(order(state="new", payment={"method": "checkmo"}), current=AUTO)
    rules = [c.rule for c in verdict.checks]
    assert any("paid" in r for r in rules)
    failing = [c for c in verdict.checks if not c.passed]
    assert len(failing) == 1
    assert "method=checkmo" in failing[0].seen


def memo(**fields: Any) -> CreditMemo:
    data: dict[str, Any] = {"entity_id": 3, "increment_id": "000000003", "order_id": 7, "grand_total": 20}
    data.update(fields)
    return CreditMemo.model_validate(data)


def test_credit_memo_of_an_order_in_the_pos_is_carried() -> None:
    verdict = decide_credit_memo(
        memo(), current=AUTO, order=OrderRecord(in_pos=True), order_number="7", order_pending=False
    )
    assert verdict.decision == Decision.DOWNLOAD


def test_download_credit_memos_off() -> None:
    off = RuleSettings(download_credit_memos=False)
    verdict = decide_credit_memo(
        memo(), current=off, order=OrderRecord(in_pos=True), order_number="7", order_pending=False
    )
    assert verdict.reason == Reason.DOWNLOAD_CREDIT_MEMOS_OFF


def test_credit_memo_waits_for_its_order_or_is_skipped_without_one() -> None:
    waiting = decide_credit_memo(
        memo(), current=AUTO, order=OrderRecord(), order_number="7", order_pending=True
    )
    assert waiting.reason == Reason.ORDER_NOT_YET_IN_POS
    skipped = decide_credit_memo(memo(), current=AUTO, order=None, order_number="7", order_pending=False)
    assert skipped.reason == Reason.ORDER_NOT_DOWNLOADED


def test_a_carried_credit_memo_is_done() -> None:
    verdict = decide_credit_memo(
        memo(),
        current=AUTO,
        order=OrderRecord(in_pos=True),
        order_number="7",
        order_pending=False,
        record=CreditMemoRecord(carried=True),
    )
    assert verdict.decision == Decision.DONE
