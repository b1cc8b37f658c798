"""HTTPS with the generated self-signed certificate, the shared fault switches, counters, and the HTTP
control interface."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from m2pos.sandbox import magento, onsite
from m2pos.sandbox._faults import FaultSettings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox._tls import temporary_certificate

from .conftest import OnSite, parse

PAGE = {"count": 1}


def test_https_with_the_self_signed_certificate(make_onsite: Any) -> None:
    served = make_onsite(https=True)
    assert served.base.startswith("https://")
    response = served.get("/api/")  # the fixture's client has verify=False, as OnSite clients must
    assert response.status_code == 200
    assert "; Secure" in response.headers["set-cookie"]
    uri = parse(served.get("/api/products/", count=1))[0].get("uri", "")
    assert uri.startswith(served.base + "/api/products/")
    with httpx.Client(timeout=10) as strict, pytest.raises(httpx.ConnectError) as failure:
        strict.get(f"{served.base}/api/")
    assert isinstance(failure.value.__context__, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(
        failure.value
    )


def test_the_generated_certificate_is_valid_for_the_host() -> None:
    sandbox = onsite.OnSiteSandbox(products=0)
    with (
        temporary_certificate() as (cert, key),
        serve_in_thread(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as base,
    ):
        trusting = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=trusting, timeout=10, headers=sandbox.credentials.headers()) as client:
            assert client.get(f"{base}/api/").status_code == 200  # trusted explicitly: verification passes
    sandbox.close()


def test_both_sandboxes_share_one_fault_implementation() -> None:
    assert magento.FaultSettings is onsite.FaultSettings is FaultSettings


def test_error_next_on_a_route_pattern(onsite: OnSite) -> None:
    control = onsite.sandbox.control
    control.set_faults(error_next=2, route="POST /api/orders/")
    assert onsite.get("/api/orders/").status_code == 200  # another route: untouched
    body = "<order><order_customer><customer id='2'/></order_customer></order>"
    first, second, third = (onsite.post("/api/orders/", body) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 201)
    assert parse(first).findtext("message") == "Internal Server Error"
    assert len(control.orders()) == 1  # the faulted requests did nothing
    assert control.count("POST /api/orders/") == 3
    assert control.counters()["statuses"]["POST /api/orders/"] == {"500": 2, "201": 1}


def test_rate_limit_and_seeded_error_rate(onsite: OnSite) -> None:
    control = onsite.sandbox.control
    control.set_faults(rate_limit_next=1, retry_after_seconds=7)
    limited = onsite.get("/api/products/", **PAGE)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert onsite.get("/api/products/", **PAGE).status_code == 200

    def run() -> list[int]:
        onsite.http.put(f"{onsite.base}/_sandbox/faults", json={"error_rate": 0.5, "seed": 3})
        return [onsite.get("/api/products/", **PAGE).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second and set(first) == {200, 500}


def test_timeout_then_504(onsite: OnSite) -> None:
    onsite.sandbox.control.set_faults(timeout_next=1, timeout_seconds=0.2)
    assert onsite.get("/api/products/", **PAGE).status_code == 504
    onsite.sandbox.control.set_faults(timeout_next=1, timeout_seconds=5)
    with pytest.raises(httpx.ReadTimeout):
        onsite.http.get(f"{onsite.base}/api/products/", params=PAGE, timeout=0.3)


@pytest.mark.parametrize("mode", ["abort", "hang"])
def test_drop_after_commit_then_find_by_web_order_number(onsite: OnSite, mode: str) -> None:
    control = onsite.sandbox.control
    control.set_faults(drop_after_commit_next=1, drop_mode=mode, timeout_seconds=5, route="POST /api/orders/")
    body = (
        "<order><order_customer><customer id='2'/></order_customer>"
        "<web_order_number>7</web_order_number></order>"
    )
    with pytest.raises(httpx.HTTPError):
        onsite.http.post(f"{onsite.base}/api/orders/", content=body, timeout=0.5)
    found = parse(onsite.get("/api/orders/", filter='web_order_number == "7"'))
    assert found.get("total_count") == "1"  # committed although the reply was lost


def test_latency_and_faults_argument(make_onsite: Any) -> None:
    served = make_onsite(faults=FaultSettings(rate_limit_next=1), latency_ms=5)
    assert served.get("/api/").status_code == 429
    assert served.sandbox.faults.latency_ms == 5
    served.sandbox.control.reset_faults()
    assert served.sandbox.faults.latency_ms == 0


def test_control_http_interface(onsite: OnSite) -> None:
    http, base = onsite.http, f"{onsite.base}/_sandbox"
    info = http.get(f"{base}/").json()
    assert "POST /api/orders/{id}/lineitems/" in info["routes"] and "Magento" in info["payment_methods"]
    assert info["credentials"]["username"] == "lightspeed"
    onsite.get("/api/")
    sessions = http.get(f"{base}/sessions").json()
    assert len(sessions) == 1 and sessions[0]["user"] == "lightspeed"
    assert http.put(f"{base}/inventory", json={"product": "ABC/10", "total": 12}).json()["total"] == 12
    assert http.get(f"{base}/inventory", params={"product": "ABC/10"}).json()["available"] == 12
    order = onsite.create_order("55")
    onsite.lock(f"/api/orders/{order}/")
    assert http.get(f"{base}/locks").json() == {f"orders/{order}": sessions[0]["id"]}
    onsite.add_line("order", order, onsite.product_id("ABC/10"), "2", extra="<reserved>true</reserved>")
    assert http.get(f"{base}/inventory", params={"product": "ABC/10"}).json()["reserved"] == 2
    assert http.get(f"{base}/inventory/check").json() == []
    assert http.get(f"{base}/orders", params={"web_order_number": "55"}).json()[0]["id"] == order
    assert http.post(f"{base}/orders/{order}/void").status_code == 200
    assert http.get(f"{base}/inventory", params={"product": "ABC/10"}).json()["reserved"] == 0
    merged = http.post(f"{base}/customers/3/merge", json={"into": 2}).json()
    assert merged["merged_to"] == 2
    archived = http.post(f"{base}/products/archive", json={"product": "ABC/10"}).json()
    assert archived["flags"]["current"] is False
    assert http.put(f"{base}/config", json={"seats": 9}).json()["seats"] == 9
    assert http.put(f"{base}/config", json={"nope": 1}).status_code == 400
    assert http.get(f"{base}/orders/999").json()["status"] == 404
    assert http.delete(f"{base}/sessions").json() == {"closed": 1}
    assert http.get(f"{base}/locks").json() == {}
    assert http.get(f"{base}/counters").json()["total"] > 0
