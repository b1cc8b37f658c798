"""Writes: exact bodies, invoice and comment idempotency, source-item chunking, SKU encoding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from m2pos.magento import (
    MagentoAuthError,
    MagentoBadRequestError,
    MagentoClient,
    MagentoServerError,
    RetryPolicy,
    SourceItem,
)
from tests.magento.conftest import (
    FakeMagento,
    Sleeps,
    body_of,
    error_response,
    json_response,
    query_of,
    search_result,
)

DOES_NOT_ALLOW = "Invoice Document Validation Error(s):\nThe order does not allow an invoice to be created."


@dataclass
class Shop:
    """Just enough Magento state for invoicing and comments on order 42."""

    fake: FakeMagento
    invoices: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    qty_invoiced: int = 0
    next_id: int = 500

    def __post_init__(self) -> None:
        self.fake.on("GET", "/invoices", self.list_invoices)
        self.fake.on("GET", "/orders/42", self.order)
        self.fake.on("GET", "/orders/42/comments", lambda _: json_response(search_result(self.comments)))

    def list_invoices(self, request: httpx.Request) -> httpx.Response:
        query = dict(query_of(request))
        assert query["searchCriteria[filter_groups][0][filters][0][field]"] == "order_id"
        assert query["searchCriteria[filter_groups][0][filters][0][value]"] == "42"
        return json_response(search_result(self.invoices))

    def order(self, _: httpx.Request) -> httpx.Response:
        item = {"item_id": 1, "sku": "A", "qty_ordered": 2, "qty_invoiced": self.qty_invoiced}
        return json_response({"entity_id": 42, "state": "processing", "items": [item]})

    def invoice(self) -> int:
        self.next_id += 1
        self.invoices.append({"entity_id": self.next_id, "order_id": 42, "total_qty": 2, "items": []})
        self.qty_invoiced = 2
        return self.next_id

    def comment(self, request: httpx.Request) -> None:
        self.next_id += 1
        self.comments.append({"entity_id": self.next_id, **body_of(request)["statusHistory"]})


@pytest.fixture
def shop(fake: FakeMagento) -> Shop:
    return Shop(fake)


def commit_then(
    shop: Shop, failure: BaseException | httpx.Response
) -> Callable[[httpx.Request], httpx.Response]:
    """Magento saves the invoice, then the answer is lost."""

    def handler(_: httpx.Request) -> httpx.Response:
        shop.invoice()
        if isinstance(failure, BaseException):
            raise failure
        return failure

    return handler


def created(shop: Shop) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: json_response(shop.invoice())


async def test_create_invoice_sends_the_schemas_body_and_returns_the_bare_integer(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/order/42/invoice", created(shop))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False) == 501
    (post,) = fake.sent("POST", "/invoice$")
    assert post.url.raw_path == b"/rest/default/V1/order/42/invoice"  # singular "order"
    assert body_of(post) == {"capture": False, "notify": False}
    assert post.headers["Content-Type"] == "application/json"


async def test_a_known_uninvoiced_order_is_invoiced_without_a_first_read(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/order/42/invoice", created(shop))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False, known_uninvoiced=True) == 501
    assert fake.sent("GET", "/invoices") == []
    assert len(fake.sent("POST", "/invoice$")) == 1


async def test_a_known_uninvoiced_order_still_finds_its_invoice_after_a_lost_answer(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("POST", "/order/42/invoice", commit_then(shop, httpx.ReadTimeout("timed out")), created(shop))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False, known_uninvoiced=True) == 501
    assert len(shop.invoices) == 1
    assert len(fake.sent("POST", "/invoice$")) == 1


async def test_an_invoice_comment_is_appended_only_when_notifying(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/order/42/invoice", created(shop))
    async with make_client() as client:
        await client.create_invoice(42, capture=True, notify=True, comment="Paid at the till")
    assert body_of(fake.sent("POST", "/invoice$")[0]) == {
        "capture": True,
        "notify": True,
        "appendComment": True,
        "comment": {"comment": "Paid at the till", "is_visible_on_front": 0},
    }


@pytest.mark.parametrize(
    "lost_answer",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.Response(503),
        httpx.Response(500, json={"message": "Internal Error. Details are available in Magento log file."}),
    ],
)
async def test_a_lost_answer_after_commit_does_not_create_a_second_invoice(
    lost_answer: BaseException | httpx.Response,
    fake: FakeMagento,
    shop: Shop,
    make_client: Callable[..., MagentoClient],
    sleeps: Sleeps,
) -> None:
    fake.on("POST", "/order/42/invoice", commit_then(shop, lost_answer), created(shop))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False) == 501
    assert len(shop.invoices) == 1
    assert len(fake.sent("POST", "/invoice$")) == 1
    assert len(sleeps.calls) == 1  # waited once, then re-read instead of re-posting


async def test_the_guard_runs_even_after_the_last_attempt(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("POST", "/order/42/invoice", commit_then(shop, httpx.ReadTimeout("timed out")))
    async with make_client(retry=RetryPolicy(max_attempts=1, sleep=sleeps)) as client:
        assert await client.create_invoice(42, capture=False) == 501
    assert len(fake.sent("POST", "/invoice$")) == 1


async def test_a_lost_request_before_commit_is_retried(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/order/42/invoice", httpx.ReadTimeout("timed out"), created(shop))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False) == 501
    assert len(fake.sent("POST", "/invoice$")) == 2
    assert len(shop.invoices) == 1


async def test_an_invoice_that_existed_before_is_not_mistaken_for_ours(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    # A partial invoice from the admin already exists; our POST times out before committing.
    shop.invoices.append({"entity_id": 7, "order_id": 42, "total_qty": 1, "items": []})
    fake.on("POST", "/order/42/invoice", httpx.ReadTimeout("timed out"), created(shop))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False) == 501
    assert len(fake.sent("POST", "/invoice$")) == 2


async def test_does_not_allow_on_an_already_invoiced_order_is_success(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    shop.invoice()  # an earlier run invoiced it, then crashed before recording the id
    fake.on("POST", "/order/42/invoice", error_response(400, DOES_NOT_ALLOW))
    async with make_client() as client:
        assert await client.create_invoice(42, capture=False) == 501
    assert len(shop.invoices) == 1


async def test_does_not_allow_on_an_order_without_invoices_is_an_error(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/order/42/invoice", error_response(400, DOES_NOT_ALLOW))
    async with make_client() as client:
        with pytest.raises(MagentoBadRequestError) as caught:
            await client.create_invoice(42, capture=False)
    assert "does not allow an invoice" in str(caught.value)
    assert caught.value.status == 400


async def test_does_not_allow_on_a_partly_invoiced_order_is_an_error(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    shop.invoices.append({"entity_id": 7, "order_id": 42, "total_qty": 1, "items": []})
    shop.qty_invoiced = 1  # e.g. the remaining item is locked: Magento refuses, yet it is not done
    fake.on("POST", "/order/42/invoice", error_response(400, DOES_NOT_ALLOW))
    async with make_client() as client:
        with pytest.raises(MagentoBadRequestError):
            await client.create_invoice(42, capture=False)


async def test_other_invoice_errors_fail_at_once(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on(
        "POST",
        "/order/42/invoice",
        error_response(401, "The consumer isn't authorized to access %resources."),
    )
    async with make_client() as client:
        with pytest.raises(MagentoAuthError):
            await client.create_invoice(42, capture=False)
    assert len(fake.sent("POST", "/invoice$")) == 1
    assert len(fake.sent("GET", "/invoices")) == 1  # only the snapshot before the POST


async def test_server_errors_that_did_not_commit_exhaust_attempts(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("POST", "/order/42/invoice", httpx.Response(503))
    async with make_client(retry=RetryPolicy(max_attempts=3, sleep=sleeps)) as client:
        with pytest.raises(MagentoServerError):
            await client.create_invoice(42, capture=False)
    assert len(fake.sent("POST", "/invoice$")) == 3
    assert shop.invoices == []


async def test_add_order_comment_body(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/orders/42/comments", lambda r: (shop.comment(r), json_response(True))[1])
    async with make_client() as client:
        assert await client.add_order_comment(42, "Sent to POS as sale #881", status="processing") is True
    assert body_of(fake.sent("POST", "/comments")[0]) == {
        "statusHistory": {
            "comment": "Sent to POS as sale #881",
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": 42,
            "status": "processing",
        }
    }


async def test_a_comment_whose_answer_was_lost_is_not_posted_twice(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    shop.comments.append({"entity_id": 1, "comment": "Sent to POS", "parent_id": 42})  # an older, equal one

    def commit_then_drop(request: httpx.Request) -> httpx.Response:
        shop.comment(request)
        raise httpx.ReadTimeout("timed out")

    fake.on("POST", "/orders/42/comments", commit_then_drop, json_response(True))
    async with make_client() as client:
        assert await client.add_order_comment(42, "Sent to POS") is True
    assert len(fake.sent("POST", "/comments")) == 1
    assert len(shop.comments) == 2


async def test_a_comment_lost_before_commit_is_retried(
    fake: FakeMagento, shop: Shop, make_client: Callable[..., MagentoClient]
) -> None:
    shop.comments.append({"entity_id": 1, "comment": "Sent to POS", "parent_id": 42})
    fake.on(
        "POST",
        "/orders/42/comments",
        httpx.ReadTimeout("timed out"),
        lambda r: (shop.comment(r), json_response(True))[1],
    )
    async with make_client() as client:
        assert await client.add_order_comment(42, "Sent to POS") is True
    assert len(fake.sent("POST", "/comments")) == 2
    assert len(shop.comments) == 2


async def test_source_items_are_pushed_20_at_a_time(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/inventory/source-items", json_response([]))
    items = [SourceItem(sku=f"SKU-{i}", source_code="default", quantity=i, status=1) for i in range(45)]
    async with make_client() as client:
        assert await client.save_source_items(iter(items)) == 3
    bodies = [body_of(r) for r in fake.requests]
    assert [len(b["sourceItems"]) for b in bodies] == [20, 20, 5]
    assert bodies[0]["sourceItems"][3] == {
        "sku": "SKU-3",
        "source_code": "default",
        "quantity": 3,
        "status": 1,
    }
    assert [i["sku"] for b in bodies for i in b["sourceItems"]] == [f"SKU-{i}" for i in range(45)]


async def test_source_item_pushes_retry_freely(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("POST", "/inventory/source-items", httpx.ReadTimeout("slow"), json_response([]))
    async with make_client() as client:
        await client.save_source_items([SourceItem(sku="A", quantity=1, status=1)])
    assert len(fake.requests) == 2


@pytest.mark.parametrize("size", [0, 21])
async def test_chunks_above_20_are_refused(size: int, make_client: Callable[..., MagentoClient]) -> None:
    async with make_client() as client:
        with pytest.raises(ValueError, match="1–20"):
            await client.save_source_items([], chunk_size=size)


async def test_legacy_stock_update_sends_only_what_changes(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("PUT", "/products/AB%2F10/stockItems/1", json_response(7))
    async with make_client() as client:
        assert await client.update_stock_item("AB/10", Decimal("12.0000"), True) == 7
    (put,) = fake.requests
    assert put.url.raw_path == b"/rest/default/V1/products/AB%2F10/stockItems/1"
    assert body_of(put) == {"stockItem": {"qty": 12, "is_in_stock": True}}


async def test_get_stock_item(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> None:
    fake.on("GET", "/stockItems/AB%2F10", json_response({"item_id": 7, "qty": 3, "is_in_stock": True}))
    async with make_client() as client:
        item = await client.get_stock_item("AB/10")
    assert (item.item_id, item.qty, item.is_in_stock) == (7, Decimal(3), True)


async def test_credit_memo_routes_singular_and_plural(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/creditmemo/9", json_response({"entity_id": 9, "order_id": 42, "items": []}))
    fake.on("GET", "/creditmemos", json_response(search_result([{"entity_id": 9, "order_id": 42}])))
    async with make_client() as client:
        assert (await client.get_credit_memo(9)).order_id == 42
        assert [m.entity_id for m in await client.credit_memos_for_order(42)] == [9]
    assert [r.url.raw_path.decode().partition("?")[0] for r in fake.requests] == [
        "/rest/default/V1/creditmemo/9",
        "/rest/default/V1/creditmemos",
    ]


async def test_store_code_and_base_url_shape_the_rest_base(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/invoices/3", json_response({"entity_id": 3, "order_id": 1, "items": []}))
    async with make_client(store_code="fr") as client:
        assert client.rest_base == "https://shop.test/rest/fr/V1"
        await client.get_invoice(3)
    assert fake.requests[0].url.raw_path == b"/rest/fr/V1/invoices/3"
