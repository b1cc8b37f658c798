"""The restock decision on its own: when it waits, and when the signal is ambiguous."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.engine.context import StoreContext
from m2pos.engine.restock import decide_restock
from m2pos.ledger import Ledger
from m2pos.magento.models import CreditMemo, Order
from m2pos.settings import settings_from_dict

MEMO_AT = datetime(2026, 11, 27, 12, 0, 5, tzinfo=UTC)
ORDER = Order.model_validate(
    {
        "entity_id": 1,
        "increment_id": "1",
        "items": [{"item_id": 11, "sku": "A", "product_type": "simple", "qty_ordered": 2, "qty_shipped": 0}],
    }
)
MEMO = CreditMemo.model_validate(
    {
        "entity_id": 5,
        "order_id": 1,
        "created_at": MEMO_AT.strftime("%Y-%m-%d %H:%M:%S"),
        "items": [{"order_item_id": 11, "sku": "A", "qty": 2}],
    }
)


def context(tmp_path: Path, **orders: Any) -> StoreContext:
    settings = settings_from_dict({"state": {"database_url": f"sqlite:///{tmp_path / 'l.db'}"}})
    ledger = Ledger.open(settings.state.database_url)
    return StoreContext(settings=settings, ledger=ledger, magento=None, pos=None)  # type: ignore[arg-type]


def read(ctx: StoreContext, at: datetime, quantity: int) -> None:
    """What the stock sync records for one read of Magento's stock (``m2pos.engine.stock``)."""
    ctx.ledger.set_marker_once("stock_first_read:default", at)
    ctx.ledger.record_stock("default", {"A": Decimal(quantity)}, {}, at)
    ctx.ledger.set_marker("stock_read:default", at)


def test_it_waits_for_a_stock_read_at_least_a_second_after_the_memo(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    read(ctx, MEMO_AT - timedelta(seconds=30), 8)
    assert decide_restock(ctx, MEMO, ORDER).pending
    read(ctx, MEMO_AT + timedelta(milliseconds=500), 8)  # same second: may have missed the memo
    assert decide_restock(ctx, MEMO, ORDER).pending
    read(ctx, MEMO_AT + timedelta(seconds=2), 8)
    decision = decide_restock(ctx, MEMO, ORDER)
    assert not decision.pending
    assert decision.items == frozenset({11})  # unshipped and no movement: returned (reservation only)


def test_unshipped_and_deducted_means_not_returned(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    read(ctx, MEMO_AT - timedelta(seconds=30), 8)
    read(ctx, MEMO_AT + timedelta(seconds=2), 6)  # MSI deducted the unshipped, unreturned 2
    decision = decide_restock(ctx, MEMO, ORDER)
    assert decision.items == frozenset()
    assert "not returned to stock" in decision.notes[0]


def test_a_movement_seen_in_the_memos_own_second_is_ambiguous(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    read(ctx, MEMO_AT - timedelta(seconds=30), 8)
    read(ctx, MEMO_AT + timedelta(milliseconds=300), 6)  # before or after the memo? cannot tell
    read(ctx, MEMO_AT + timedelta(seconds=2), 6)
    decision = decide_restock(ctx, MEMO, ORDER)
    assert decision.items == frozenset()
    assert "within the second of the credit memo" in decision.notes[0]


def test_a_memo_before_the_first_stock_read_is_not_restocked(tmp_path: Path) -> None:
    # MSI deducted the unreturned 2 before m2pos had ever read the stock: the first read is the
    # baseline, so no movement shows, which must not pass for "returned".
    ctx = context(tmp_path)
    read(ctx, MEMO_AT + timedelta(seconds=2), 6)
    decision = decide_restock(ctx, MEMO, ORDER)
    assert not decision.pending and decision.items == frozenset()
    assert "first read Magento's stock after this credit memo" in decision.notes[0]


def test_a_read_after_an_interrupted_stock_write_is_not_trusted(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    read(ctx, MEMO_AT - timedelta(seconds=30), 8)
    # m2pos wrote 8 over Magento's 6 (the memo's deduction) and died before recording it; the next
    # read sees 8 again: no movement, although MSI deducted 2.
    ctx.ledger.set_marker(
        "stock_unreadable:default",
        MEMO_AT + timedelta(seconds=2),
        (MEMO_AT - timedelta(seconds=30)).isoformat(),
    )
    read(ctx, MEMO_AT + timedelta(seconds=2), 8)
    decision = decide_restock(ctx, MEMO, ORDER)
    assert decision.items == frozenset()
    assert "cut off" in decision.notes[0]
    # A memo after that read is judged again.
    later = MEMO.model_copy(update={"created_at": MEMO_AT + timedelta(seconds=10)})
    read(ctx, MEMO_AT + timedelta(seconds=12), 8)
    assert decide_restock(ctx, later, ORDER).items == frozenset({11})


def test_always_and_never_need_no_signal(tmp_path: Path) -> None:
    for policy, expected in (("always", frozenset({11})), ("never", frozenset())):
        settings = settings_from_dict(
            {
                "state": {"database_url": f"sqlite:///{tmp_path / (policy + '.db')}"},
                "credit_memos": {"restock": policy},
            }
        )
        ctx = StoreContext(
            settings=settings, ledger=Ledger.open(settings.state.database_url), magento=None, pos=None
        )  # type: ignore[arg-type]
        assert decide_restock(ctx, MEMO, ORDER).items == expected
