"""The Heartland sandbox over real HTTP: auth, error bodies, customer validation, the list envelope,
the request limit, stock bookkeeping through orders, invoices and tickets, faults and control."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.heartland import DEMO_TOKEN, HeartlandSandbox

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture
def api() -> Iterator[tuple[HeartlandSandbox, httpx.Client]]:
    sandbox = HeartlandSandbox(products=3, seed=1)
    with serve_in_thread(sandbox.app) as url, httpx.Client(base_url=f"{url}/api/", headers=AUTH) as client:
        yield sandbox, client


def _filter(**flt: Any) -> dict[str, str]:
    return {"_filter": json.dumps(flt)}


def test_bearer_token_required_with_a_json_error(api: tuple[HeartlandSandbox, httpx.Client]) -> None:
    _, client = api
    response = client.get("locations", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert client.get("locations", headers={"Authorization": f"Token token={DEMO_TOKEN}"}).status_code == 200
    assert client.get("nothing/here").status_code == 404


def test_incomplete_customers_are_rejected_naming_the_fields(
    api: tuple[HeartlandSandbox, httpx.Client],
) -> None:
    _, client = api
    response = client.post("customers", json={"first_name": "Ann", "email": "ann@example.com"})
    assert response.status_code == 422
    assert response.json()["details"] == {"last_name": ["can't be blank"]}
    partial = {"first_name": "A", "last_name": "B", "email": "a@b.co", "address": {"line_1": "1 St"}}
    details = client.post("customers", json=partial).json()["details"]
    assert set(details) == {"address.city", "address.state", "address.postal_code", "address.country"}
    created = client.post("customers", json={"first_name": "A", "last_name": "B", "email": "A@B.co"})
    assert created.status_code == 201
    found = client.get("customers", params=_filter(email="a@b.co")).json()
    assert found["total"] == 1 and found["results"][0]["id"] == created.json()["id"]


def test_a_sales_order_commits_invoices_and_a_ticket_returns(
    api: tuple[HeartlandSandbox, httpx.Client],
) -> None:
    sandbox, client = api
    control = sandbox.control
    sandbox.control.set_on_hand("MUG-001", 10)
    item = control.item("MUG-001")["id"]
    customer = control.customers()[0]["id"]
    order = client.post("sales/orders", json={"customer_id": customer, "source_location_id": 1}).json()
    path = f"sales/orders/{order['id']}"
    assert client.post(f"{path}/lines", json={"item_id": item, "qty": -1}).status_code == 422  # no negatives
    line = client.post(f"{path}/lines", json={"item_id": item, "qty": 3, "unit_price": "14"}).json()
    assert client.post("sales/invoices", json={"order_id": order["id"]}).status_code == 422  # pending
    assert client.put(path, json={"status": "open"}).json()["status"] == "open"
    distributions = [{"location_id": 1, "qty": 3}]
    for _ in range(2):  # a replacement: twice is harmless
        assert client.put(f"{path}/lines/{line['id']}/distributions", json=distributions).status_code == 200
    assert control.inventory("MUG-001") == {"qty_on_hand": 10, "qty_committed": 3, "qty_available": 7}
    values = client.get(
        "inventory/values",
        params={"group[]": ["item_id", "location_id"], **_filter(item_id=item, location_id=1)},
    ).json()["results"]
    assert values[0]["qty_available"] == "7"
    assert client.post("sales/invoices", json={"order_id": order["id"]}).status_code == 201
    assert client.get(path).json()["status"] == "closed"
    assert control.inventory("MUG-001") == {"qty_on_hand": 7, "qty_committed": 0, "qty_available": 7}
    assert client.put(path, json={"status": "canceled"}).status_code == 422  # invoiced: no cancel
    ticket = client.post("sales/tickets", json={"customer_id": customer, "source_location_id": 1}).json()
    tpath = f"sales/tickets/{ticket['id']}"
    client.post(f"{tpath}/lines", json={"item_id": item, "qty": -2, "unit_price": "14"})
    assert control.inventory("MUG-001")["qty_on_hand"] == 7  # a pending ticket moves nothing
    assert client.put(tpath, json={"status": "complete"}).json()["status"] == "complete"
    assert control.inventory("MUG-001")["qty_on_hand"] == 9


def test_cancel_releases_and_the_rate_limit_answers_429() -> None:
    sandbox = HeartlandSandbox(products=0, seed=1, rate_limit_per_second=3)
    with serve_in_thread(sandbox.app) as url, httpx.Client(base_url=f"{url}/api/", headers=AUTH) as client:
        statuses = [client.get("locations").status_code for _ in range(6)]
        assert 429 in statuses
        limited = next(r for r in (client.get("locations") for _ in range(4)) if r.status_code == 429)
        assert limited.headers["retry-after"] == "1" and limited.json()["error"] == "too_many_requests"


def test_faults_and_control_over_http(api: tuple[HeartlandSandbox, httpx.Client]) -> None:
    sandbox, client = api
    base = str(client.base_url).removesuffix("api/")
    httpx.put(f"{base}_sandbox/faults", json={"error_next": 1, "route": "GET /api/locations"})
    failed = client.get("locations")
    assert failed.status_code == 500 and failed.json()["error"] == "internal_server_error"
    assert client.get("locations").status_code == 200
    assert sandbox.control.count("GET /api/locations") == 2
    assert httpx.get(f"{base}_sandbox/counters").json()["total"] == 2
    assert httpx.get(f"{base}_sandbox/stock").status_code == 200
