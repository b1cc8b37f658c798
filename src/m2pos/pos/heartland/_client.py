"""HTTP and JSON for the Heartland Retail API.

* ``Authorization: Bearer {api_token}`` on every call [pos-apis §4, V]; the token never appears in
  messages or reprs.
* Retries: a small bounded number, only where repeating cannot duplicate anything — GET/PUT/DELETE
  on 5xx, 429, timeouts and broken connections; ``POST`` only on 429/503 and on a connection that
  never opened. ``Retry-After`` is honoured up to ``max_retry_after_seconds``.
* Errors become :class:`HeartlandCallError` (a :class:`PosError`): retryable for outages, rate limits
  and timeouts; not for what a person must mend (400/422 validation, 401/403 token, 404).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from m2pos.engine.ratelimit import RateLimitedTransport, RateLimiter
from m2pos.pos.common.errors import StatusPolicy, may_resend_after, may_resend_answered
from m2pos.pos.heartland._settings import HeartlandSettings
from m2pos.pos.port import PosError
from m2pos.retry_after import retry_after

POS_NAME = "Heartland Retail"
_MESSAGE_CHARS = 300


class HeartlandCallError(PosError):
    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.details: dict[str, Any] = {}


def _said(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    details: dict[str, Any] = {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or "")
        raw = body.get("details")
        details = raw if isinstance(raw, dict) else {}
        if details:
            message += " (" + "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in details.items()) + ")"
    else:
        message = response.content[:400].decode("utf-8", "replace")
    message = " ".join(message.split())
    return message[:_MESSAGE_CHARS] + ("…" if len(message) > _MESSAGE_CHARS else ""), details


_CREDENTIALS_ADVICE = "Check pos.api_token (a Heartland API token of a user allowed to use the API)."
STATUSES = StatusPolicy(
    POS_NAME,
    "Heartland",
    {
        401: _CREDENTIALS_ADVICE,
        403: _CREDENTIALS_ADVICE,
        404: "The record is not (or no longer) in Heartland, or pos.base_url is wrong.",
    },
)


def http_error(response: httpx.Response) -> HeartlandCallError:
    said, details = _said(response)
    message, retryable = STATUSES.read(response, said)
    error = HeartlandCallError(message, retryable=retryable, status=response.status_code)
    error.details = details
    return error


class HeartlandClient:
    def __init__(
        self,
        settings: HeartlandSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = settings.base_url
        self.max_attempts = settings.max_attempts
        self.max_retry_after = settings.max_retry_after_seconds
        self._sleep = sleep
        self.limiter = limiter or RateLimiter(settings.requests_per_second)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            transport=RateLimitedTransport(transport or httpx.AsyncHTTPTransport(), self.limiter),
            timeout=settings.timeout_seconds,
            headers={
                "Authorization": f"Bearer {settings.api_token.get_secret_value()}",
                "Accept": "application/json",
            },
        )
        self.requests = 0

    def __repr__(self) -> str:
        return f"HeartlandClient({self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if content is not None else {}
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = await self._http.request(
                    method, path, content=content, params=params, headers=headers
                )
            except httpx.TransportError as error:
                if may_resend_after(method, error) and attempt < self.max_attempts:
                    await self._sleep(min(2.0, 0.1 * 3 ** (attempt - 1)))
                    continue
                what = "did not answer in time" if isinstance(error, httpx.TimeoutException) else "failed"
                raise HeartlandCallError(
                    f"{POS_NAME} at {self.base_url}: {method} {path} {what} ({type(error).__name__}). "
                    "Check that Heartland is reachable (pos.base_url); m2pos retries later.",
                    retryable=True,
                ) from None
            status = response.status_code
            transient = may_resend_answered(method, status)
            if transient and attempt < self.max_attempts:
                wait = retry_after(response)
                wait = min(2.0, 0.1 * 3 ** (attempt - 1)) if wait is None else wait
                if wait <= self.max_retry_after:
                    await self._sleep(wait)
                    continue
            if status >= 400:
                raise http_error(response)
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise HeartlandCallError(
                    f"{POS_NAME} answered {method} {path} with something that is not JSON; check "
                    "pos.base_url (it must end in /api/). m2pos retries later.",
                    retryable=True,
                ) from None

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Any:
        return await self.request("POST", path, body=body)

    async def put(self, path: str, body: Any) -> Any:
        return await self.request("PUT", path, body=body)

    async def delete(self, path: str) -> None:
        await self.request("DELETE", path)

    async def find(self, path: str, flt: Mapping[str, Any], per_page: int = 100) -> list[dict[str, Any]]:
        """Every record of a listing matching ``_filter`` (all pages)."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"_filter": json.dumps(flt), "per_page": per_page, "page": page}
            data = await self.get(path, params)
            results = data.get("results", []) if isinstance(data, dict) else []
            out += [r for r in results if isinstance(r, dict)]
            if not isinstance(data, dict) or page >= int(data.get("pages", 1) or 1):
                return out
            page += 1
