"""The R-Series sandbox on its own, over real HTTP: OAuth rotation, the leaky bucket with its headers
and 429, the error body, filters, the one-object-or-array quirk, stock bookkeeping, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_retail import RetailSandbox


@pytest.fixture
def served() -> Iterator[tuple[RetailSandbox, str]]:
    sandbox = RetailSandbox(products=2, seed=1, bucket_size=30, drip_rate=1)
    with serve_in_thread(sandbox.app) as base:
        yield sandbox, base


def _token(base: str, sandbox: RetailSandbox, refresh: str) -> httpx.Response:
    app = sandbox.oauth
    form = {
        "grant_type": "refresh_token",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": refresh,
    }
    return httpx.post(f"{base}/auth/oauth/token", data=form)


def _api(base: str, sandbox: RetailSandbox) -> str:
    return f"{base}/API/V3/Account/{sandbox.store.account_id}/"


def test_refresh_rotates_both_tokens_and_revokes_the_old_ones(served: tuple[RetailSandbox, str]) -> None:
    sandbox, base = served
    first = _token(base, sandbox, sandbox.oauth.initial_refresh_token).json()
    assert {"access_token", "refresh_token", "expires_in"} <= set(first)
    again = _token(base, sandbox, sandbox.oauth.initial_refresh_token)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    second = _token(base, sandbox, first["refresh_token"]).json()
    old = httpx.get(
        _api(base, sandbox) + "Account.json", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert old.status_code == 401 and old.json()["httpCode"] == "401"
    ok = httpx.get(
        _api(base, sandbox) + "Account.json", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert ok.status_code == 200 and ok.json()["Account"]["accountID"] == sandbox.store.account_id


def _client(served: tuple[RetailSandbox, str]) -> httpx.Client:
    sandbox, base = served
    token = _token(base, sandbox, sandbox.oauth.initial_refresh_token).json()["access_token"]
    return httpx.Client(base_url=_api(base, sandbox), headers={"Authorization": f"Bearer {token}"})


def test_bucket_headers_costs_and_429(served: tuple[RetailSandbox, str]) -> None:
    with _client(served) as http:
        read = http.get("Account.json")
        used, size = read.headers["X-LS-API-Bucket-Level"].split("/")
        assert size == "30" and 0.9 < float(used) <= 1.1
        assert read.headers["X-LS-API-Drip-Rate"] == "1"
        statuses = [http.post("Customer.json", json={"firstName": f"B{n}"}).status_code for n in range(3)]
        assert statuses == [200, 200, 429]  # 1 + 10 + 10 fits in 30, one more write does not
        refused = http.post("Customer.json", json={"firstName": "late"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["httpMessage"] == "Too Many Requests"
    sandbox, _ = served
    assert len([c for c in sandbox.store.customers.values() if c.first.startswith("B")]) == 2  # nothing done


def test_error_body_and_sale_rules(served: tuple[RetailSandbox, str]) -> None:
    sandbox, _ = served
    sandbox.bucket.size = 1000
    with _client(served) as http:
        bad = http.post("Sale.json", json={"employeeID": 0, "shopID": 1, "registerID": 1})
        assert bad.status_code == 400
        assert set(bad.json()) == {"httpCode", "httpMessage", "message", "errorClass"}
        item = sandbox.control.item_id("MUG-001")
        before = sandbox.control.stock("MUG-001")
        line = {"SaleLine": {"itemID": item, "unitQuantity": 2, "unitPrice": "5", "tax": False}}
        unpaid = {"employeeID": 1, "shopID": 1, "registerID": 1, "completed": True, "SaleLines": [line]}
        assert http.post("Sale.json", json=unpaid).status_code == 400  # a completed sale must be paid
        paid = {**unpaid, "SalePayments": [{"SalePayment": {"paymentTypeID": 1, "amount": "10"}}]}
        sale = http.post("Sale.json", json=paid).json()["Sale"]
        assert sale["completed"] == "true" and isinstance(sale["SaleLines"]["SaleLine"], dict)
        assert sandbox.control.stock("MUG-001") == before - 2
        assert http.put(f"Sale/{sale['saleID']}.json", json={"voided": True}).status_code == 400
        quote = http.post("Sale.json", json={**unpaid, "completed": False, "Quote": {"notes": "q"}}).json()[
            "Sale"
        ]
        assert quote["quoteID"] != "0" and sandbox.control.stock("MUG-001") == before - 2


def test_filters_and_the_listing_quirk(served: tuple[RetailSandbox, str]) -> None:
    sandbox, _ = served
    sandbox.bucket.size = 1000
    with _client(served) as http:
        one: dict[str, Any] = http.get("Item.json", params={"customSku": "MUG-001"}).json()
        assert one["@attributes"]["count"] == "1" and isinstance(one["Item"], dict)
        two = http.get(
            "Item.json",
            params={"customSku": 'IN,["MUG-001","MUG-350/BLK"]', "load_relations": '["ItemShops"]'},
        )
        items = two.json()["Item"]
        assert isinstance(items, list) and len(items) == 2 and "ItemShops" in items[0]
        none = http.get("Item.json", params={"customSku": "NOPE"}).json()
        assert none == {"@attributes": {"count": "0", "offset": "0", "limit": "100"}}
        email = next(iter(sandbox.store.customers.values())).emails[0]
        found = http.get(
            "Customer.json", params={"Contact.email": email.upper(), "load_relations": '["Contact"]'}
        )
        assert found.json()["@attributes"]["count"] in ("1", "2")


def test_faults_apply(served: tuple[RetailSandbox, str]) -> None:
    sandbox, _ = served
    sandbox.faults.update({"error_next": 1, "route": "GET /API/*"})
    with _client(served) as http:
        failed = http.get("Account.json")
        assert failed.status_code == 500 and failed.json()["httpCode"] == "500"
        assert http.get("Account.json").status_code == 200
