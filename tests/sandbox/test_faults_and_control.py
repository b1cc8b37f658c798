"""Fault injection (each kind) and the HTTP control interface, over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from m2pos.sandbox.magento import FaultSettings

from .conftest import Magento, oauth_sign

PAGE = {"searchCriteria[pageSize]": 1}


def test_control_http_interface(magento: Magento) -> None:
    http, base = magento.http, f"{magento.base}/_sandbox"
    info = http.get(f"{base}/").json()
    assert "GET /V1/orders" in info["routes"] and "ABC/10" in info["skus"]
    order = http.post(
        f"{base}/orders",
        json={"kind": "configurable", "guest": False, "payment": "authorised", "store_id": 2},
    ).json()
    assert order["state"] == "processing" and order["customer_is_guest"] == 0 and order["store_id"] == 2
    assert order["increment_id"].startswith("2")
    oid = order["entity_id"]
    assert http.post(f"{base}/orders/{oid}/invoice", json={"capture": True}).json()["invoice_id"] > 0
    assert http.post(f"{base}/orders/{oid}/ship").json() == {"result": True}
    assert http.get(f"{base}/orders/{oid}").json()["state"] == "complete"
    refund = http.post(f"{base}/orders/{oid}/refund", json={"return_to_stock": True}).json()
    assert refund["creditmemo_id"] > 0
    moves = http.get(f"{base}/stock/movements").json()
    assert [m["reason"] for m in moves] == ["shipment", "return_to_stock"]  # MSI: shipped, then back
    assert moves[0]["delta"] == -moves[1]["delta"]
    assert http.get(f"{base}/stock", params={"sku": moves[0]["sku"]}).json()[0]["sku"] == moves[0]["sku"]
    held = http.post(f"{base}/orders", json={"kind": "simple"}).json()["entity_id"]
    assert http.post(f"{base}/orders/{held}/hold").json() == {"result": True}
    assert http.post(f"{base}/orders/{held}/hold").json()["status"] == 400
    assert http.post(f"{base}/orders", json={"payment": "bitcoin"}).status_code == 400
    config = http.put(f"{base}/config", json={"input_limits": True, "auto_return": True}).json()
    assert config["input_limits"] is True and http.get(f"{base}/config").json()["auto_return"] is True
    assert http.put(f"{base}/config", json={"nope": 1}).status_code == 400
    token = http.post(f"{base}/admin-token").json()["token"]
    assert magento.http.get(
        magento.url("/V1/orders", PAGE), headers={"Authorization": f"Bearer {token}"}
    ).is_success


def test_counters(magento: Magento) -> None:
    http, base = magento.http, f"{magento.base}/_sandbox"
    http.delete(f"{base}/counters")
    magento.get("/V1/orders", PAGE)
    magento.get("/V1/orders", PAGE)
    magento.get("/V1/orders/1")
    magento.get("/V1/bogus")
    counts = http.get(f"{base}/counters").json()
    assert counts["counters"] == {"GET /V1/orders": 2, "GET /V1/orders/{id}": 1, "GET (unmatched)": 1}
    assert counts["statuses"]["GET /V1/orders/{id}"] == {"404": 1}
    assert http.post(f"{base}/counters/reset").json()["total"] == 0


def test_latency(magento: Magento) -> None:
    # A correctness check of the latency switch, not a performance goal: the lower bound is what
    # the switch promises; the control interface gets a generous margin under the same setting.
    magento.sandbox.faults.latency_ms = 2000
    start = time.monotonic()
    assert magento.get("/V1/orders", PAGE).status_code == 200
    assert time.monotonic() - start >= 2.0
    start = time.monotonic()
    magento.http.get(f"{magento.base}/_sandbox/config")  # the control interface is never slowed
    assert time.monotonic() - start < 1.5


def test_a_slow_answer_is_late_but_processed(magento: Magento) -> None:
    magento.sandbox.control.set_faults(slow_next=1, slow_ms=800, route="GET /V1/orders")
    start = time.monotonic()
    magento.get("/V1/orders/1")  # another route: not slowed, not counted as slow
    assert magento.get("/V1/orders", PAGE).status_code == 200
    assert time.monotonic() - start >= 0.8
    start = time.monotonic()
    assert magento.get("/V1/orders", PAGE).status_code == 200  # only the next one was slow
    assert time.monotonic() - start < 0.8
    statuses = magento.sandbox.control.counters()["statuses"]
    assert statuses["GET /V1/orders"] == {"slow": 1, "200": 2}
    assert "slow" not in statuses["GET /V1/orders/{id}"]


def test_error_next_and_route_pattern(magento: Magento) -> None:
    magento.sandbox.control.set_faults(error_next=2, route="GET /V1/orders")
    assert magento.get("/V1/orders/1").status_code == 404  # another route: untouched
    first, second, third = (magento.get("/V1/orders", PAGE) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 200)
    assert first.json()["message"].startswith("Internal Error. Details are available in Magento log file.")
    assert magento.sandbox.control.count("GET /V1/orders") == 3  # faulted requests are counted


def test_error_rate_is_reproducible_with_a_seed(magento: Magento) -> None:
    def run() -> list[int]:
        magento.http.put(f"{magento.base}/_sandbox/faults", json={"error_rate": 0.5, "seed": 7})
        return [magento.get("/V1/orders", PAGE).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500}


def test_rate_limit(magento: Magento) -> None:
    magento.sandbox.control.set_faults(rate_limit_next=1, retry_after_seconds=7)
    limited = magento.get("/V1/orders", PAGE)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert magento.get("/V1/orders", PAGE).status_code == 200


def test_timeout_hangs_until_the_client_gives_up(magento: Magento) -> None:
    oid = magento.sandbox.control.place_order("simple")["entity_id"]
    magento.sandbox.control.set_faults(timeout_next=1, timeout_seconds=5)
    url = magento.url(f"/V1/order/{oid}/invoice")
    with pytest.raises(httpx.ReadTimeout):
        magento.http.post(url, json={}, headers=oauth_sign("POST", url), timeout=0.5)
    assert magento.sandbox.control.get_order(oid)["state"] == "new"  # nothing was processed


def test_timeout_answers_504_if_the_client_waits(magento: Magento) -> None:
    magento.sandbox.control.set_faults(timeout_next=1, timeout_seconds=0.2)
    assert magento.get("/V1/orders", PAGE).status_code == 504


@pytest.mark.parametrize("mode", ["abort", "hang"])
def test_drop_after_commit(magento: Magento, mode: str) -> None:
    control = magento.sandbox.control
    oid = control.place_order("simple")["entity_id"]
    control.set_faults(drop_after_commit_next=1, drop_mode=mode, timeout_seconds=5, route="POST /V1/order/*")
    url = magento.url(f"/V1/order/{oid}/invoice")
    with pytest.raises(httpx.HTTPError):
        magento.http.post(url, json={}, headers=oauth_sign("POST", url), timeout=0.5)
    assert control.get_order(oid)["state"] == "processing"  # the invoice was committed
    retry = magento.post(f"/V1/order/{oid}/invoice", {})
    assert "does not allow an invoice" in retry.json()["message"]


def test_fault_settings_in_process() -> None:
    settings = FaultSettings(error_next=1)
    settings.update({"rate_limit_rate": "0.5", "drop_mode": "hang"})
    assert settings.rate_limit_rate == 0.5 and settings.drop_mode == "hang"
    with pytest.raises(ValueError, match="unknown"):
        settings.update({"bogus": 1})
    with pytest.raises(ValueError, match="drop_mode"):
        settings.update({"drop_mode": "explode"})


def test_sandbox_faults_argument(make_magento: Any) -> None:
    m = make_magento(faults=FaultSettings(rate_limit_next=1), latency_ms=10)
    assert m.get("/V1/orders", PAGE).status_code == 429
    assert m.sandbox.faults.latency_ms == 10
    m.sandbox.control.reset_faults()
    assert m.sandbox.faults.latency_ms == 0
