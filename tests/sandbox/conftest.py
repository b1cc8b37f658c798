"""Shared fixtures for the Magento sandbox tests: a sandbox served over real HTTP, OAuth signing with
oauthlib (an implementation independent of the sandbox's verifier), and schema validation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox, SandboxCredentials
from tests.contract.swagger import load_schema


def query_string(params: dict[str, Any] | list[tuple[str, Any]]) -> str:
    """Percent-encode a query the way Magento's OAuth verifier needs (spaces as %20, never '+')."""
    return urlencode(params, quote_via=quote)


def oauth_sign(
    method: str,
    url: str,
    *,
    creds: SandboxCredentials = DEMO_CREDENTIALS,
    signature_method: str = SIGNATURE_HMAC_SHA256,
    timestamp: int | None = None,
    nonce: str | None = None,
    consumer_secret: str | None = None,
) -> dict[str, str]:
    """The ``Authorization: OAuth …`` header for a request, signed by oauthlib."""
    client = Client(
        creds.consumer_key,
        client_secret=consumer_secret if consumer_secret is not None else creds.consumer_secret,
        resource_owner_key=creds.access_token,
        resource_owner_secret=creds.access_token_secret,
        signature_method=signature_method,
        timestamp=None if timestamp is None else str(timestamp),
        nonce=nonce,
    )
    _, headers, _ = client.sign(url, method)
    return {"Authorization": headers["Authorization"]}


@dataclass
class Magento:
    """A served sandbox and a client for it."""

    sandbox: MagentoSandbox
    base: str
    http: httpx.Client

    def url(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> str:
        qs = f"?{query_string(params)}" if params else ""
        return f"{self.base}/rest/default{path}{qs}"

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        *,
        auth: str = "oauth",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        **sign_args: Any,
    ) -> httpx.Response:
        url = self.url(path, params)
        hdrs = dict(headers or {})
        if auth == "oauth":
            hdrs.update(oauth_sign(method, url, **sign_args))
        elif auth == "admin":
            hdrs["Authorization"] = f"Bearer {self.sandbox.control.admin_token()}"
        elif auth == "integration-bearer":
            hdrs["Authorization"] = f"Bearer {self.sandbox.credentials.access_token}"
        if content is not None:
            return self.http.request(method, url, content=content, headers=hdrs)
        return self.http.request(method, url, json=json, headers=hdrs)

    def get(self, path: str, params: Any = None, **kw: Any) -> httpx.Response:
        return self.request("GET", path, params, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, None, json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, None, json, **kw)


@pytest.fixture
def make_magento() -> Iterator[Any]:
    """Factory: ``make_magento(**sandbox_kwargs)`` serves a fresh sandbox over HTTP for the test."""
    stack: list[Any] = []

    def factory(**kwargs: Any) -> Magento:
        sandbox = MagentoSandbox(**kwargs)
        ctx = serve_in_thread(sandbox.app)
        base = ctx.__enter__()
        http = httpx.Client(timeout=10)
        stack.append((ctx, http, sandbox))
        return Magento(sandbox, base, http)

    yield factory
    for ctx, http, sandbox in reversed(stack):
        http.close()
        ctx.__exit__(None, None, None)
        sandbox.close()


@pytest.fixture
def magento(make_magento: Any) -> Magento:
    return make_magento()  # type: ignore[no-any-return]


# -- schema --------------------------------------------------------------------------------------


@pytest.fixture
def schema_validate() -> Any:
    """Validate a document against a definition of the official schema (``tests/contract``)."""
    return load_schema().validate_definition
