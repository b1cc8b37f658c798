"""Lenient reads: one malformed document comes as an InvalidDocument and the stream goes on."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from m2pos.magento import CreditMemo, InvalidDocument, MagentoClient, Order
from tests.magento.conftest import FakeMagento, json_response, query_of, search_result


def paged(items: list[Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(query_of(request))
        size = int(query["searchCriteria[pageSize]"])
        page = min(int(query["searchCriteria[currentPage]"]), max(1, math.ceil(len(items) / size)))
        return json_response(search_result(items[(page - 1) * size : page * size], total=len(items)))

    return handler


def order(entity_id: int, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "entity_id": entity_id,
        "increment_id": f"{entity_id:09d}",
        "grand_total": 10,
        "base_grand_total": 10,
        "customer_email": "jane@example.com",
        "items": [{"item_id": entity_id * 10, "sku": "MUG-001", "qty_ordered": 1, "price": 10}],
    }
    return {**doc, **changes}


BROKEN = order(2, grand_total="abc", items=[{"item_id": 20, "sku": "MUG-001", "qty_ordered": 1}, 5])


async def test_a_malformed_order_is_yielded_as_a_value_and_the_stream_goes_on(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", paged([order(1), BROKEN, order(3), order(4)]))
    async with make_client(page_size=2) as client:
        seen = await client.orders(on_invalid="yield").to_list()
    assert [type(d) for d in seen] == [Order, InvalidDocument, Order, Order]
    assert [d.entity_id for d in seen] == [1, 2, 3, 4]
    invalid = seen[1]
    assert isinstance(invalid, InvalidDocument)
    assert invalid.kind == "order"
    assert invalid.increment_id == "000000002"
    assert invalid.errors == ("grand_total: not a number ('abc')", "items[1]: not an object (5)")
    assert invalid.raw_excerpt.startswith('{"entity_id":2,"increment_id":"000000002","grand_total":"abc"')
    assert "order 000000002" in str(invalid)
    assert "grand_total: not a number ('abc')" in str(invalid)


async def test_by_default_a_malformed_order_still_raises(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", paged([order(1), BROKEN, order(3)]))
    async with make_client() as client:
        with pytest.raises(ValidationError, match="grand_total"):
            await client.orders().to_list()
        with pytest.raises(ValidationError, match="grand_total"):
            await client.orders(on_invalid="raise").to_list()


async def test_a_malformed_credit_memo_is_yielded_as_a_value(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    memos = [
        {"entity_id": 1, "order_id": 7, "grand_total": 5, "items": []},
        {"entity_id": 2, "increment_id": "CM-2", "order_id": "seven", "items": [{"qty": "two"}]},
        {"entity_id": 3, "order_id": 8, "grand_total": 6, "items": []},
    ]
    fake.on("GET", "/creditmemos", paged(memos))
    async with make_client() as client:
        seen = await client.credit_memos(on_invalid="yield").to_list()
        with pytest.raises(ValidationError):
            await client.credit_memos().to_list()
    assert [type(d) for d in seen] == [CreditMemo, InvalidDocument, CreditMemo]
    invalid = seen[1]
    assert isinstance(invalid, InvalidDocument)
    assert (invalid.kind, invalid.entity_id, invalid.increment_id) == ("credit memo", 2, "CM-2")
    assert invalid.errors == ("order_id: not a whole number ('seven')", "items[0].qty: not a number ('two')")


@pytest.mark.parametrize(
    ("raw", "errors", "entity_id"),
    [
        (5, ("<document>: not an object (5)",), None),
        ("order", ("<document>: not an object ('order')",), None),
        ({"entity_id": "x1"}, ("entity_id: not a whole number ('x1')",), None),
        ({"entity_id": [1]}, ("entity_id: not a whole number ([1])",), None),
        ({"entity_id": 9, "created_at": "yesterday"}, ("created_at: not a date and time ('yesterday')",), 9),
        ({"entity_id": 9, "customer_is_guest": "maybe"}, ("customer_is_guest: not a 0/1 flag ('maybe')",), 9),
        ({"entity_id": 9, "subtotal": "NaN"}, ("subtotal: not a finite number ('NaN')",), 9),
        ({"entity_id": 9, "payment": "cash"}, ("payment: not an object ('cash')",), 9),
        ({"entity_id": 9, "items": {"sku": "A"}}, ("items: not a list ({'sku': 'A'})",), 9),
        ({"entity_id": 9, "items": [{"sku": 7}]}, ("items[0].sku: not a text (7)",), 9),
        (
            {"entity_id": 9, "billing_address": {"street": "Main St"}},
            ("billing_address.street: not a list ('Main St')",),
            9,
        ),
    ],
)
async def test_what_was_wrong_is_said_per_field(
    fake: FakeMagento,
    make_client: Callable[..., MagentoClient],
    raw: Any,
    errors: tuple[str, ...],
    entity_id: int | None,
) -> None:
    fake.on("GET", "/orders", paged([order(1), raw, order(10)]))
    async with make_client() as client:
        seen = await client.orders(on_invalid="yield").to_list()
    assert len(seen) == 3
    assert isinstance(seen[0], Order)
    assert isinstance(seen[2], Order)
    invalid = seen[1]
    assert isinstance(invalid, InvalidDocument)
    assert invalid.errors == errors
    assert invalid.entity_id == entity_id


async def test_long_values_and_documents_are_cut_short(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", paged([order(1, grand_total="9" * 30 + "x", customer_note="n" * 5000)]))
    async with make_client() as client:
        [invalid] = await client.orders(on_invalid="yield").to_list()
    assert isinstance(invalid, InvalidDocument)
    assert invalid.errors == ("grand_total: not a number ('999999999999999999999999999999x')",)
    fake.on("GET", "/orders", paged([order(1, grand_total="abc" * 30, customer_note="n" * 5000)]))
    async with make_client() as client:
        [invalid] = await client.orders(on_invalid="yield").to_list()
    assert isinstance(invalid, InvalidDocument)
    shown = "'" + ("abc" * 13)[:38] + "…"  # the value as received, cut at 40 characters
    assert invalid.errors == (f"grand_total: not a number ({shown})",)
    assert len(invalid.raw_excerpt) == 300
    assert invalid.raw_excerpt.endswith("…")


async def test_a_malformed_extension_attribute_does_not_crash_the_parser(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    odd = [
        order(1, extension_attributes="none"),
        order(2, extension_attributes={"shipping_assignments": "none"}),
        order(3, extension_attributes={"shipping_assignments": [5]}),
        order(4, extension_attributes={"shipping_assignments": [{"shipping": "x"}]}),
    ]
    fake.on("GET", "/orders", paged(odd))
    async with make_client() as client:
        seen = await client.orders().to_list()  # nothing to report: the odd parts are not read
    assert [o.entity_id for o in seen] == [1, 2, 3, 4]
    assert all(o.shipping_address is None for o in seen)


def test_an_invalid_document_is_a_frozen_value() -> None:
    invalid = InvalidDocument("order", 1, "000000001", "{}", ("grand_total: not a number ('abc')",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        invalid.entity_id = 2  # type: ignore[misc]
    assert invalid == InvalidDocument("order", 1, "000000001", "{}", ("grand_total: not a number ('abc')",))


async def test_an_unknown_mode_is_refused(make_client: Callable[..., MagentoClient]) -> None:
    async with make_client() as client:
        with pytest.raises(ValueError, match="on_invalid"):
            client.orders(on_invalid="skip")  # type: ignore[call-overload]
        with pytest.raises(ValueError, match="on_invalid"):
            client.credit_memos(on_invalid="ignore")  # type: ignore[call-overload]
