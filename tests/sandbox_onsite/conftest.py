"""Shared fixtures for the OnSite sandbox tests: a sandbox served over real HTTP (or HTTPS with its
self-signed certificate) and a small XML client that sends the three OnSite headers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.onsite import DEMO_ONSITE_CREDENTIALS, OnSiteCredentials, OnSiteSandbox

XML = {"Content-Type": "text/xml"}


def parse(response: httpx.Response) -> ET.Element:
    root: ET.Element = fromstring(response.content)
    return root


def dec(node: ET.Element, path: str) -> Decimal:
    value = node.findtext(path)
    assert value is not None, f"no {path}"
    return Decimal(value)


@dataclass
class OnSite:
    """A served sandbox and a client that keeps one server session (its cookie jar)."""

    sandbox: OnSiteSandbox
    base: str
    http: httpx.Client

    def request(
        self, method: str, path: str, body: str | None = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = XML if body is not None else None
        return self.http.request(method, f"{self.base}{path}", content=body, params=params, headers=headers)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: str | None = None) -> httpx.Response:
        return self.request("POST", path, body)

    def put(self, path: str, body: str) -> httpx.Response:
        return self.request("PUT", path, body)

    def lock(self, path: str) -> httpx.Response:
        return self.request("LOCK", path)

    def unlock(self, path: str) -> httpx.Response:
        return self.request("UNLOCK", path)

    def new_client(self, credentials: OnSiteCredentials = DEMO_ONSITE_CREDENTIALS) -> OnSite:
        """Another client (its own cookie jar, so its own server session)."""
        http = httpx.Client(verify=False, timeout=10, headers=credentials.headers())  # noqa: S501
        return OnSite(self.sandbox, self.base, http)

    # -- shortcuts -------------------------------------------------------------------------------

    def product_id(self, code: str) -> int:
        found = parse(self.get("/api/products/", filter=f'code == "{code}"'))
        assert found.get("total_count") == "1", f"{code} not found"
        return int(found[0].get("id", "0"))

    def create(self, coll: str, body: str) -> int:
        response = self.post(f"/api/{coll}/", body)
        assert response.status_code == 201, response.text
        return int(parse(response).get("id", "0"))

    def create_order(self, web_order_number: str = "100000001", customer_id: int | None = 2) -> int:
        customer = (
            f'<customer id="{customer_id}"/>' if customer_id else "<customer/><mainname>Walk In</mainname>"
        )
        return self.create(
            "orders",
            f"<order><order_customer>{customer}</order_customer>"
            f"<web_order_number>{web_order_number}</web_order_number></order>",
        )

    def add_line(
        self, kind: str, doc_id: int, product_id: int, quantity: str, price: str = "10.00", extra: str = ""
    ) -> httpx.Response:
        return self.post(
            f"/api/{kind}s/{doc_id}/lineitems/",
            f'<lineitem><lineitem_product><product id="{product_id}"/></lineitem_product>'
            f"<quantity>{quantity}</quantity><sell_price>{price}</sell_price>{extra}</lineitem>",
        )


@pytest.fixture
def make_onsite() -> Iterator[Any]:
    """Factory: ``make_onsite(https=False, **sandbox_kwargs)`` serves a fresh sandbox for the test."""
    stack: list[Any] = []

    def factory(https: bool = False, **kwargs: Any) -> OnSite:
        kwargs.setdefault("products", 20)
        sandbox = OnSiteSandbox(**kwargs)
        ctx = serve_in_thread(sandbox.app, tls=https)
        base = ctx.__enter__()
        http = httpx.Client(verify=False, timeout=10, headers=sandbox.credentials.headers())  # noqa: S501
        stack.append((ctx, http, sandbox))
        return OnSite(sandbox, base, http)

    yield factory
    for ctx, http, sandbox in reversed(stack):
        http.close()
        ctx.__exit__(None, None, None)
        sandbox.close()


@pytest.fixture
def onsite(make_onsite: Any) -> OnSite:
    return make_onsite()  # type: ignore[no-any-return]
