"""HTTP, OAuth and the leaky bucket for the R-Series API.

* **Auth**: ``Authorization: Bearer <access token>``. The pair comes from the token store
  (``_tokens.py``); an access token that is missing, about to expire or answered with 401 is
  refreshed — once per process at a time (asyncio lock) and once across processes (file lock), and a
  request that raced a refresh is simply sent again with the new token (a 401 means nothing was done).
* **Rate limit**: R-Series drains a bucket of ``size`` units at ``drip`` per second; GET costs 1 and a
  write 10 (pos-apis §2 [V]). Each answer's ``X-LS-API-Bucket-Level`` (``used/size``) and
  ``X-LS-API-Drip-Rate`` are read; before each request the client waits until the bucket, drained
  since that answer and counting the requests still in flight, has room for it. The first request
  goes alone (the level is unknown until one answer). A 429 that happens anyway (another app on the
  account) is waited out per ``Retry-After`` and sent again: the POS refused it before doing anything.
* **Retries** never repeat a write that may have happened: ``POST`` only after 401/429 or a
  connection that never opened; ``GET``/``PUT``/``DELETE`` also after 5xx, timeouts and broken
  connections.
* Errors become :class:`RetailCallError` with R-Series' own ``message`` (its JSON error body) and
  what to do; tokens and the client secret never appear in messages, logs or reprs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from m2pos.engine.ratelimit import RateLimitedTransport, RateLimiter
from m2pos.pos.common.errors import StatusPolicy, may_resend_after, may_resend_answered
from m2pos.pos.lightspeed_retail._settings import RetailSettings
from m2pos.pos.lightspeed_retail._tokens import AsyncFileLock, TokenPair, TokenStore
from m2pos.pos.port import PosError
from m2pos.retry_after import retry_after

log = logging.getLogger("m2pos.pos.lightspeed_retail")

POS_NAME = "Lightspeed Retail"
READ_COST, WRITE_COST = 1.0, 10.0
_MARGIN = 1.0  # units kept free: the server's clock and ours differ a little
_EARLY_REFRESH = 60.0  # seconds before expiry an access token is renewed
_MESSAGE_CHARS = 300


class RetailCallError(PosError):
    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


def cost_of(method: str) -> float:
    return READ_COST if method == "GET" else WRITE_COST


@dataclass
class BucketGauge:
    """What the client knows of the account's bucket."""

    size: float | None = None  # None until the first answer
    drip: float = 1.0
    level: float = 0.0
    at: float = 0.0
    in_flight: float = 0.0
    waited: float = 0.0  # seconds spent waiting for room (benchmarks)

    def wait_for(self, cost: float, now: float) -> float:
        if self.size is None:
            return 0.0
        level = max(0.0, self.level - (now - self.at) * self.drip) + self.in_flight
        excess = level + cost + _MARGIN - self.size
        return max(0.0, excess / self.drip) if excess > 0 else 0.0

    def observe(self, response: httpx.Response, now: float) -> None:
        raw = response.headers.get("x-ls-api-bucket-level", "")
        used, _, size = raw.partition("/")
        try:
            self.level, self.size, self.at = float(used), float(size), now
        except ValueError:
            return
        with contextlib.suppress(ValueError):
            self.drip = float(response.headers.get("x-ls-api-drip-rate", self.drip)) or self.drip


def _server_message(response: httpx.Response) -> str:
    try:
        data = response.json()
        message = str(data.get("message") or data.get("error_description") or data.get("error") or "")
    except (ValueError, AttributeError):
        message = response.content[:400].decode("utf-8", "replace")
    message = " ".join(message.split())
    return message[:_MESSAGE_CHARS] + ("…" if len(message) > _MESSAGE_CHARS else "")


STATUSES = StatusPolicy(
    POS_NAME,
    "Lightspeed",
    {
        401: "The access token was refused after a refresh; check pos.client_id and pos.client_secret.",
        403: "Check pos.account_id and that the authorised Lightspeed user may use this account.",
        429: "Lightspeed's rate limit is full (another app on the account?); m2pos retries later.",
    },
)


