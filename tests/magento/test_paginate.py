"""The paginator against Magento's repeated last page, shifting rows, and projections."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from m2pos.magento import MagentoClient, MagentoInvalidResponseError, SearchCriteria, ensure_fields
from tests.magento.conftest import FakeMagento, json_response, query_of, search_result


def clamped_store(items: list[dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """Pages like Magento's collection: a page past the end is the last page again."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(query_of(request))
        size = int(query["searchCriteria[pageSize]"])
        last = max(1, math.ceil(len(items) / size))
        page = min(max(int(query.get("searchCriteria[currentPage]", "1")), 1), last)
        return json_response(search_result(items[(page - 1) * size : page * size], total=len(items)))

    return handler


def orders(n: int) -> list[dict[str, Any]]:
    return [{"entity_id": i, "increment_id": f"{i:09d}"} for i in range(1, n + 1)]


def pages_requested(fake: FakeMagento) -> list[int]:
    return [int(dict(query_of(r))["searchCriteria[currentPage]"]) for r in fake.requests]


async def test_250_orders_by_100_are_seen_once_and_paging_stops_on_total_count(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", clamped_store(orders(250)))
    async with make_client() as client:
        seen = [o.entity_id async for o in client.orders()]
    assert seen == list(range(1, 251))
    assert pages_requested(fake) == [1, 2, 3]
    query = query_of(fake.requests[0])
    assert ("searchCriteria[pageSize]", "100") in query
    assert ("searchCriteria[sortOrders][0][field]", "entity_id") in query
    assert ("searchCriteria[sortOrders][0][direction]", "ASC") in query


async def test_an_exact_multiple_does_not_ask_for_an_extra_page(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", clamped_store(orders(200)))
    async with make_client() as client:
        assert len(await client.orders().to_list()) == 200
    assert pages_requested(fake) == [1, 2]


async def test_a_repeated_last_page_is_never_yielded_twice(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    # total_count claims more than exists (rows deleted mid-scan): Magento repeats the last page.
    items = orders(150)

    def handler(request: httpx.Request) -> httpx.Response:
        body = clamped_store(items)(request)
        data = body.json()
        data["total_count"] = 350
        return json_response(data)

    fake.on("GET", "/orders", handler)
    async with make_client() as client:
        paginator = client.orders()
        seen = [o.entity_id async for o in paginator]
    assert seen == list(range(1, 151))
    assert pages_requested(fake) == [1, 2, 3, 4]  # stops on total_count, not on a repeat
    assert paginator.duplicates_skipped == 100


async def test_rows_shifting_across_a_page_boundary_are_deduplicated(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    items = orders(30)
    pages = {1: items[0:10], 2: items[7:17], 3: items[17:30]}  # page 2 overlaps page 1 by 3 rows
    fake.on(
        "GET",
        "/orders",
        lambda r: json_response(
            search_result(pages[int(dict(query_of(r))["searchCriteria[currentPage]"])], total=30)
        ),
    )
    async with make_client(page_size=10) as client:
        seen = [o.entity_id async for o in client.orders()]
    assert seen == list(range(1, 31))


async def test_an_empty_page_does_not_stop_paging(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    items = orders(30)
    pages = {1: items[0:10], 2: [], 3: items[20:30]}
    fake.on(
        "GET",
        "/orders",
        lambda r: json_response(
            search_result(pages[int(dict(query_of(r))["searchCriteria[currentPage]"])], total=30)
        ),
    )
    async with make_client(page_size=10) as client:
        seen = [o.entity_id async for o in client.orders()]
    assert len(seen) == 20
    assert pages_requested(fake) == [1, 2, 3]


async def test_no_results(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> None:
    fake.on("GET", "/orders", json_response(search_result([], total=0)))
    async with make_client() as client:
        assert await client.orders().to_list() == []
    assert len(fake.requests) == 1


async def test_pages_are_streamed_not_collected(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", clamped_store(orders(500)))
    async with make_client() as client:
        async for order in client.orders():
            assert order.entity_id == 1
            break
    assert len(fake.requests) == 1


async def test_a_result_without_total_count_is_refused(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", json_response({"items": [{"entity_id": 1}]}))
    async with make_client() as client:
        with pytest.raises(MagentoInvalidResponseError, match="total_count"):
            await client.orders().to_list()


async def test_the_callers_filters_and_sort_come_first(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", clamped_store(orders(3)))
    criteria = SearchCriteria().where("state", "eq", "new").order_by("updated_at")
    async with make_client() as client:
        await client.orders(criteria).to_list()
    query = query_of(fake.requests[0])
    assert query[:3] == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "state"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "new"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "eq"),
    ]
    assert query[3:7] == [
        ("searchCriteria[sortOrders][0][field]", "updated_at"),
        ("searchCriteria[sortOrders][0][direction]", "ASC"),
        ("searchCriteria[sortOrders][1][field]", "entity_id"),
        ("searchCriteria[sortOrders][1][direction]", "ASC"),
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("items[increment_id]", "items[increment_id,entity_id],total_count"),
        ("items[entity_id,state],total_count", "items[entity_id,state],total_count"),
        (
            "items[sku,extension_attributes[stock_item[qty,is_in_stock]]],search_criteria",
            "items[sku,extension_attributes[stock_item[qty,is_in_stock]],entity_id],search_criteria,total_count",
        ),
        ("items", "items,total_count"),
    ],
)
def test_projections_always_keep_total_count_and_the_key(fields: str, expected: str) -> None:
    assert ensure_fields(fields, ("entity_id",)) == expected


async def test_product_projection_and_sort(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/products", json_response(search_result([{"id": 1, "sku": "A"}, {"id": 2, "sku": "B"}])))
    async with make_client() as client:
        products = await client.products(fields="items[sku,type_id]").to_list()
    assert [p.sku for p in products] == ["A", "B"]
    query = dict(query_of(fake.requests[0]))
    assert query["fields"] == "items[sku,type_id,id],total_count"
    assert query["searchCriteria[sortOrders][0][field]"] == "entity_id"


async def test_source_items_are_keyed_by_sku_and_source(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    rows = [
        {"sku": "A", "source_code": "default", "quantity": 1, "status": 1},
        {"sku": "A", "source_code": "shop", "quantity": 2, "status": 1},
    ]
    fake.on("GET", "/inventory/source-items", json_response(search_result([*rows, rows[0]], total=3)))
    async with make_client() as client:
        items = await client.source_items().to_list()
    assert [(i.sku, i.source_code) for i in items] == [("A", "default"), ("A", "shop")]
    query = query_of(fake.requests[0])
    assert ("searchCriteria[sortOrders][0][field]", "sku") in query
    assert ("searchCriteria[sortOrders][1][field]", "source_code") in query


def test_a_page_size_above_300_is_refused_up_front(make_client: Callable[..., MagentoClient]) -> None:
    with pytest.raises(ValueError, match="300"):
        make_client(page_size=500)
