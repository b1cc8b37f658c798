"""Exactly once through crashes and faults: a document is found again by its reference, a half-made
one is resumed (or voided and made again), and retries never duplicate a write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from m2pos.pos.port import PosError

from .conftest import Env, lines

D = Decimal


async def test_find_document_after_a_crash(env: Env) -> None:
    for options, kind in (({}, "invoice"), ({"download_orders_as": "order"}, "order")):
        order = env.order("configurable")
        reference = order.increment_id or ""
        before = env.adapter(**options)
        created = await before.create_document(order, reference)
        # A new process (nothing in memory) asks the POS.
        after = env.adapter(**options)
        assert await after.find_document(reference) == created
        assert created.kind == kind
        assert await after.find_document("999999999") is None
    # Switching Download Orders As between the crash and the recovery still finds the document.
    switched = env.adapter()
    found = await switched.find_document(reference)
    assert found is not None and found.kind == "order"


async def test_a_document_half_made_by_a_crash_is_resumed_not_duplicated(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True, create_order_deposits=True)
    order = env.order("bundle")
    reference = order.increment_id or ""
    # The first line is written, then its reply is lost (as when the process dies mid-document).
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/orders/*/lineitems/")
    with pytest.raises(PosError) as failed:
        await pos.create_document(order, reference)
    assert failed.value.retryable
    assert f"Magento order {reference}" in failed.value.message
    assert env.control.locks() == {}  # UNLOCK ran although the write failed
    (partial,) = env.control.orders(reference)
    assert len(partial["lines"]) == 1
    # Recovery in a new process: the half-made document is not taken as done…
    recovering = env.adapter(
        download_orders_as="order", reserve_order_inventory=True, create_order_deposits=True
    )
    assert await recovering.find_document(reference) is None
    # …the next attempt completes it.
    document = await recovering.create_document(order, reference)
    (complete,) = env.control.orders(reference)
    assert document.id == f"O-{complete['id']}" == f"O-{partial['id']}"
    assert [code for code, _, _ in lines(complete)] == [
        "24-WG082-blue",
        "24-WG084",
        "24-WG086",
        "24-WG088",
        "SHIPPING",
    ]
    assert complete["totals"]["total"] == order.grand_total
    assert [p["amount"] for p in complete["payments"]] == [order.grand_total]
    assert env.control.check_inventory() == []
    assert await env.adapter(download_orders_as="order").find_document(reference) == document


async def test_a_half_made_document_that_no_longer_fits_is_voided_and_made_again(env: Env) -> None:
    pos = env.adapter()
    first = env.order("simple")
    reference = first.increment_id or ""
    stock_before = env.stock("MUG-001")
    env.control.set_faults(drop_after_commit_next=1, route="POST /api/invoices/*/lineitems/")
    with pytest.raises(PosError):
        await pos.create_document(first, reference)
    assert env.stock("MUG-001")[0] == stock_before[0] - 2  # the one line written took its stock
    assert await pos.find_document(reference) is None
    # The order now holds other lines (say it was edited before the retry).
    changed = env.order("configurable").model_copy(update={"increment_id": reference})
    document = await pos.create_document(changed, reference)
    invoices = env.control.invoices(reference)
    assert [i["voided"] for i in invoices] == [True, False]
    assert document.id == f"I-{invoices[1]['id']}"
    assert env.stock("MUG-001") == stock_before  # voiding gave back what the half-made one took
    assert await env.adapter().find_document(reference) == document


async def test_transient_errors_are_retried_where_that_cannot_duplicate(env: Env) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pos = env.adapter(sleep=sleep)
    order = env.order("simple")
    reference = order.increment_id or ""
    # A read answered 429 with Retry-After, then 500: retried in the same call.
    env.control.set_faults(rate_limit_next=1, error_next=1, retry_after_seconds=2, route="GET /api/*")
    assert await pos.find_document(reference) is None
    assert slept[0] == 2.0 and len(slept) == 2
    assert env.count("GET /api/invoices/") == 3
    # A create answered 500 is not repeated blindly: the engine recovers through find_document.
    env.control.set_faults(error_next=1, rate_limit_next=0, route="POST /api/invoices/")
    with pytest.raises(PosError) as failed:
        await pos.create_document(order, reference)
    assert failed.value.retryable and "500" in failed.value.message
    assert env.count("POST /api/invoices/") == 1
    assert await pos.find_document(reference) is None
    document = await pos.create_document(order, reference)
    assert [i["id"] for i in env.control.invoices(reference)] == [int(document.id[2:])]
    # A 429 on a create was refused before anything happened: it is retried.
    env.control.set_faults(rate_limit_next=1, retry_after_seconds=1, route="POST /api/invoices/")
    other = env.order("simple")
    await pos.create_document(other, other.increment_id or "")
    assert len(env.control.invoices(other.increment_id)) == 1


async def test_a_long_retry_after_or_an_outage_is_left_to_the_engine(env: Env) -> None:
    pos = env.adapter(sleep=_no_sleep, max_retry_after_seconds=5)
    env.control.set_faults(rate_limit_next=1, retry_after_seconds=60, route="GET /api/*")
    with pytest.raises(PosError) as limited:
        await pos.stock_levels(["MUG-001"])
    assert limited.value.retryable and "429" in limited.value.message
    env.control.set_faults(error_next=5, route="GET /api/*")
    with pytest.raises(PosError) as outage:
        await pos.stock_levels(["MUG-001"])
    assert outage.value.retryable and "Lightspeed Server had a problem" in outage.value.message
    assert env.count("GET /api/products/") == 1 + 3  # the 429, then three attempts


async def test_a_timeout_on_a_read_is_retried(env: Env) -> None:
    pos = env.adapter(timeout_seconds=0.5)
    env.control.set_faults(timeout_next=1, timeout_seconds=5, route="GET /api/products/")
    assert await pos.stock_levels(["MUG-001"])
    assert env.count("GET /api/products/") == 2


async def test_an_unreachable_server_is_retryable_and_says_so(env: Env) -> None:
    pos = env.adapter(sleep=_no_sleep, base_url="https://127.0.0.1:9/api/")
    with pytest.raises(PosError) as failed:
        await pos.check()
    assert failed.value.retryable
    assert "could not be reached" in failed.value.message and "pos.base_url" in failed.value.message


async def _no_sleep(_seconds: float) -> None:
    return None
