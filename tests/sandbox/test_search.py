"""Search criteria, paging, input limits and ``fields=`` over real HTTP, checked against the data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import MagentoSandbox

from .conftest import Magento

FG = "searchCriteria[filter_groups]"


@pytest.fixture(scope="module")
def shop() -> Iterator[Magento]:
    """One read-only sandbox with generated orders for the whole module."""
    sandbox = MagentoSandbox(orders=80, seed=5)
    with serve_in_thread(sandbox.app) as base, httpx.Client(timeout=10) as http:
        yield Magento(sandbox, base, http)
    sandbox.close()


@pytest.fixture(scope="module")
def all_orders(shop: Magento) -> list[dict[str, Any]]:
    resp = shop.get("/V1/orders", {"searchCriteria[pageSize]": 500})
    assert resp.status_code == 200
    orders: list[dict[str, Any]] = resp.json()["items"]
    assert len(orders) == 80
    return orders


def ids(resp: httpx.Response) -> set[int]:
    assert resp.status_code == 200, resp.text
    return {o["entity_id"] for o in resp.json()["items"]}


def one_filter(field: str, value: str | None, cond: str, spelling: str = "snake") -> dict[str, Any]:
    group, cond_key = (
        ("filter_groups", "condition_type") if spelling == "snake" else ("filterGroups", "conditionType")
    )
    params: dict[str, Any] = {
        f"searchCriteria[{group}][0][filters][0][field]": field,
        f"searchCriteria[{group}][0][filters][0][{cond_key}]": cond,
        "searchCriteria[pageSize]": 500,
    }
    if value is not None:
        params[f"searchCriteria[{group}][0][filters][0][value]"] = value
    return params


def _like(pattern: str) -> Callable[[Any], bool]:
    regex = re.compile(
        "^" + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern) + "$",
        re.IGNORECASE,
    )
    return lambda v: v is not None and bool(regex.match(str(v)))


def _in_set(value: str) -> Callable[[Any], bool]:
    return lambda v: v is not None and value in str(v).split(",")


CASES: list[tuple[str, str, str | None, Callable[[Any], bool]]] = [
    ("eq", "state", "complete", lambda v: v == "complete"),
    ("eq", "customer_email", "EMAIL", lambda v: False),  # MySQL's collation: case-insensitive
    ("neq", "state", "complete", lambda v: v is not None and v != "complete"),
    ("gt", "grand_total", "100", lambda v: v is not None and v > 100),
    ("gteq", "grand_total", "57", lambda v: v is not None and v >= 57),
    ("lt", "grand_total", "40.5", lambda v: v is not None and v < 40.5),
    ("lteq", "store_id", "1", lambda v: v is not None and v <= 1),
    ("moreq", "store_id", "2", lambda v: v is not None and v >= 2),
    ("from", "created_at", "DATE", lambda v: v is not None and v >= "DATE"),
    ("to", "created_at", "DATE", lambda v: v is not None and v <= "DATE"),
    ("in", "state", "canceled,holded,closed", lambda v: v in ("canceled", "holded", "closed")),
    ("nin", "state", "canceled,holded", lambda v: v is not None and v not in ("canceled", "holded")),
    ("like", "customer_email", "%a%@example.com", _like("%a%@example.com")),
    ("nlike", "increment_id", "2%", lambda v: v is not None and not str(v).startswith("2")),
    ("null", "customer_id", None, lambda v: v is None),
    ("notnull", "customer_id", None, lambda v: v is not None),
    ("finset", "applied_rule_ids", "1", _in_set("1")),
    ("nfinset", "applied_rule_ids", "1", lambda v: v is not None and "1" not in str(v).split(",")),
]


@pytest.mark.parametrize(
    ("cond", "field", "value", "predicate"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_condition_types(
    shop: Magento, all_orders: list[dict[str, Any]], cond: str, field: str, value: str | None, predicate: Any
) -> None:
    if value == "DATE":
        middle = sorted(o["created_at"] for o in all_orders)[40]
        value = middle
        predicate = (lambda m: lambda v: v is not None and (v >= m if cond == "from" else v <= m))(middle)
    if value == "EMAIL":
        email = all_orders[3]["customer_email"]
        value = email.upper()
        predicate = (lambda e: lambda v: v == e)(email)
    expected = {o["entity_id"] for o in all_orders if predicate(o.get(field))}
    assert 0 < len(expected) < 80 or cond in ("null", "notnull", "nfinset"), (cond, len(expected))
    assert ids(shop.get("/V1/orders", one_filter(field, value, cond))) == expected
    assert ids(shop.get("/V1/orders", one_filter(field, value, cond, "camel"))) == expected


def test_condition_type_defaults_to_eq(shop: Magento, all_orders: list[dict[str, Any]]) -> None:
    params = {f"{FG}[0][filters][0][field]": "state", f"{FG}[0][filters][0][value]": "new"}
    resp = shop.get("/V1/orders", params)
    assert ids(resp) == {o["entity_id"] for o in all_orders if o["state"] == "new"}
    assert resp.json()["search_criteria"]["filter_groups"][0]["filters"][0]["condition_type"] == "eq"


def test_date_only_value_compares_as_midnight(shop: Magento, all_orders: list[dict[str, Any]]) -> None:
    day = sorted(o["created_at"] for o in all_orders)[40][:10]
    resp = shop.get("/V1/orders", one_filter("created_at", day, "gteq"))
    assert ids(resp) == {o["entity_id"] for o in all_orders if o["created_at"] >= f"{day} 00:00:00"}


def test_or_within_group_and_across_groups(shop: Magento, all_orders: list[dict[str, Any]]) -> None:
    params = {
        f"{FG}[0][filters][0][field]": "state",
        f"{FG}[0][filters][0][value]": "complete",
        f"{FG}[0][filters][1][field]": "state",
        f"{FG}[0][filters][1][value]": "closed",
        f"{FG}[1][filters][0][field]": "store_id",
        f"{FG}[1][filters][0][value]": "1",
        "searchCriteria[pageSize]": 500,
    }
    expected = {
        o["entity_id"] for o in all_orders if o["state"] in ("complete", "closed") and o["store_id"] == 1
    }
    assert expected
    assert ids(shop.get("/V1/orders", params)) == expected
    from_to = {
        f"{FG}[0][filters][0][field]": "grand_total",
        f"{FG}[0][filters][0][value]": "50",
        f"{FG}[0][filters][0][condition_type]": "from",
        f"{FG}[1][filters][0][field]": "grand_total",
        f"{FG}[1][filters][0][value]": "150",
        f"{FG}[1][filters][0][condition_type]": "to",
    }
    assert ids(shop.get("/V1/orders", from_to)) == {
        o["entity_id"] for o in all_orders if 50 <= o["grand_total"] <= 150
    }


def test_sort_orders_default_to_desc(shop: Magento, all_orders: list[dict[str, Any]]) -> None:
    resp = shop.get(
        "/V1/orders", {"searchCriteria[sortOrders][0][field]": "grand_total", "searchCriteria[pageSize]": 5}
    )
    totals = [o["grand_total"] for o in resp.json()["items"]]
    assert totals == sorted((o["grand_total"] for o in all_orders), reverse=True)[:5]
    assert resp.json()["search_criteria"]["sort_orders"] == [{"field": "grand_total"}]
    asc = shop.get(
        "/V1/orders",
        {
            "searchCriteria[sort_orders][0][field]": "entity_id",
            "searchCriteria[sort_orders][0][direction]": "asc",
            "searchCriteria[page_size]": 3,
        },
    )
    assert [o["entity_id"] for o in asc.json()["items"]] == [1, 2, 3]
    assert asc.json()["search_criteria"]["sort_orders"] == [{"field": "entity_id", "direction": "ASC"}]


def test_invalid_sort_direction(shop: Magento) -> None:
    resp = shop.get(
        "/V1/orders",
        {
            "searchCriteria[sortOrders][0][field]": "entity_id",
            "searchCriteria[sortOrders][0][direction]": "up",
        },
    )
    assert resp.status_code == 400
    assert resp.json()["parameters"] == ["ASC", "DESC"]


def test_page_past_the_end_repeats_the_last_page(shop: Magento) -> None:
    base = {
        "searchCriteria[sortOrders][0][field]": "entity_id",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[pageSize]": 30,
    }
    last = shop.get("/V1/orders", {**base, "searchCriteria[currentPage]": 3}).json()
    past = shop.get("/V1/orders", {**base, "searchCriteria[currentPage]": 9}).json()
    assert [o["entity_id"] for o in last["items"]] == list(range(61, 81))
    assert past["items"] == last["items"]
    assert past["total_count"] == 80
    assert past["search_criteria"]["current_page"] == 9
    first = shop.get("/V1/orders", {**base, "searchCriteria[currentPage]": 0}).json()
    assert [o["entity_id"] for o in first["items"]][:2] == [1, 2]


def test_missing_page_size_returns_everything_without_limits(shop: Magento) -> None:
    resp = shop.get(
        "/V1/orders",
        {
            f"{FG}[0][filters][0][field]": "entity_id",
            f"{FG}[0][filters][0][value]": "0",
            f"{FG}[0][filters][0][condition_type]": "gt",
        },
    )
    assert len(resp.json()["items"]) == 80
    assert "page_size" not in resp.json()["search_criteria"]


def test_missing_search_criteria(shop: Magento) -> None:
    resp = shop.get("/V1/orders")
    assert resp.status_code == 400
    assert resp.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }
    assert shop.get("/V1/orders", {"searchCriteria": "all"}).json()["total_count"] == 80


def test_bad_page_size_type(shop: Magento) -> None:
    resp = shop.get("/V1/orders", {"searchCriteria[pageSize]": "ten"})
    assert resp.status_code == 400
    assert resp.json()["parameters"] == {"value": "ten", "type": "int"}


def test_unknown_field_is_a_masked_sql_error(shop: Magento) -> None:
    resp = shop.get("/V1/orders", one_filter("no_such_column", "1", "eq"))
    assert resp.status_code == 500
    assert re.fullmatch(
        r"Internal Error\. Details are available in Magento log file\. Report ID: webapi-[0-9a-f]{13}",
        resp.json()["message"],
    )
    products = shop.get("/V1/products", one_filter("no_such_attribute", "1", "eq"))
    assert products.status_code == 400
    assert products.json() == {"message": "Invalid attribute name: %1", "parameters": ["no_such_attribute"]}


def test_fields_projection(shop: Magento) -> None:
    spec = "items[entity_id,increment_id,extension_attributes[shipping_assignments]],total_count"
    resp = shop.get("/V1/orders", {"searchCriteria[pageSize]": 2, "fields": spec}).json()
    assert set(resp) == {"items", "total_count"}
    assert all(set(o) <= {"entity_id", "increment_id", "extension_attributes"} for o in resp["items"])
    assert all(set(o["extension_attributes"]) == {"shipping_assignments"} for o in resp["items"])
    no_count = shop.get("/V1/orders", {"searchCriteria[pageSize]": 2, "fields": "items[entity_id]"}).json()
    assert set(no_count) == {"items"}
    nested = shop.get(
        "/V1/orders", {"searchCriteria[pageSize]": 1, "fields": "items[payment[method]]"}
    ).json()
    assert set(nested["items"][0]["payment"]) == {"method"}
    assert shop.get("/V1/orders", {"searchCriteria[pageSize]": 1, "fields": "items[entity_id"}).json() == []
    assert shop.get("/V1/orders", {"searchCriteria[pageSize]": 1, "fields": "items entity_id"}).json() == []
    single = shop.get("/V1/orders/1", {"fields": "entity_id,state"}).json()
    assert set(single) == {"entity_id", "state"}


def test_other_search_routes(shop: Magento, all_orders: list[dict[str, Any]]) -> None:
    invoiced = next(o for o in all_orders if o.get("total_invoiced"))
    inv = shop.get("/V1/invoices", one_filter("order_id", str(invoiced["entity_id"]), "eq")).json()
    assert inv["total_count"] >= 1
    assert all(i["order_id"] == invoiced["entity_id"] for i in inv["items"])
    memos = shop.get("/V1/creditmemos", {"searchCriteria[pageSize]": 100}).json()
    refunded = {o["entity_id"] for o in all_orders if o.get("total_refunded")}
    assert {m["order_id"] for m in memos["items"]} == refunded
    products = shop.get("/V1/products", one_filter("sku", "ABC/10,MH01", "in")).json()
    assert sorted(p["sku"] for p in products["items"]) == ["ABC/10", "MH01"]
    sources = shop.get("/V1/inventory/source-items", one_filter("sku", "ABC/10", "eq")).json()
    assert {s["source_code"] for s in sources["items"]} == {"default", "warehouse_east"}


def test_input_limits(make_magento: Any) -> None:
    m = make_magento(orders=25, input_limits=True)
    too_big = m.get("/V1/orders", {"searchCriteria[pageSize]": 301})
    assert too_big.status_code == 400
    assert too_big.json() == {
        "message": "Maximum SearchCriteria pageSize is %max",
        "parameters": {"max": 300},
    }
    default = m.get(
        "/V1/orders",
        {
            f"{FG}[0][filters][0][field]": "entity_id",
            f"{FG}[0][filters][0][value]": "0",
            f"{FG}[0][filters][0][condition_type]": "gt",
        },
    ).json()
    assert len(default["items"]) == 20
    assert default["search_criteria"]["page_size"] == 20
    assert default["total_count"] == 25
    groups = {f"{FG}[{i}][filters][0][field]": "entity_id" for i in range(21)}
    groups.update({f"{FG}[{i}][filters][0][value]": str(i) for i in range(21)})
    many = m.get("/V1/orders", groups, auth="admin")  # OAuth with >10 indexes: see test_auth
    assert many.status_code == 400
    assert many.json()["parameters"] == {"type": "\\Magento\\Framework\\Api\\Search\\FilterGroup", "max": 20}
    assert m.get("/V1/orders", {"searchCriteria[pageSize]": 300}).status_code == 200