def http_error(response: httpx.Response) -> RetailCallError:
    message, retryable = STATUSES.read(response, _server_message(response))
    return RetailCallError(message, retryable=retryable, status=response.status_code)


def _seed(settings: RetailSettings) -> str:
    token = settings.refresh_token
    return hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16] if token is not None else ""


class RetailClient:
    def __init__(
        self,
        settings: RetailSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.base_url = settings.account_url
        self.max_attempts = settings.max_attempts
        self.max_retry_after = settings.max_retry_after_seconds
        self._sleep, self._clock = sleep, clock
        inner = transport or httpx.AsyncHTTPTransport()
        self.limiter = limiter or RateLimiter(settings.requests_per_second)
        self._http = httpx.AsyncClient(
            transport=RateLimitedTransport(inner, self.limiter),
            timeout=settings.timeout_seconds,
            headers={"Accept": "application/json", "User-Agent": "m2pos"},
        )
        self.store = TokenStore(settings.token_file)
        self._seed = _seed(settings)
        self._pair: TokenPair | None = None
        self._refresh_lock = asyncio.Lock()
        self._bucket_lock = asyncio.Lock()
        self._first = asyncio.Lock()
        self.gauge = BucketGauge()
        self.requests = 0
        self.refreshes = 0
        self.rate_limited = 0  # 429s received
        self.closed = False

    def __repr__(self) -> str:
        return f"RetailClient({self.base_url!r})"

    # -- tokens -----------------------------------------------------------------------------------

    def _kept_pair(self) -> TokenPair | None:
        pair = self.store.read()
        if pair is not None and self._seed and pair.seed != self._seed:
            return None  # pos.refresh_token was replaced (a new authorisation): start from it
        return pair

    async def _access_token(self) -> str:
        if self._pair is None:
            async with self._refresh_lock, AsyncFileLock(self.store):  # may adopt a ".new" pair
                if self._pair is None:
                    self._pair = await asyncio.to_thread(self._kept_pair)
        pair = self._pair
        if (
            pair is None
            or not pair.access_token
            or (pair.expires_at and pair.expires_at - _EARLY_REFRESH < time.time())
        ):
            await self._refresh(pair.access_token if pair is not None else "")
        current = self._pair
        if current is None:  # _refresh raises rather than leave no pair
            raise RetailCallError(f"{POS_NAME}: no access token", retryable=True)
        return current.access_token

    async def _refresh(self, used: str) -> None:
        """Renew the pair, unless someone (this process or another) renewed it since ``used``."""
        async with self._refresh_lock:
            if self._pair is not None and self._pair.access_token and self._pair.access_token != used:
                return
            async with AsyncFileLock(self.store):
                kept = await asyncio.to_thread(self._kept_pair)
                if kept is not None and kept.access_token and kept.access_token != used:
                    self._pair = kept  # another process refreshed while we waited for the lock
                    return
                if kept is not None:
                    refresh = kept.refresh_token
                elif self.settings.refresh_token is not None:
                    refresh = self.settings.refresh_token.get_secret_value()
                else:
                    raise RetailCallError(
                        f"{POS_NAME}: no refresh token. Authorise m2pos in Lightspeed and put the refresh "
                        f"token in pos.refresh_token (m2pos then keeps the rotating pair in "
                        f"{self.settings.token_file}).",
                        retryable=False,
                    )
                pair = await self._token_request(refresh)
                # Kept before anything else: the refresh token just used is already revoked.
                await asyncio.to_thread(self.store.save, pair)
                self._pair = pair
                self.refreshes += 1

    async def _token_request(self, refresh: str) -> TokenPair:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.get_secret_value(),
            "refresh_token": refresh,
        }
        try:
            response = await self._http.post(self.settings.token_url, data=form)
        except httpx.TransportError as error:
            raise RetailCallError(
                f"{POS_NAME}'s token endpoint {self.settings.token_url} could not be reached "
                f"({type(error).__name__}); m2pos retries later.",
                retryable=True,
            ) from None
        self.requests += 1
        if response.status_code != 200:
            said = _server_message(response)
            if response.status_code in (400, 401):
                raise RetailCallError(
                    f'{POS_NAME} refused to renew the access token ({response.status_code}: "{said}"). '
                    "The refresh token is no longer valid (revoked, or already used by another copy of "
                    "m2pos); authorise m2pos again in Lightspeed, put the new refresh token in "
                    "pos.refresh_token and restart. Check pos.client_id and pos.client_secret too.",
                    retryable=False,
                    status=response.status_code,
                )
            raise RetailCallError(
                f'{POS_NAME}\'s token endpoint answered {response.status_code} ("{said}"); '
                "m2pos retries later.",
                retryable=True,
                status=response.status_code,
            )
        try:
            data = response.json()
            expires_in = float(data.get("expires_in") or 0)
            return TokenPair(
                str(data["access_token"]),
                str(data["refresh_token"]),
                time.time() + expires_in if expires_in else 0.0,
                self._seed,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RetailCallError(
                f"{POS_NAME}'s token endpoint answered without a token pair; check pos.token_url.",
                retryable=False,
            ) from None

    # -- the bucket -------------------------------------------------------------------------------

    async def _room(self, cost: float) -> None:
        async with self._bucket_lock:
            while True:
                wait = self.gauge.wait_for(cost, self._clock())
                if wait <= 0:
                    break
                self.gauge.waited += wait
                await self._sleep(wait)
            self.gauge.in_flight += cost

    # -- requests ---------------------------------------------------------------------------------

    async def _exchange(
        self, method: str, path: str, body: Any, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        token = await self._access_token()
        cost = cost_of(method)
        await self._room(cost)
        self.requests += 1
        try:
            response = await self._http.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        finally:
            self.gauge.in_flight = max(0.0, self.gauge.in_flight - cost)
        self.gauge.observe(response, self._clock())
        if response.status_code == 401:
            await self._refresh(token)
            token = await self._access_token()
            await self._room(cost)
            self.requests += 1
            try:
                response = await self._http.request(
                    method,
                    self.base_url + path,
                    json=body,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            finally:
                self.gauge.in_flight = max(0.0, self.gauge.in_flight - cost)
            self.gauge.observe(response, self._clock())
        return response

    async def _send(
        self, method: str, path: str, body: Any, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        if self.gauge.size is None:
            async with self._first:  # the bucket's level is unknown until one answer
                if self.gauge.size is None:
                    return await self._exchange(method, path, body, params)
        return await self._exchange(method, path, body, params)

    async def request(
        self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        if self.closed:
            raise RetailCallError(f"{POS_NAME}: the connection was closed", retryable=True)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, path, body, params)
            except httpx.TransportError as error:
                if may_resend_after(method, error) and attempt < self.max_attempts:
                    await self._sleep(min(2.0, 0.1 * 3 ** (attempt - 1)))
                    continue
                what = (
                    "did not answer in time"
                    if isinstance(error, httpx.TimeoutException)
                    else "could not be reached"
                )
                raise RetailCallError(
                    f"{POS_NAME} {what} for {method} {path} ({type(error).__name__}); m2pos retries later "
                    "(a document it may have made is found by its reference first).",
                    retryable=True,
                ) from None
            status = response.status_code
            if status == 429:
                self.rate_limited += 1
            transient = may_resend_answered(method, status)
            if transient and attempt < self.max_attempts:
                wait = retry_after(response)
                wait = min(2.0, 0.1 * 3 ** (attempt - 1)) if wait is None else wait
                if wait <= self.max_retry_after:
                    await self._sleep(wait)
                    continue
            if status >= 400:
                raise http_error(response)
            try:
                data = response.json()
            except ValueError:
                raise RetailCallError(
                    f"{POS_NAME} answered {method} {path} with something that is not JSON; "
                    "check pos.base_url.",
                    retryable=True,
                ) from None
            if not isinstance(data, dict):
                raise RetailCallError(
                    f"{POS_NAME} answered {method} {path} with unexpected JSON.", retryable=True
                )
            return data

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", path, body=body)

    async def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("PUT", path, body=body)

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self._http.aclose()
