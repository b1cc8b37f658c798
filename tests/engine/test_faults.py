"""Magento misbehaving (the sandbox's fault injection): 5xx, 429 with Retry-After, timeouts, responses
lost after the write was committed, a full outage. Nothing is lost, nothing doubled, every
auto-invoiced order has one invoice, and ``sync --once`` says whether everything went through.

The Magento client's own retry loop is kept, with its waits shortened (``fast_retries``) so that a
failing call gives up in milliseconds instead of seconds; ``Retry-After`` is still honoured.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import m2pos.magento._client as magento_client_module
from m2pos.engine.cycle import ORDERS
from m2pos.ledger import OrderStatus
from m2pos.magento import RetryPolicy
from tests.engine import invariants
from tests.engine.conftest import Store
from tests.engine.invariants import Expectation

MIX = (
    ("simple", "authorised"),
    ("simple", "free"),
    ("configurable", "authorised"),
    ("bundle", "authorised"),
)
INVOICE_POST = "POST /V1/order/{orderId}/invoice"


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        magento_client_module,
        "RetryPolicy",
        functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.05),
    )


@pytest.fixture
def shop(store: Store, fast_retries: None) -> Store:
    store.configure(magento={"timeout_seconds": 0.5, "requests_per_second": 1000})
    return store


def _place_mix(store: Store, expected: Expectation, count: int) -> list[dict[str, Any]]:
    placed = []
    for n in range(count):
        kind, payment = MIX[n % len(MIX)]
        order = store.sandbox.control.place_order(kind, payment=payment)
        expected.add_order(order)
        placed.append(order)
    return placed


def _sync(store: Store) -> int:
    return store.cli("sync", "--once").exit_code


def _sync_until_quiet(store: Store, max_cycles: int = 8) -> list[int]:
    """Run cycles until one succeeds with nothing left to retry; the exit codes seen."""
    codes = []
    for _ in range(max_cycles):
        codes.append(_sync(store))
        ledger = store.ledger()
        try:
            problems = ledger.problems()
            unfinished = ledger.orders_due(datetime.now(UTC) + timedelta(days=1))
        finally:
            ledger.close()
        if codes[-1] == 0 and not any(problems) and not unfinished:
            return codes
        time.sleep(1.05)  # retry_base_seconds = retry_max_seconds = 1 in the fixture
    raise AssertionError(f"still not quiet after {max_cycles} cycles: exit codes {codes}")


def test_random_5xx_429_timeouts_and_dropped_responses_lose_and_double_nothing(shop: Store) -> None:
    control = shop.sandbox.control
    expected = Expectation()
    first = _place_mix(shop, expected, 4)
    assert _sync(shop) == 0
    memo_id = control.refund(first[0]["entity_id"])
    expected.returns[memo_id] = invariants.memo_number(shop, memo_id)
    _place_mix(shop, expected, 12)
    control.set_faults(
        seed=20261101,
        error_rate=0.15,
        rate_limit_rate=0.03,
        retry_after_seconds=1,
        timeout_rate=0.05,
        timeout_seconds=5,
        drop_after_commit_rate=0.15,
    )
    _sync_until_quiet(shop)
    statuses = control.counters()["statuses"]
    control.reset_faults()
    seen = {status for per_route in statuses.values() for status in per_route}
    # Every kind of fault did fire ("0": a response cut after commit, 499: the client gave up).
    assert {"500", "429", "0"} <= seen, statuses
    assert "499" in seen or "504" in seen, statuses
    invariants.check(shop, expected)


@pytest.mark.parametrize("drop_mode", ["abort", "hang"])
def test_invoice_responses_lost_after_commit_never_double_an_invoice(shop: Store, drop_mode: str) -> None:
    control = shop.sandbox.control
    expected = Expectation()
    _place_mix(shop, expected, 4)
    control.set_faults(route="POST /V1/order/*/invoice", drop_after_commit_rate=1.0, drop_mode=drop_mode)
    result = shop.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    # Each invoice POST was applied and its answer lost; the client found the invoice instead of
    # posting again.
    assert control.count(INVOICE_POST) == 4
    control.reset_faults()
    invariants.check(shop, expected)


def test_sync_exits_non_zero_while_items_fail_and_zero_once_resolved(shop: Store) -> None:
    control = shop.sandbox.control
    expected = Expectation()
    placed = _place_mix(shop, expected, 3)
    control.set_faults(route="POST /V1/order/*/invoice", error_rate=1.0)
    failing = shop.cli("sync", "--once")
    assert failing.exit_code == 1, failing.output
    assert "Magento" in failing.output
    ledger = shop.ledger()
    try:
        rows = [ledger.order(o["entity_id"]) for o in placed]
        # In the POS, the invoice step set aside for a retry.
        assert all(r is not None and r.status == OrderStatus.FAILED for r in rows)
        assert all(r is not None and r.pos_document_id and r.invoice_id is None for r in rows)
    finally:
        ledger.close()
    control.reset_faults()
    time.sleep(1.05)
    resolved = shop.cli("sync", "--once")
    assert resolved.exit_code == 0, resolved.output
    invariants.check(shop, expected)


def test_retry_after_is_honoured(shop: Store) -> None:
    control = shop.sandbox.control
    expected = Expectation()
    _place_mix(shop, expected, 1)
    control.set_faults(route="GET /V1/orders", rate_limit_next=1, retry_after_seconds=1)
    started = time.monotonic()
    result = shop.cli("sync", "--once")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert control.counters()["statuses"]["GET /V1/orders"]["429"] == 1
    assert took >= 1.0, f"a 429 with Retry-After: 1 was retried after {took:.2f}s"
    invariants.check(shop, expected)


def test_a_magento_outage_keeps_the_cursor_and_loses_nothing(shop: Store) -> None:
    control = shop.sandbox.control
    expected = Expectation()
    _place_mix(shop, expected, 2)
    assert _sync(shop) == 0
    ledger = shop.ledger()
    try:
        cursor = ledger.cursor(ORDERS)
    finally:
        ledger.close()
    assert cursor is not None
    control.set_faults(error_rate=1.0)  # every Magento request fails
    during = _place_mix(shop, expected, 4)
    for _ in range(2):
        result = shop.cli("sync", "--once")
        assert result.exit_code == 1, result.output
        # The merchant is told what Magento said, not that "a TaskGroup" failed.
        lines = [line for line in result.output.splitlines() if "reading orders from Magento failed" in line]
        assert lines and "HTTP 500" in lines[0], result.output
    ledger = shop.ledger()
    try:
        assert ledger.cursor(ORDERS) == cursor
        assert all(ledger.order(o["entity_id"]) is None for o in during)
    finally:
        ledger.close()
    assert not set(shop.pos_references()) & {o["increment_id"] for o in during}
    control.reset_faults()
    assert _sync(shop) == 0
    invariants.check(shop, expected)
