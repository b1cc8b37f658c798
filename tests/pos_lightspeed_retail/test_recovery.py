"""Exactly once: a Sale is one POST, so after a lost answer it is found by its reference, never
made twice; retries inside the client repeat only what cannot duplicate."""

from __future__ import annotations

import pytest

from m2pos.pos.port import PosError

from .conftest import Env

SALE_POST = "POST /API/V3/Account/{accountID}/Sale.json"
SALE_GET = "GET /API/V3/Account/{accountID}/Sale.json"


async def test_a_lost_answer_after_the_sale_was_made_is_found_by_reference(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    await pos.check()
    env.sandbox.faults.update({"drop_after_commit_next": 1, "route": SALE_POST})
    with pytest.raises(PosError) as raised:
        await pos.create_document(order, order.increment_id or "")
    assert raised.value.retryable and order.increment_id in raised.value.message
    assert env.control.count(SALE_POST) == 1  # not re-sent blindly
    found = await pos.find_document(order.increment_id or "")  # what the engine asks next
    (sale,) = env.control.sales(order.increment_id)
    assert found is not None and found.id == str(sale["id"])
    restarted = env.adapter()  # a new process finds it too (tokens from the file)
    assert await restarted.find_document(order.increment_id or "") == found


async def test_returns_are_found_by_their_reference_after_a_lost_answer(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    original = await pos.create_document(order, order.increment_id or "")
    memo, order = env.refund(order, return_to_stock=True)
    env.sandbox.faults.update({"drop_after_commit_next": 1, "route": SALE_POST})
    with pytest.raises(PosError):
        await pos.create_return(memo, order, original, memo.increment_id or "", frozenset())
    found = await pos.find_return(memo.increment_id or "")
    assert found is not None and len(env.control.sales(f"CM-{memo.increment_id}")) == 1


async def test_refusals_before_processing_are_retried_even_for_posts(env: Env) -> None:
    pos = env.adapter()
    order = env.order("simple")
    await pos.check()
    env.sandbox.faults.update({"rate_limit_next": 1, "retry_after_seconds": 0, "route": SALE_POST})
    await pos.create_document(order, order.increment_id or "")
    assert env.control.count(SALE_POST) == 2 and len(env.control.sales(order.increment_id)) == 1
    env.sandbox.faults.update({"error_next": 1, "route": SALE_POST})  # a 500: maybe done → the engine
    second = env.order("simple")
    with pytest.raises(PosError) as raised:
        await pos.create_document(second, second.increment_id or "")
    assert raised.value.retryable and env.control.count(SALE_POST) == 3


async def test_reads_are_retried_after_errors(env: Env) -> None:
    pos = env.adapter()
    env.sandbox.faults.update({"error_next": 2, "route": SALE_GET})
    assert await pos.find_document("nothing-like-this") is None
    assert env.control.count(SALE_GET) == 3


async def test_rejections_name_the_order_and_are_not_retryable(env: Env) -> None:
    pos = env.adapter(register_id=9)
    order = env.order("simple")
    with pytest.raises(PosError) as raised:
        await pos.create_document(order, order.increment_id or "")
    error = raised.value
    assert not error.retryable
    assert order.increment_id in error.message and "registerID" in error.message
    assert env.sandbox.oauth.client_secret not in error.message
