"""Magento error bodies become typed exceptions with filled placeholders and merchant advice."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from m2pos.magento import (
    FailureType,
    MagentoAuthError,
    MagentoBadRequestError,
    MagentoClient,
    MagentoHTTPError,
    MagentoInvalidResponseError,
    MagentoNotFoundError,
    MagentoRedirectError,
    MagentoServerError,
    OAuth1Credentials,
    RetryPolicy,
    fill_placeholders,
)
from tests.magento.conftest import FakeMagento, error_response, json_response

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."


@pytest.mark.parametrize(
    ("message", "parameters", "expected"),
    [
        (
            NOT_AUTHORIZED,
            {"resources": "Magento_Sales::sales"},
            "The consumer isn't authorized to access Magento_Sales::sales.",
        ),
        (
            "Invalid product data: %1",
            ["Invalid attribute set"],
            "Invalid product data: Invalid attribute set",
        ),
        ("%1 of %2, not %10", ["a", "b"], "a of b, not %10"),
        ('"%fieldName" is required.', {"fieldName": "searchCriteria"}, '"searchCriteria" is required.'),
        ("Maximum SearchCriteria pageSize is %max", {"max": 300}, "Maximum SearchCriteria pageSize is 300"),
        ("Use %active_providers", {"active_providers": ["google", "duo"]}, "Use google, duo"),
        ("Unknown %thing stays", {"other": 1}, "Unknown %thing stays"),
        ("No parameters %1", None, "No parameters %1"),
    ],
)
def test_placeholders_are_filled(message: str, parameters: object, expected: str) -> None:
    assert fill_placeholders(message, parameters) == expected


async def fail_with(
    fake: FakeMagento, client: MagentoClient, response: httpx.Response | BaseException
) -> BaseException:
    fake.on("GET", "/orders/5", response)
    async with client:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - each test checks the type
            await client.get_order(5)
    return caught.value


async def test_bearer_refused_is_explained_with_the_2_4_4_setting(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    body = error_response(401, NOT_AUTHORIZED, {"resources": "Magento_Sales::sales"})
    error = await fail_with(fake, make_client(), body)
    assert isinstance(error, MagentoAuthError)
    assert error.status == 401
    assert error.route == "GET /V1/orders/5"
    assert error.failure_type is FailureType.CONFIG
    text = str(error)
    assert "Magento_Sales::sales" in text
    assert "%resources" not in text
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in text
    assert "2.4.4" in text


async def test_the_same_401_with_oauth_points_at_integration_permissions(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    body = error_response(401, NOT_AUTHORIZED, {"resources": "Magento_Sales::sales"})
    error = await fail_with(fake, make_client(auth=OAuth1Credentials("a", "b", "c", "d")), body)
    assert "Bearer" not in str(error)
    assert "API tab" in str(error)


async def test_invalid_signature_points_at_credentials_and_clock(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    body = error_response(401, "The signature is invalid. Verify and try again.")
    error = await fail_with(fake, make_client(auth=OAuth1Credentials("a", "b", "c", "d")), body)
    assert "four integration credentials" in str(error)
    assert "clock" in str(error)


async def test_not_found(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> None:
    body = error_response(
        404, "The entity that was requested doesn't exist. Verify the entity and try again."
    )
    error = await fail_with(fake, make_client(), body)
    assert isinstance(error, MagentoNotFoundError)
    assert error.failure_type is FailureType.REJECTED
    assert "does not exist in this store" in str(error)


async def test_aggregate_errors_are_listed(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    body = json_response(
        {
            "message": "One or more input exceptions have occurred.",
            "errors": [
                {
                    "message": '"%fieldName" is required. Enter and try again.',
                    "parameters": {"fieldName": "sku"},
                },
                {
                    "message": '"%fieldName" is required. Enter and try again.',
                    "parameters": {"fieldName": "qty"},
                },
            ],
        },
        400,
    )
    error = await fail_with(fake, make_client(), body)
    assert isinstance(error, MagentoBadRequestError)
    assert '"sku" is required' in str(error)
    assert '"qty" is required' in str(error)


async def test_a_maintenance_page_is_named_and_retried(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    page = httpx.Response(
        503,
        html="<html><head><title>Service Unavailable</title></head><body>Store is down for maintenance"
        "</body></html>",
    )
    error = await fail_with(fake, make_client(retry=RetryPolicy(max_attempts=2, sleep=_no_sleep)), page)
    assert isinstance(error, MagentoServerError)
    assert "maintenance mode" in str(error)
    assert "Service Unavailable" in str(error)
    assert len(fake.requests) == 2


async def test_a_firewall_page_with_status_200_is_an_invalid_response(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    page = httpx.Response(200, html="<html><title>Attention Required! | Cloudflare</title></html>")
    error = await fail_with(fake, make_client(), page)
    assert isinstance(error, MagentoInvalidResponseError)
    assert "firewall" in str(error)
    assert len(fake.requests) == 1


async def test_a_redirect_to_https_is_not_followed_and_explained(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    redirect = httpx.Response(301, headers={"Location": "https://shop.test/rest/default/V1/orders/5"})
    client = make_client()
    client._requester.base_url = "http://shop.test"
    error = await fail_with(fake, client, redirect)
    assert isinstance(error, MagentoRedirectError)
    assert error.location == "https://shop.test/rest/default/V1/orders/5"
    assert "https://" in str(error.hint)
    assert error.failure_type is FailureType.CONFIG
    assert len(fake.requests) == 1


async def test_an_empty_error_body(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> None:
    error = await fail_with(fake, make_client(), httpx.Response(403))
    assert isinstance(error, MagentoAuthError)
    assert "firewall" in str(error)


async def test_2fa_on_admin_token_is_explained(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    body = error_response(401, "Please use the 2fa provider-specific endpoints to obtain a token.")
    error = await fail_with(fake, make_client(), body)
    assert isinstance(error, MagentoHTTPError)
    assert "integration" in str(error)


async def _no_sleep(_: float) -> None:
    return None
