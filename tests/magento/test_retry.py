"""The retry policy as data, backoff maths, and every failure mode through the client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from m2pos.magento import (
    DEFAULT_ERROR_MAPPING,
    Action,
    FailureType,
    MagentoAuthError,
    MagentoBadRequestError,
    MagentoClient,
    MagentoConnectionError,
    MagentoError,
    MagentoNotFoundError,
    MagentoRateLimitError,
    MagentoServerError,
    MagentoTimeout,
    RetryPolicy,
    parse_retry_after,
)
from m2pos.magento._retry import resolve
from tests.magento.conftest import FakeMagento, Sleeps, error_response, json_response

ORDER = json_response({"entity_id": 5, "increment_id": "000000005"})


# -- the table --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "action", "failure"),
    [
        (400, Action.FAIL, FailureType.REJECTED),
        (401, Action.FAIL, FailureType.CONFIG),
        (403, Action.FAIL, FailureType.CONFIG),
        (404, Action.FAIL, FailureType.REJECTED),
        (429, Action.RATE_LIMITED, FailureType.TRANSIENT),
        (500, Action.RETRY, FailureType.TRANSIENT),
        (502, Action.RETRY, FailureType.TRANSIENT),
        (503, Action.RETRY, FailureType.TRANSIENT),
        (504, Action.RETRY, FailureType.TRANSIENT),
        (599, Action.RETRY, FailureType.TRANSIENT),  # unlisted 5xx: fallback
        (418, Action.FAIL, FailureType.REJECTED),  # unlisted 4xx: fallback
        (302, Action.FAIL, FailureType.CONFIG),
        (httpx.ReadTimeout("t"), Action.RETRY, FailureType.TRANSIENT),
        (httpx.ConnectError("c"), Action.RETRY, FailureType.TRANSIENT),
        (httpx.RemoteProtocolError("r"), Action.RETRY, FailureType.TRANSIENT),
        (httpx.UnsupportedProtocol("u"), Action.FAIL, FailureType.CONFIG),
    ],
)
def test_the_error_table(key: int | BaseException, action: Action, failure: FailureType) -> None:
    resolution = resolve(key, DEFAULT_ERROR_MAPPING)
    assert (resolution.action, resolution.failure_type) == (action, failure)


def test_the_table_can_be_overridden() -> None:
    policy = RetryPolicy(mapping={**DEFAULT_ERROR_MAPPING, 404: resolve(503, DEFAULT_ERROR_MAPPING)})
    assert policy.resolve(404).action is Action.RETRY


# -- backoff maths ----------------------------------------------------------------------------


def test_exponential_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=5.0, jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_takes_a_random_share_of_the_wait() -> None:
    assert RetryPolicy(base_delay=2.0, jitter=0.5, random=lambda: 1.0).backoff(1) == 1.0
    assert RetryPolicy(base_delay=2.0, jitter=0.5, random=lambda: 0.0).backoff(1) == 2.0
    assert RetryPolicy(base_delay=2.0, jitter=1.0, random=lambda: 0.25).backoff(2) == 3.0


def test_retry_after_replaces_the_backoff_but_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, jitter=0.0, max_retry_after=60.0)
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(1, retry_after=3600.0) == 60.0
    assert policy.delay(3, retry_after=None) == 2.0


def test_retry_after_header_forms() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"jitter": 1.5}, {"base_delay": -1.0}])
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# -- through the client ------------------------------------------------------------------------


async def get_order(client: MagentoClient) -> int | None:
    async with client:
        return (await client.get_order(5)).entity_id


async def test_429_with_retry_after_waits_as_told(
    fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("GET", "/orders/5", error_response(429, "Too Many Requests", headers={"Retry-After": "3"}), ORDER)
    assert await get_order(make_client()) == 5
    assert sleeps.calls == [3.0]


async def test_429_without_retry_after_backs_off(
    fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("GET", "/orders/5", httpx.Response(429), httpx.Response(429), ORDER)
    assert await get_order(make_client()) == 5
    assert sleeps.calls == [0.5, 1.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried(
    status: int, fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("GET", "/orders/5", httpx.Response(status), ORDER)
    assert await get_order(make_client()) == 5
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
async def test_network_failures_are_retried(
    failure: Exception, fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("GET", "/orders/5", failure, ORDER)
    assert await get_order(make_client()) == 5
    assert len(fake.requests) == 2
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, MagentoBadRequestError),
        (401, MagentoAuthError),
        (403, MagentoAuthError),
        (404, MagentoNotFoundError),
    ],
)
async def test_client_errors_fail_at_once(
    status: int,
    error_type: type[MagentoError],
    fake: FakeMagento,
    make_client: Callable[..., MagentoClient],
    sleeps: Sleeps,
) -> None:
    fake.on("GET", "/orders/5", error_response(status, "nope"), ORDER)
    with pytest.raises(error_type):
        await get_order(make_client())
    assert len(fake.requests) == 1
    assert sleeps.calls == []


async def test_attempts_run_out(
    fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("GET", "/orders/5", httpx.Response(503))
    with pytest.raises(MagentoServerError) as caught:
        await get_order(make_client(retry=RetryPolicy(max_attempts=4, sleep=sleeps, jitter=0.0)))
    assert len(fake.requests) == 4
    assert sleeps.calls == [0.5, 1.0, 2.0]
    assert caught.value.resolution.retryable


async def test_rate_limit_error_after_the_last_attempt_carries_retry_after(
    fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("GET", "/orders/5", error_response(429, "slow down", headers={"Retry-After": "9"}))
    with pytest.raises(MagentoRateLimitError) as caught:
        await get_order(make_client(retry=RetryPolicy(max_attempts=2, sleep=sleeps)))
    assert caught.value.retry_after == 9.0
    assert caught.value.failure_type is FailureType.TRANSIENT


async def test_timeouts_and_connection_errors_are_typed(
    fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    policy = RetryPolicy(max_attempts=1, sleep=sleeps)
    fake.on("GET", "/orders/5", httpx.ReadTimeout("slow"))
    with pytest.raises(MagentoTimeout) as timeout:
        await get_order(make_client(retry=policy))
    assert timeout.value.ambiguous  # the request left: it may have been applied
    fake.on("GET", "/orders/5", httpx.ConnectError("Name or service not known"))
    with pytest.raises(MagentoConnectionError) as connection:
        await get_order(make_client(retry=policy))
    assert not connection.value.ambiguous
    assert "host name" in str(connection.value)


async def test_a_non_idempotent_write_is_never_repeated_blindly(
    fake: FakeMagento, make_client: Callable[..., MagentoClient], sleeps: Sleeps
) -> None:
    fake.on("POST", "/orders/5/emails", httpx.ReadTimeout("slow"), json_response(True))
    async with make_client() as client:
        with pytest.raises(MagentoTimeout):
            await client.request("POST", "/orders/5/emails", idempotent=False)
    assert len(fake.requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.Response(429)])
async def test_a_non_idempotent_write_is_retried_when_nothing_was_applied(
    failure: httpx.Response | Exception,
    fake: FakeMagento,
    make_client: Callable[..., MagentoClient],
    sleeps: Sleeps,
) -> None:
    fake.on("POST", "/orders/5/emails", failure, json_response(True))
    async with make_client() as client:
        assert await client.request("POST", "/orders/5/emails", idempotent=False) is True
    assert len(fake.requests) == 2
