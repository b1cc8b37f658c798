"""One request to Magento: send it through the injected transport, map failures to typed errors.

Every call goes through the single :class:`httpx.AsyncClient` (and so the single transport) the
client was given, which lets tests and the contract suite see all traffic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson

from m2pos.magento._errors import (
    MagentoConnectionError,
    MagentoInvalidResponseError,
    MagentoTimeout,
    describe_non_json,
    error_from_response,
)
from m2pos.magento._retry import RetryPolicy
from m2pos.magento._urls import build_url, rest_base
from m2pos.retry_after import parse_retry_after

T = TypeVar("T")

# Failures that happen before the request leaves this machine: nothing can have been applied.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or url  # no user-info, no path: nothing secret


def _transport_hint(exc: httpx.TransportError) -> str | None:
    text = str(exc).lower()
    if "ssl" in text or "certificate" in text or "tls" in text:
        return (
            "The TLS (HTTPS) handshake failed: the store's certificate may be expired, self-signed, "
            "or issued for another host name; check the URL and the certificate in a browser"
        )
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "The host name could not be resolved: check the store URL for typos"
    if "refused" in text or "all connection attempts failed" in text:
        return "Nothing answers on that address and port: check the store URL and that the server is up"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "The store URL must start with https:// (or http:// for a local test store)"
    return None


class Requester:
    """Builds URLs, sends, classifies. The retry loop wraps :meth:`call_once`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        store_code: str,
        retry: RetryPolicy,
        using_bearer: bool,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.store_code = store_code
        self.retry = retry
        self.using_bearer = using_bearer

    def url(
        self, path: str, params: Sequence[tuple[str, str]] | None = None, *, store_code: str | None = None
    ) -> str:
        return build_url(rest_base(self.base_url, store_code or self.store_code), path, params)

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        store_code: str | None = None,
        anonymous: bool = False,
    ) -> httpx.Response:
        """One attempt, any status; transport failures become typed errors."""
        url = self.url(path, params, store_code=store_code)
        route = f"{method} /V1{path}"
        headers = {"Content-Type": "application/json"} if json is not None else None
        content = orjson.dumps(json) if json is not None else None
        try:
            if anonymous:
                return await self.http.request(method, url, content=content, headers=headers, auth=None)
            return await self.http.request(method, url, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise MagentoTimeout(
                f"Magento at {_host(url)} did not answer in time",
                route=route,
                resolution=self.retry.resolve(exc),
                sent=not isinstance(exc, _NOT_SENT),
            ) from exc
        except httpx.TransportError as exc:
            raise MagentoConnectionError(
                f"Could not reach Magento at {_host(url)} ({type(exc).__name__}: {exc})",
                route=route,
                resolution=self.retry.resolve(exc),
                sent=not isinstance(exc, _NOT_SENT),
                hint=_transport_hint(exc),
            ) from exc

    def raise_for_status(self, response: httpx.Response, route: str) -> None:
        if response.is_success:
            return
        raise error_from_response(
            response,
            route=route,
            resolution=self.retry.resolve(response.status_code),
            using_bearer=self.using_bearer,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    @staticmethod
    def decode(response: httpx.Response, route: str) -> Any:
        """The JSON body of a success response (``None`` when empty)."""
        if not response.content.strip():
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MagentoInvalidResponseError(describe_non_json(response), route=route) from None

    async def call_once(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
    ) -> Any:
        response = await self.send(method, path, params=params, json=json)
        route = f"{method} /V1{path}"
        self.raise_for_status(response, route)
        return self.decode(response, route)

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        idempotent: bool,
        guard: Callable[[], Awaitable[Any | None]] | None = None,
    ) -> Any:
        """:meth:`call_once` under the retry policy (see :meth:`RetryPolicy.run`)."""

        async def attempt() -> Any:
            return await self.call_once(method, path, params=params, json=json)

        return await self.retry.run(attempt, idempotent=idempotent, guard=guard)
