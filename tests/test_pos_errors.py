"""POS error answers, read by each client's StatusPolicy: the message names the POS, the request and
what the POS said, then what to do; a retry is promised only where it can help."""

from __future__ import annotations

import httpx
import pytest

from m2pos.pos.common.errors import StatusPolicy, may_resend_after, may_resend_answered
from m2pos.pos.heartland._client import STATUSES as HEARTLAND
from m2pos.pos.lightspeed_onsite._client import http_error as onsite_error
from m2pos.pos.lightspeed_retail._client import STATUSES as RETAIL
from m2pos.pos.lightspeed_xseries._client import STATUSES as XSERIES


def _answer(status: int, path: str = "/api/sales", body: bytes = b"") -> httpx.Response:
    return httpx.Response(status, content=body, request=httpx.Request("POST", f"https://pos.example{path}"))


@pytest.mark.parametrize("policy", [HEARTLAND, RETAIL, XSERIES], ids=lambda p: p.short_name)
@pytest.mark.parametrize(
    ("status", "retryable", "says"),
    [
        (429, True, "retries later"),
        (503, True, "had a problem"),
        (404, False, "not (or no longer)"),
        (422, False, "Fix what"),
    ],
)
def test_each_status_reads_as_data(policy: StatusPolicy, status: int, retryable: bool, says: str) -> None:
    message, may_retry = policy.read(_answer(status), "customer_id is invalid")
    assert may_retry is retryable
    assert message.startswith(f"{policy.pos_name} answered {status} to POST /api/sales")
    assert '"customer_id is invalid"' in message
    assert says in message or status in policy.advice


def test_a_pos_specific_advice_wins_and_names_the_setting() -> None:
    message, may_retry = XSERIES.read(_answer(401), "")
    assert "pos.token" in message and not may_retry
    assert '"Unauthorized"' in message  # no body: the reason phrase stands in


def test_onsite_out_of_seats_is_retryable_unlike_other_403s() -> None:
    seats = _answer(403, "/api/orders/", b"<error><message>No seats available</message></error>")
    licence = _answer(403, "/api/orders/", b"<error><message>Forbidden</message></error>")
    assert onsite_error(seats).retryable and "seat" in onsite_error(seats).message
    assert not onsite_error(licence).retryable and "pos.app_private_id" in onsite_error(licence).message


@pytest.mark.parametrize(
    ("method", "error", "again"),
    [
        ("GET", httpx.ReadTimeout("slow"), True),
        ("PUT", httpx.RemoteProtocolError("cut"), True),
        ("POST", httpx.ConnectError("refused"), True),  # never reached the POS
        ("POST", httpx.PoolTimeout("no connection free"), True),
        ("POST", httpx.ReadTimeout("slow"), False),  # may have been done: looked up first, not re-sent
        ("POST", httpx.RemoteProtocolError("cut"), False),
    ],
)
def test_a_write_is_resent_only_when_it_surely_never_arrived(
    method: str, error: httpx.TransportError, again: bool
) -> None:
    assert may_resend_after(method, error) is again


@pytest.mark.parametrize(
    ("method", "status", "again"),
    [("POST", 429, True), ("POST", 503, True), ("POST", 500, False), ("GET", 500, True), ("GET", 422, False)],
)
def test_an_answer_allows_a_resend_only_when_nothing_was_done(method: str, status: int, again: bool) -> None:
    assert may_resend_answered(method, status) is again
