"""diagnose() names each known set-up trap and says what to do; run_check() prints it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from rich.console import Console

from m2pos.magento import BearerToken, MagentoClient, OAuth1Credentials, RetryPolicy
from m2pos.magento.check import CheckResult, CheckStatus, diagnose, run_check
from tests.magento.conftest import (
    BASE_URL,
    FakeMagento,
    error_response,
    json_response,
    query_of,
    search_result,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."


def dated(response: httpx.Response, at: datetime = NOW) -> httpx.Response:
    response.headers["Date"] = format_datetime(at, usegmt=True)
    return response


def healthy(
    fake: FakeMagento, *, input_limits: bool = False, max_page: int = 300, at: datetime = NOW
) -> None:
    def orders(request: httpx.Request) -> httpx.Response:
        size = int(dict(query_of(request))["searchCriteria[pageSize]"])
        if input_limits and size > max_page:
            return dated(
                error_response(400, "Maximum SearchCriteria pageSize is %max", {"max": max_page}), at
            )
        return dated(json_response(search_result([{"entity_id": 1}], total=42)), at)

    fake.on("GET", "/orders", orders)
    for path in ("/invoices", "/creditmemos", "/products", "/inventory/source-items"):
        fake.on("GET", path, dated(json_response(search_result([])), at))


@pytest.fixture
def client_for(fake: FakeMagento) -> Callable[..., MagentoClient]:
    def make(auth: httpx.Auth | None = None, **kwargs: object) -> MagentoClient:
        return MagentoClient(
            str(kwargs.pop("base_url", BASE_URL)),
            auth=auth if auth is not None else OAuth1Credentials("a", "b", "c", "d"),
            retry=RetryPolicy(max_attempts=1),
            transport=fake.transport(),
            **kwargs,  # type: ignore[arg-type]
        )

    return make


async def run(client: MagentoClient, **kwargs: object) -> dict[str, CheckResult]:
    async with client:
        results = await diagnose(client, now=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    return {r.name: r for r in results}


async def test_a_healthy_store(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    healthy(fake)
    results = await run(client_for())
    assert {n: r.status for n, r in results.items()} == {
        "Connection": CheckStatus.OK,
        "Clock": CheckStatus.OK,
        "Input limits": CheckStatus.OK,
        "Permissions": CheckStatus.OK,
    }
    assert "42 orders" in results["Connection"].detail
    assert "OAuth 1.0a" in results["Connection"].detail
    assert "off" in results["Input limits"].detail


async def test_bearer_refused(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    fake.on(
        "GET", "/orders", dated(error_response(401, NOT_AUTHORIZED, {"resources": "Magento_Sales::sales"}))
    )
    results = await run(client_for(BearerToken("integration-token")))
    bearer = results["Bearer token"]
    assert bearer.status is CheckStatus.FAIL
    assert "Magento_Sales::sales" in bearer.detail
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in bearer.advice
    assert "Input limits" not in results  # nothing else can be probed without access


async def test_missing_acl_with_oauth(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    fake.on(
        "GET", "/orders", dated(error_response(401, NOT_AUTHORIZED, {"resources": "Magento_Sales::sales"}))
    )
    results = await run(client_for())
    assert results["Permissions"].status is CheckStatus.FAIL
    assert "API tab" in results["Permissions"].advice


async def test_invalid_signature(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    fake.on("GET", "/orders", dated(error_response(401, "The signature is invalid. Verify and try again.")))
    results = await run(client_for())
    assert results["Authentication"].status is CheckStatus.FAIL
    assert "four integration credentials" in results["Authentication"].advice
    assert results["Clock"].status is CheckStatus.OK


async def test_input_limits_on(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    healthy(fake, input_limits=True)
    results = await run(client_for())
    limits = results["Input limits"]
    assert limits.status is CheckStatus.OK
    assert "on" in limits.detail
    assert "300" in limits.detail
    probe = [dict(query_of(r)) for r in fake.requests if "pageSize%5D=301" in str(r.url)]
    assert probe
    assert probe[0]["fields"] == "total_count"


async def test_input_limits_below_our_page_size(
    fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    healthy(fake, input_limits=True, max_page=50)
    results = await run(client_for(page_size=100))
    assert results["Input limits"].status is CheckStatus.FAIL
    assert "50" in results["Input limits"].advice


async def test_wrong_store_code(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    def orders(request: httpx.Request) -> httpx.Response:
        if request.url.raw_path.startswith(b"/rest/default/"):
            return dated(json_response(search_result([], total=0)))
        return dated(error_response(404, "Request does not match any route."))

    fake.on("GET", "/orders", orders)
    fake.on(
        "GET", "/store/storeViews", json_response([{"id": 1, "code": "default"}, {"id": 2, "code": "fr"}])
    )
    results = await run(client_for(store_code="french"))
    store = results["Store code"]
    assert store.status is CheckStatus.FAIL
    assert "'french'" in store.detail
    assert "default, fr" in store.detail


async def test_a_url_that_is_not_magento(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    results = await run(client_for())  # every route answers "Request does not match any route."
    assert results["Connection"].status is CheckStatus.FAIL
    assert "does not lead to the Magento REST API" in results["Connection"].detail


async def test_http_redirected_to_https(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    fake.on(
        "GET",
        "/orders",
        httpx.Response(301, headers={"Location": "https://shop.test/rest/default/V1/orders"}),
    )
    results = await run(client_for(base_url="http://shop.test"))
    assert results["HTTPS"].status is CheckStatus.WARN  # plain http to a remote host
    assert results["Connection"].status is CheckStatus.FAIL
    assert "https://" in results["Connection"].advice


async def test_operation_allowed_only_in_https(
    fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", dated(error_response(400, "Operation allowed only in HTTPS")))
    results = await run(client_for())
    assert results["HTTPS"].status is CheckStatus.FAIL
    assert "https://" in results["HTTPS"].advice


@pytest.mark.parametrize(
    ("skew", "oauth", "status"),
    [
        (timedelta(seconds=5), True, CheckStatus.OK),
        (timedelta(minutes=3), True, CheckStatus.WARN),
        (timedelta(minutes=20), True, CheckStatus.FAIL),
        (timedelta(minutes=-20), False, CheckStatus.WARN),
    ],
)
async def test_clock_skew(
    skew: timedelta,
    oauth: bool,
    status: CheckStatus,
    fake: FakeMagento,
    client_for: Callable[..., MagentoClient],
) -> None:
    fake.on("GET", "/orders", dated(json_response(search_result([], total=0)), at=NOW - skew))
    auth = None if oauth else BearerToken("t")
    clock = (await run(client_for(auth)))["Clock"]
    assert clock.status is status
    assert ("ahead of" if skew > timedelta(0) else "behind") in clock.detail
    if status is not CheckStatus.OK:
        assert "NTP" in clock.advice


async def test_the_last_date_header_is_the_applications(
    fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    response = json_response(search_result([], total=0))
    response.headers["Date"] = format_datetime(NOW, usegmt=True)  # added by a proxy
    raw = [(k, v) for k, v in response.headers.raw]
    raw.append((b"date", format_datetime(NOW - timedelta(minutes=30), usegmt=True).encode()))
    fake.on("GET", "/orders", httpx.Response(200, headers=raw, content=response.content))
    clock = (await run(client_for()))["Clock"]
    assert clock.status is CheckStatus.FAIL
    assert "1800 s ahead" in clock.detail


async def test_a_firewall_page(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    fake.on(
        "GET",
        "/orders",
        httpx.Response(200, html="<html><title>Just a moment... | Cloudflare</title></html>"),
    )
    results = await run(client_for())
    assert results["Connection"].status is CheckStatus.FAIL
    assert "firewall" in results["Connection"].detail


async def test_a_maintenance_page(fake: FakeMagento, client_for: Callable[..., MagentoClient]) -> None:
    fake.on("GET", "/orders", httpx.Response(503, html="<h1>The store is down for maintenance</h1>"))
    results = await run(client_for())
    assert results["Connection"].status is CheckStatus.FAIL
    assert "maintenance mode" in results["Connection"].detail


@pytest.mark.parametrize(
    ("failure", "advice"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "host name"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate has expired"), "certificate"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "Nothing answers"),
        (httpx.ConnectTimeout("timed out"), "network"),
    ],
)
async def test_unreachable_hosts(
    failure: Exception, advice: str, fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    fake.on("GET", "/orders", failure)
    results = await run(client_for())
    assert results["Connection"].status is CheckStatus.FAIL
    assert advice in results["Connection"].advice
    assert "Clock" not in results


async def test_missing_resource_permissions_and_msi(
    fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    healthy(fake)
    fake.on(
        "GET",
        "/creditmemos",
        dated(error_response(401, NOT_AUTHORIZED, {"resources": "Magento_Sales::sales"})),
    )
    results = await run(client_for())
    assert results["Permissions"].status is CheckStatus.FAIL
    assert "credit memos" in results["Permissions"].detail

    fake.on("GET", "/creditmemos", dated(json_response(search_result([]))))
    fake.on("GET", "/inventory/source-items", dated(error_response(404, "Request does not match any route.")))
    results = await run(client_for())
    assert results["Permissions"].status is CheckStatus.WARN
    assert "MSI" in results["Permissions"].advice


async def test_admin_login_blocked_by_2fa(
    fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    healthy(fake)
    fake.on(
        "POST",
        "/integration/admin/token",
        error_response(401, "Please use the 2fa provider-specific endpoints to obtain a token."),
    )
    results = await run(client_for(), admin_username="admin", admin_password="hunter2")
    login = results["Admin login"]
    assert login.status is CheckStatus.FAIL
    assert "Two-factor" in login.detail
    assert "integration" in login.advice.lower()
    (request,) = fake.sent("POST", "/integration/admin/token")
    assert "Authorization" not in request.headers  # an anonymous route


async def test_admin_login_that_works_is_still_discouraged(
    fake: FakeMagento, client_for: Callable[..., MagentoClient]
) -> None:
    healthy(fake)
    fake.on("POST", "/integration/admin/token", json_response("abc123token"))
    results = await run(client_for(), admin_username="admin", admin_password="pw")
    assert results["Admin login"].status is CheckStatus.WARN
    assert "4 hours" in results["Admin login"].detail


async def test_run_check_prints_and_returns_the_verdict(fake: FakeMagento) -> None:
    healthy(fake, at=datetime.now(UTC))
    console = Console(record=True, width=200)
    ok = await run_check(
        base_url=BASE_URL,
        consumer_key="ck-visible-nowhere",
        consumer_secret="cs-secret",
        access_token="at-secret",
        access_token_secret="ats-secret",
        transport=fake.transport(),
        console=console,
    )
    text = console.export_text()
    assert ok is True
    assert "Connection" in text
    assert "The connection works" in text
    for secret in ("cs-secret", "at-secret", "ats-secret"):
        assert secret not in text


async def test_run_check_with_incomplete_credentials_fails(fake: FakeMagento) -> None:
    fake.on(
        "GET", "/orders", dated(error_response(401, NOT_AUTHORIZED, {"resources": "Magento_Sales::sales"}))
    )
    console = Console(record=True, width=200)
    ok = await run_check(
        base_url=BASE_URL, consumer_key="ck", access_token="at", transport=fake.transport(), console=console
    )
    text = console.export_text()
    assert ok is False
    assert "missing: consumer secret, access token secret" in text
    assert "Bearer" in text  # the access token alone was tried as a Bearer token, and refused
