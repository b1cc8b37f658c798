"""A backlog worked in slices (``orders.max_orders_per_cycle``): each cycle carries at most that
many orders, the oldest changes first, the cursor moves to the end of each slice, and the slices
together carry every order exactly once."""

from __future__ import annotations

from tests.engine.conftest import Store


def test_a_backlog_is_carried_in_slices_oldest_first(store: Store) -> None:
    placed = [
        str(store.sandbox.control.place_order("simple", payment="authorised")["increment_id"])
        for _ in range(25)
    ]
    # Every order lies within the overlap the cursor re-reads: a slice must not be those again.
    store.configure(orders={"max_orders_per_cycle": 10, "overlap_seconds": 3600})
    carried: list[list[str]] = []
    for _ in range(4):
        result = store.cli("sync", "--once")
        assert result.exit_code == 0, result.output
        carried.append(store.pos_references())
    assert [len(c) for c in carried] == [10, 20, 25, 25]
    assert carried[0] == sorted(placed[:10])  # the oldest changes first
    assert carried[-1] == sorted(placed)  # every order once (the memory POS keeps one per reference)
