"""HTTP to the X-Series API: Bearer token, the request window (``WindowPacer``), retries.

Reads are retried on 429, 5xx and network errors. A write is re-sent only when it certainly did not
happen: after a 429 (refused before processing) or when the connection could not be made. After a
timeout or a 5xx a write may have been committed, so it is not repeated here: the error is
retryable, and the engine first looks the document up by its reference (``find_document``).
The token never appears in a log, an error or a repr.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from m2pos import __version__
from m2pos.engine.ratelimit import RateLimitedTransport, RateLimiter
from m2pos.pos.common.errors import StatusPolicy, never_sent
from m2pos.pos.lightspeed_xseries._pacing import WindowPacer
from m2pos.pos.lightspeed_xseries._settings import XSeriesSettings
from m2pos.pos.port import PosError, PosRejected
from m2pos.retry_after import retry_after

log = logging.getLogger("m2pos.pos.lightspeed_xseries")

POS_NAME = "Lightspeed X-Series"


_SET_A_VALID_KEY = "Set pos.token to a valid personal token or OAuth access token."
STATUSES = StatusPolicy(POS_NAME, "X-Series", {401: _SET_A_VALID_KEY, 403: _SET_A_VALID_KEY})


def _header_int(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def _details(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "details", "message") if body.get(k)]
        return ": ".join(parts) or str(body)[:200]
    return str(body)[:200]


class XSeriesClient:
    def __init__(
        self,
        settings: XSeriesSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        pacer: WindowPacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self.pacer = pacer or WindowPacer(settings.rate_limit_window_seconds, sleep=sleep)
        inner = transport or httpx.AsyncHTTPTransport(retries=0)
        self.limiter = limiter or RateLimiter(settings.requests_per_second)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            transport=RateLimitedTransport(inner, self.limiter),
            timeout=settings.timeout_seconds,
            headers={
                "Authorization": f"Bearer {settings.token.get_secret_value()}",
                "Accept": "application/json",
                "User-Agent": f"m2pos/{__version__}",
            },
        )
        self.refused = 0  # 429s drawn (tests, benchmarks)

    def __repr__(self) -> str:
        return f"XSeriesClient({self.settings.base_url!r})"

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._call("GET", path, params=params, write=False)

    async def write(self, method: str, path: str, body: dict[str, Any]) -> Any:
        return await self._call(method, path, json=body, write=True)

    async def _call(self, method: str, path: str, *, write: bool, **kwargs: Any) -> Any:
        what = f"{method} {path}"
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            await self.pacer.acquire()
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.HTTPError as error:
                await self.pacer.release(None, None)
                if isinstance(error, httpx.TransportError) and never_sent(error):
                    if last:
                        raise PosError(
                            f"{POS_NAME} is unreachable ({what}): {error}. Check pos.base_url."
                        ) from None
                    await self._sleep(min(2.0**attempt, 10.0))
                    continue
                if write:  # it may have reached X-Series: never sent twice from here
                    raise PosError(
                        f"{POS_NAME} did not answer {what} ({type(error).__name__}); it may have been "
                        "done, so m2pos looks it up before trying again"
                    ) from None
                if last:
                    raise PosError(f"{POS_NAME} did not answer {what} ({type(error).__name__})") from None
                await self._sleep(min(2.0**attempt, 10.0))
                continue
            if response.status_code == 429:
                self.refused += 1
                wait = retry_after(response)
                wait = 1.0 if wait is None else wait
                await self.pacer.refused(wait)
                if last or wait > self.settings.max_retry_after_seconds:
                    raise PosError(
                        f"{POS_NAME} refused {what}: its request window is spent for {wait:.0f} s "
                        "(shared with the store's other apps); m2pos tries again later"
                    )
                log.info("X-Series request window spent; waiting %.1f s", wait)
                continue  # paced by acquire(); a 429 was not processed, so even a write is safe
            await self.pacer.release(
                _header_int(response, "X-RateLimit-Remaining"), _header_int(response, "X-RateLimit-Limit")
            )
            status = response.status_code
            if status < 400:
                return response.json() if response.content else None
            if status in (401, 403):
                raise PosError(STATUSES.read(response, _details(response))[0], retryable=False)
            if status >= 500:
                if write:
                    raise PosError(
                        f"{POS_NAME} failed {what} ({status}: {_details(response)}); it may have been done, "
                        "so m2pos looks it up before trying again"
                    )
                if last:
                    raise PosError(f"{POS_NAME} failed {what} ({status}: {_details(response)})")
                await self._sleep(min(2.0**attempt, 10.0))
                continue
            raise PosRejected(STATUSES.read(response, _details(response))[0])
        raise PosError(f"{POS_NAME}: {what} failed after {attempts} attempts")  # pragma: no cover

    async def pages(self, path: str, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every row of a 2.0 collection, paged by ``after`` = the last page's highest version."""
        rows: list[dict[str, Any]] = []
        after = 0
        while True:
            body = await self.get(path, {"after": after, "page_size": page_size})
            data = body.get("data") or []
            rows += data
            version = body.get("version") or {}
            if len(data) < page_size or not version.get("max"):
                return rows
            after = int(version["max"])

    async def aclose(self) -> None:
        await self._http.aclose()
