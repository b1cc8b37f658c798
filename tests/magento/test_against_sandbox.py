"""The client over real HTTP against the Magento sandbox (uvicorn on a thread)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from m2pos.magento import (
    BearerToken,
    MagentoAuthError,
    MagentoBadRequestError,
    MagentoClient,
    OAuth1Credentials,
    RetryPolicy,
    SearchCriteria,
    SourceItem,
)
from m2pos.magento.check import CheckResult, CheckStatus, diagnose
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox
from tests.magento.conftest import Sleeps

C = DEMO_CREDENTIALS
OAUTH = OAuth1Credentials(C.consumer_key, C.consumer_secret, C.access_token, C.access_token_secret)


@contextmanager
def running(**options: Any) -> Iterator[tuple[MagentoSandbox, str]]:
    sandbox = MagentoSandbox(**options)
    try:
        with serve_in_thread(sandbox.app) as base_url:
            yield sandbox, base_url
    finally:
        sandbox.close()


def client(base_url: str, **kwargs: Any) -> MagentoClient:
    kwargs.setdefault("auth", OAUTH)
    kwargs.setdefault("retry", RetryPolicy(sleep=Sleeps(), jitter=0.0))
    return MagentoClient(base_url, **kwargs)


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[MagentoSandbox, str]]:
    """260 demo orders, shared by the read-only tests."""
    with running(orders=260, seed=1) as served:
        yield served


async def test_oauth_is_accepted(shop: tuple[MagentoSandbox, str]) -> None:
    _, base_url = shop
    async with client(base_url) as magento:
        order = await magento.get_order(1)
    assert order.entity_id == 1
    assert order.increment_id
    assert order.created_at is not None
    assert order.created_at.tzinfo is not None
    assert order.items


async def test_bearer_is_refused_with_the_explanation(shop: tuple[MagentoSandbox, str]) -> None:
    _, base_url = shop
    async with client(base_url, auth=BearerToken(C.access_token)) as magento:
        with pytest.raises(MagentoAuthError) as caught:
            await magento.get_order(1)
    assert caught.value.status == 401
    assert "Magento_Sales::sales" in str(caught.value)
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in str(caught.value)


async def test_bearer_works_when_the_store_allows_it() -> None:
    with running(orders=1, allow_integration_bearer=True) as (_, base_url):
        async with client(base_url, auth=BearerToken(C.access_token)) as magento:
            assert (await magento.get_order(1)).entity_id == 1


async def test_260_orders_by_100_are_each_seen_exactly_once(shop: tuple[MagentoSandbox, str]) -> None:
    sandbox, base_url = shop
    before = sandbox.control.count("GET /V1/orders")
    async with client(base_url, page_size=100) as magento:
        ids = [order.entity_id async for order in magento.orders()]
    assert len(ids) == 260
    assert sorted(ids) == ids
    assert len(set(ids)) == 260
    assert sandbox.control.count("GET /V1/orders") - before == 3


async def test_every_orders_lines_add_up_to_its_subtotal(shop: tuple[MagentoSandbox, str]) -> None:
    _, base_url = shop
    async with client(base_url) as magento:
        orders = {o.entity_id: o async for o in magento.orders()}
        memos = await magento.credit_memos().to_list()
    kinds = {i.product_type for o in orders.values() for i in o.items}
    assert {"configurable", "bundle", "simple"} <= kinds
    for order in orders.values():
        assert sum((line.row_total for line in order.lines()), Decimal(0)) == order.subtotal
    assert memos
    for memo in memos:
        assert memo.order_id is not None
        lines = memo.lines(orders[memo.order_id])
        assert sum((line.row_total for line in lines), Decimal(0)) == memo.subtotal


async def test_a_projection_keeps_paging_safe(shop: tuple[MagentoSandbox, str]) -> None:
    _, base_url = shop
    criteria = SearchCriteria().where("state", "in", ["new", "processing"])
    async with client(base_url, page_size=25) as magento:
        full = [o.entity_id async for o in magento.orders(criteria)]
        slim = [
            (o.entity_id, o.increment_id)
            async for o in magento.orders(criteria, fields="items[increment_id]")
        ]
    assert [entity_id for entity_id, _ in slim] == full
    assert all(increment_id for _, increment_id in slim)


async def test_filters_by_updated_at_window(shop: tuple[MagentoSandbox, str]) -> None:
    _, base_url = shop
    async with client(base_url) as magento:
        everything = await magento.orders().to_list()
        stamps = sorted(o.updated_at for o in everything if o.updated_at)
        since = stamps[len(stamps) // 2]
        recent = await magento.orders(SearchCriteria().where("updated_at", "gteq", since)).to_list()
    assert recent
    assert all(o.updated_at is not None and o.updated_at >= since for o in recent)
    assert len(recent) == sum(1 for s in stamps if s >= since)


async def test_products_and_source_items(shop: tuple[MagentoSandbox, str]) -> None:
    sandbox, base_url = shop
    async with client(base_url, page_size=20) as magento:
        products = await magento.products(fields="items[sku,type_id]").to_list()
        stock = await magento.source_items().to_list()
    assert len(products) == len(sandbox.control.info()["skus"])
    assert {p.type_id for p in products} >= {"simple", "configurable", "bundle"}
    assert len({(s.sku, s.source_code) for s in stock}) == len(stock) == len(sandbox.control.stock())


async def test_create_invoice() -> None:
    with running() as (sandbox, base_url):
        order_id = sandbox.control.place_order("configurable", payment="checkmo")["entity_id"]
        async with client(base_url) as magento:
            invoice_id = await magento.create_invoice(order_id, capture=False)
            invoices = await magento.invoices_for_order(order_id)
            order = await magento.get_order(order_id)
    assert [i.entity_id for i in invoices] == [invoice_id]
    assert invoices[0].is_paid
    assert order.state == "processing"
    assert not order.has_items_to_invoice


async def test_a_response_dropped_after_commit_does_not_double_invoice() -> None:
    with running() as (sandbox, base_url):
        order_id = sandbox.control.place_order("mixed", payment="banktransfer")["entity_id"]
        sandbox.control.set_faults(drop_after_commit_next=1, route="POST /V1/order/*/invoice")
        async with client(base_url) as magento:
            invoice_id = await magento.create_invoice(order_id, capture=False)
            invoices = await magento.invoices_for_order(order_id)
    assert [i.entity_id for i in invoices] == [invoice_id]
    assert sandbox.control.count("POST /V1/order/{orderId}/invoice") == 1


async def test_an_already_invoiced_order_returns_its_invoice() -> None:
    with running() as (sandbox, base_url):
        order_id = sandbox.control.place_order("simple", payment="checkmo")["entity_id"]
        existing = sandbox.control.invoice(order_id)
        async with client(base_url) as magento:
            assert await magento.create_invoice(order_id, capture=False) == existing
            assert len(await magento.invoices_for_order(order_id)) == 1


async def test_an_order_on_hold_is_not_invoiced() -> None:
    with running() as (sandbox, base_url):
        order_id = sandbox.control.place_order("simple", payment="checkmo")["entity_id"]
        sandbox.control.hold(order_id)
        async with client(base_url) as magento:
            with pytest.raises(MagentoBadRequestError) as caught:
                await magento.create_invoice(order_id, capture=False)
            assert await magento.invoices_for_order(order_id) == []
    assert "on hold" in str(caught.value)


async def test_a_comment_dropped_after_commit_is_not_posted_twice() -> None:
    with running() as (sandbox, base_url):
        order_id = sandbox.control.place_order("simple")["entity_id"]
        sandbox.control.set_faults(drop_after_commit_next=1, route="POST /V1/orders/*/comments")
        async with client(base_url) as magento:
            assert await magento.add_order_comment(order_id, "Sent to the POS as sale 881")
            comments = await magento.order_comments(order_id)
    assert [c.comment for c in comments].count("Sent to the POS as sale 881") == 1
    assert sandbox.control.count("POST /V1/orders/{id}/comments") == 1


async def test_transient_faults_are_retried() -> None:
    with running(orders=1) as (sandbox, base_url):
        sleeps = Sleeps()
        sandbox.control.set_faults(rate_limit_next=1, error_next=1, retry_after_seconds=2)
        async with client(base_url, retry=RetryPolicy(sleep=sleeps, jitter=0.0)) as magento:
            assert (await magento.get_order(1)).entity_id == 1
    assert sleeps.calls == [2.0, 1.0]  # Retry-After honoured, then backoff for the 500
    assert sandbox.control.count("GET /V1/orders/{id}") == 3


async def test_source_items_are_chunked_under_input_limits() -> None:
    with running(input_limits=True) as (sandbox, base_url):
        skus = sandbox.control.info()["skus"][:45]
        items = [SourceItem(sku=sku, source_code="default", quantity=7, status=1) for sku in skus]
        async with client(base_url) as magento:
            assert await magento.save_source_items(items) == 3
            with pytest.raises(MagentoBadRequestError) as caught:
                await magento.request(
                    "POST",
                    "/inventory/source-items",
                    json={"sourceItems": [i.to_api() for i in items[:21]]},
                    idempotent=True,
                )
        assert sandbox.control.count("POST /V1/inventory/source-items") == 4
        stock = {(s["sku"], s["source_code"]): s for s in sandbox.control.stock()}
    assert all(stock[(sku, "default")]["quantity"] == 7 for sku in skus)
    assert "Maximum items of type" in str(caught.value)
    assert "20" in str(caught.value)


async def test_legacy_stock_update_and_the_slash_in_a_sku() -> None:
    with running() as (sandbox, base_url):
        async with client(base_url) as magento:
            await magento.update_stock_item("MUG-001", 11, True)
            with pytest.raises(MagentoAuthError) as caught:
                await magento.update_stock_item("ABC/10", 3, True)
            await magento.save_source_items([SourceItem(sku="ABC/10", quantity=3, status=1)])
        stock = {(s["sku"], s["source_code"]): s["quantity"] for s in sandbox.control.stock()}
    assert stock[("MUG-001", "default")] == 11
    assert stock[("ABC/10", "default")] == 3
    assert "37913" in str(caught.value)  # the signature trap of %2F paths, and the way around it


async def test_a_slash_in_a_sku_works_where_magento_signs_it_right() -> None:
    with running(oauth_encoded_slash_bug=False) as (sandbox, base_url):
        async with client(base_url) as magento:
            await magento.update_stock_item("ABC/10", 4, True)
        stock = {(s["sku"], s["source_code"]): s["quantity"] for s in sandbox.control.stock()}
    assert stock[("ABC/10", "default")] == 4


# -- diagnose() against each trap ------------------------------------------------------------------


async def checks(base_url: str, **kwargs: Any) -> dict[str, CheckResult]:
    admin = kwargs.pop("admin", None)
    async with client(base_url, retry=RetryPolicy(max_attempts=1), **kwargs) as magento:
        extra = {"admin_username": admin[0], "admin_password": admin[1]} if admin else {}
        return {r.name: r for r in await diagnose(magento, **extra)}


async def test_diagnose_a_healthy_store(shop: tuple[MagentoSandbox, str]) -> None:
    results = await checks(shop[1])
    assert {r.status for r in results.values()} == {CheckStatus.OK}
    assert "260 orders" in results["Connection"].detail


async def test_diagnose_bearer_refused(shop: tuple[MagentoSandbox, str]) -> None:
    results = await checks(shop[1], auth=BearerToken(C.access_token))
    assert results["Bearer token"].status is CheckStatus.FAIL
    assert "Stores → Configuration → Services → OAuth" in results["Bearer token"].advice


async def test_diagnose_input_limits() -> None:
    with running(orders=1, input_limits=True) as (_, base_url):
        results = await checks(base_url)
    assert results["Input limits"].status is CheckStatus.OK
    assert "input limits are on" in results["Input limits"].detail


async def test_diagnose_a_wrong_store_code(shop: tuple[MagentoSandbox, str]) -> None:
    results = await checks(shop[1], store_code="nowhere")
    assert results["Store code"].status is CheckStatus.FAIL
    assert "'nowhere'" in results["Store code"].detail


async def test_diagnose_http_redirected_to_https() -> None:
    with running(orders=1, https_redirect=True) as (_, base_url):
        results = await checks(base_url)
    assert results["Connection"].status is CheckStatus.FAIL
    assert "https://" in results["Connection"].advice


async def test_diagnose_a_skewed_clock() -> None:
    # The store's clock is 20 minutes behind: our OAuth timestamps look 20 minutes in its future.
    with running(orders=1, clock_offset_seconds=-1200) as (_, base_url):
        results = await checks(base_url)
    assert results["Clock"].status is CheckStatus.FAIL
    assert "ahead of" in results["Clock"].detail
    assert results["Authentication"].status is CheckStatus.FAIL


async def test_diagnose_admin_credentials_blocked_by_2fa(shop: tuple[MagentoSandbox, str]) -> None:
    results = await checks(shop[1], admin=(C.admin_username, C.admin_password))
    assert results["Admin login"].status is CheckStatus.FAIL
    assert "Two-factor" in results["Admin login"].detail


async def test_diagnose_an_unreachable_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        results = await checks(f"http://127.0.0.1:{port}")
    assert results["Connection"].status is CheckStatus.FAIL
    assert "Nothing answers" in results["Connection"].advice
