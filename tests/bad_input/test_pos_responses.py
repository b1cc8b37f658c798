"""Malformed bodies from Lightspeed Retail become RetailCallError (a PosError), never a crash."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from m2pos.pos.lightspeed_retail._client import RetailCallError, RetailClient
from m2pos.pos.lightspeed_retail._settings import RetailSettings
from m2pos.pos.port import PosError

SETTINGS = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
malformed_bodies = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=60).map(str.encode),
    json_data.map(lambda v: json.dumps(v).encode()),
    json_data.map(lambda v: json.dumps(v).encode()[:-1]),  # cut short
    st.sampled_from(
        [
            b"",
            b"<html><body>502 Bad Gateway</body></html>",
            b"\xef\xbb\xbf{}",  # a UTF-8 BOM in front
            b"\xff\xfe{\x00}\x00",
            b"NaN",
            b"[1e999999]",
            b'{"access_token": null, "refresh_token": null}',
            b'{"access_token": "a", "refresh_token": "r", "expires_in": "soon"}',
            b'{"access_token": "a", "refresh_token": "r", "expires_in": [3600]}',
            b'{"access_token": "a", "refresh_token": "r", "expires_in": 1e999}',
            b'{"access_token": "a"}',
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "&amp;">]><x>&e;</x>',
        ]
    ),
)
content_types = st.sampled_from(["application/json", "text/html", "application/xml", ""])


def _settings(directory: str) -> RetailSettings:
    return RetailSettings(
        base_url="https://pos.test/API/V3/",
        token_url="https://pos.test/auth/oauth/token",
        account_id="1",
        client_id="client",
        client_secret="secret",
        refresh_token="refresh",
        token_file=Path(directory) / "tokens.json",
        requests_per_second=1000,
        max_attempts=1,
    )


GOOD_TOKEN = b'{"access_token": "a", "refresh_token": "r", "expires_in": 3600}'


def _call(token_body: bytes, api_body: bytes, api_status: int, content_type: str) -> Any:
    """The data of one GET, or the RetailCallError it raised (any other exception propagates)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, content=token_body, headers={"Content-Type": content_type})
        return httpx.Response(api_status, content=api_body, headers={"Content-Type": content_type})

    async def run(directory: str) -> Any:
        async def no_sleep(_: float) -> None:
            return None

        client = RetailClient(_settings(directory), transport=httpx.MockTransport(handler), sleep=no_sleep)
        try:
            return await client.get("Account/1/Item.json")
        finally:
            await client.aclose()

    with tempfile.TemporaryDirectory() as directory:
        try:
            return asyncio.run(run(directory))
        except RetailCallError as error:
            return error


@SETTINGS
@given(body=malformed_bodies, status=st.sampled_from([200, 201]), content_type=content_types)
def test_a_malformed_api_body_is_a_pos_error(body: bytes, status: int, content_type: str) -> None:
    data = _call(GOOD_TOKEN, body, status, content_type)
    event(f"api answer: {type(data).__name__}")
    if isinstance(data, RetailCallError):
        assert isinstance(data, PosError)
        assert data.message.startswith("Lightspeed Retail")
        assert data.retryable  # a bad answer is the POS's fault or a proxy's: try again later
        return
    # Only a JSON object is an answer; anything else must have been refused above.
    assert isinstance(data, dict)
    assert data == httpx.Response(200, content=body).json()  # as httpx decodes it (BOM, UTF-16)


@SETTINGS
@given(body=malformed_bodies, status=st.sampled_from([400, 404, 422, 500, 503]), content_type=content_types)
def test_a_malformed_error_body_is_a_pos_error_naming_the_status(
    body: bytes, status: int, content_type: str
) -> None:
    error = _call(GOOD_TOKEN, body, status, content_type)
    assert isinstance(error, RetailCallError), "an error status must not be returned as data"
    assert error.status == status
    assert error.message


@SETTINGS
@given(body=malformed_bodies, content_type=content_types)
def test_a_malformed_token_answer_is_a_pos_error(body: bytes, content_type: str) -> None:
    data = _call(body, b"{}", 200, content_type)
    event(f"token answer: {type(data).__name__}")
    if isinstance(data, RetailCallError):
        assert "token" in data.message
        assert data.status is None or data.status == 200
        return
    # The answer was a usable token pair after all.
    parsed = json.loads(body)
    assert isinstance(parsed, dict) and "access_token" in parsed and "refresh_token" in parsed
    assert data == {}
