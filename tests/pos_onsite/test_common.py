"""The POS-agnostic pieces (``m2pos.pos.common``) every adapter reuses."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from m2pos.magento.models import Order
from m2pos.pos.common.cache import TtlCache
from m2pos.pos.common.catalog import SkuResolver
from m2pos.pos.common.customers import PosCustomer, choose
from m2pos.pos.common.plan import document_skus, plan_sale, split_price

from .conftest import Env

D = Decimal


@pytest.mark.parametrize(
    ("total", "qty", "parts"),
    [
        (D("28.00"), D(2), [(D(2), D("14.000"))]),
        (D("6.67"), D(3), [(D(3), D("2.223"))]),  # 3 decimals are enough below 10 units
        (D("1.00"), D(30), [(D(29), D("0.033")), (D(1), D("0.04"))]),  # 30 × 0.033 = 0.99: split
        (D("10.00"), D("2.5"), [(D("2.5"), D("4.000"))]),
    ],
)
def test_split_price_keeps_the_cents(
    total: Decimal, qty: Decimal, parts: list[tuple[Decimal, Decimal]]
) -> None:
    assert split_price(total, qty) == parts
    assert sum(((q * p).quantize(D("0.01")) for q, p in parts), D(0)) == total


def test_ttl_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache: TtlCache[str, int | None] = TtlCache(max_entries=2, ttl_seconds=10, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("none", None)
    assert cache.lookup("none") == (True, None)  # a cached "not found" is a hit
    assert cache.lookup("b") == (False, None)
    cache.get("a")
    cache.put("c", 3)  # the least recently used ("none") goes
    assert "none" not in cache and "a" in cache and len(cache) == 2
    now[0] = 11
    assert cache.get("a") is None and len(cache) == 1


def test_choose_skips_merged_then_takes_the_latest() -> None:
    candidates = [
        PosCustomer("5", "a@x", merged=True, modified="2024-05-01"),
        PosCustomer("3", "a@x", modified="2024-01-01"),
        PosCustomer("4", "a@x", modified="2024-03-01"),
        PosCustomer("2", "a@x", modified="2024-03-01"),
    ]
    chosen = choose(candidates)
    assert chosen is not None and chosen.id == "2"  # latest modified, then the lowest id
    assert choose([PosCustomer("9", "a@x", merged=True)]) is None


async def test_sku_resolver_batches_caches_and_shares_lookups() -> None:
    calls: list[list[str]] = []

    async def lookup(skus: Sequence[str]) -> Mapping[str, str]:
        calls.append(list(skus))
        await asyncio.sleep(0.01)
        return {sku: f"P-{sku}" for sku in skus if sku != "missing"}

    resolver: SkuResolver[str] = SkuResolver(lookup, batch_size=2)
    first, second = await asyncio.gather(
        resolver.resolve(["a", "b", "missing"]), resolver.resolve(["a", "b"])
    )
    assert first == {"a": "P-a", "b": "P-b", "missing": None} and second == {"a": "P-a", "b": "P-b"}
    assert calls == [["a", "b"], ["missing"]]  # two batches; the concurrent caller waited for them
    assert await resolver.resolve(["missing", "a"]) == {"missing": None, "a": "P-a"}
    assert len(calls) == 2


async def test_orders_waiting_for_a_lookup_share_the_next_batch() -> None:
    calls: list[list[str]] = []

    async def lookup(skus: Sequence[str]) -> Mapping[str, str]:
        calls.append(list(skus))
        await asyncio.sleep(0.01)
        return {sku: f"P-{sku}" for sku in skus}

    resolver: SkuResolver[str] = SkuResolver(lookup, batch_size=100)
    results = await asyncio.gather(*(resolver.resolve([f"s{n}", "common"]) for n in range(8)))
    assert results[5] == {"s5": "P-s5", "common": "P-common"}
    # The first order's batch, then one batch for the seven that queued meanwhile (not seven).
    assert calls == [["s0", "common"], [f"s{n}" for n in range(1, 8)]]


async def test_answers_do_not_depend_on_the_cache_keeping_them() -> None:
    async def lookup(skus: Sequence[str]) -> Mapping[str, str]:
        return {sku: f"P-{sku}" for sku in skus}

    resolver: SkuResolver[str] = SkuResolver(lookup, cache=TtlCache(ttl_seconds=0))
    assert await resolver.resolve(["a"]) == {"a": "P-a"}


def test_a_bundle_is_looked_up_by_its_components_only(env: Env) -> None:
    order = env.order("bundle")
    parent = next(i for i in order.items if i.product_type == "bundle")
    skus = document_skus(order.lines())
    assert parent.sku not in skus
    assert sorted(skus) == sorted(i.sku for i in order.items if i.parent_item_id == parent.item_id)


def test_fixed_price_bundle_money_is_spread_by_pos_price(env: Env) -> None:
    order = env.order("bundle", coupon_percent=10)
    parent = next(i for i in order.items if i.product_type == "bundle")
    children = [i for i in order.items if i.parent_item_id == parent.item_id]
    # Make it a fixed-price bundle: the parent carries the money, the children none.
    net = sum((c.row_total - c.discount_amount for c in children), D(0))
    fixed = order.model_copy(
        update={
            "items": tuple(
                i.model_copy(update={"row_total": net, "discount_amount": D(0), "tax_amount": D(0)})
                if i is parent
                else i.model_copy(update={"row_total": D(0), "discount_amount": D(0), "tax_amount": D(0)})
                if i in children
                else i
                for i in order.items
            )
        }
    )
    weights = {c.sku: D(i + 1) for i, c in enumerate(children)}
    plan = plan_sale(fixed, {c.sku: c.sku for c in children}, tax_mode="pos", weight=lambda c: weights[c.sku])
    goods = [line for line in plan.lines if line.role == "product"]
    assert [line.sku for line in goods] == [c.sku for c in children]
    assert sum((line.total for line in goods), D(0)) == net
    assert goods[0].unit_price < goods[-1].unit_price  # by weight


def test_shipping_discount_lowers_the_shipping_line() -> None:
    order = Order.model_validate(
        {
            "increment_id": "1",
            "items": [{"item_id": 1, "sku": "A", "qty_ordered": 1, "price": 10, "row_total": 10}],
            "shipping_amount": 5,
            "discount_amount": -2,
            "shipping_description": "Flat",
            "grand_total": 13,
        }
    )
    plan = plan_sale(order, {"A": "product-a"}, tax_mode="pos")
    assert [(line.role, line.total) for line in plan.lines] == [("product", D(10)), ("shipping", D(3))]
    assert plan.total == order.grand_total


async def test_two_orders_of_a_new_customer_at_once_create_one_record(env: Env) -> None:
    pos = env.adapter()
    orders = [env.order("simple", customer_index=4), env.order("simple", customer_index=4)]
    await asyncio.gather(*(pos.create_document(o, o.increment_id or "") for o in orders))
    assert len(env.control.customers(orders[0].customer_email)) == 1
