"""Retry policy written as data, and the retry loop.

The table maps an HTTP status or an httpx exception class to an :class:`ErrorResolution`
(action + failure type), in the manner of Airbyte's default error mapping. The loop retries
idempotent calls freely; a non-idempotent write is repeated only when the failure proves the
request was never applied, or after its guard re-read Magento and found nothing was created.
"""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from m2pos.magento._errors import Action, ErrorResolution, FailureType, MagentoError

T = TypeVar("T")

_RETRY = ErrorResolution(Action.RETRY, FailureType.TRANSIENT)
_RATE_LIMITED = ErrorResolution(Action.RATE_LIMITED, FailureType.TRANSIENT)
_FAIL_CONFIG = ErrorResolution(Action.FAIL, FailureType.CONFIG)
_FAIL_REJECTED = ErrorResolution(Action.FAIL, FailureType.REJECTED)
_FAIL_SYSTEM = ErrorResolution(Action.FAIL, FailureType.SYSTEM)

ErrorKey = int | type[BaseException]

DEFAULT_ERROR_MAPPING: Mapping[ErrorKey, ErrorResolution] = {
    # Magento validation and business rules: the same request fails again.
    400: _FAIL_REJECTED,
    # Credentials, ACL, Bearer refused, firewall: a person must change something.
    401: _FAIL_CONFIG,
    403: _FAIL_CONFIG,
    # A missing record (or an unknown route/store code, which check.py tells apart).
    404: _FAIL_REJECTED,
    405: _FAIL_CONFIG,
    408: _RETRY,
    429: _RATE_LIMITED,
    500: _RETRY,
    502: _RETRY,
    503: _RETRY,
    504: _RETRY,
    # No answer: the network or Magento may recover.
    httpx.TimeoutException: _RETRY,
    httpx.NetworkError: _RETRY,
    httpx.RemoteProtocolError: _RETRY,
    # A malformed URL or proxy setting never heals by itself.
    httpx.UnsupportedProtocol: _FAIL_CONFIG,
    httpx.ProxyError: _FAIL_CONFIG,
    httpx.LocalProtocolError: _FAIL_SYSTEM,
}


def _fallback(status: int) -> ErrorResolution:
    if 300 <= status < 400:
        return _FAIL_CONFIG  # API calls are never redirected by Magento: the URL is wrong
    if status >= 500:
        return _RETRY
    return _FAIL_REJECTED


def resolve(key: int | BaseException, mapping: Mapping[ErrorKey, ErrorResolution]) -> ErrorResolution:
    """Look a status code or an exception up in the table (exceptions by their class hierarchy)."""
    if isinstance(key, int):
        return mapping.get(key) or _fallback(key)
    for cls in type(key).__mro__:
        if cls in mapping:
            return mapping[cls]
    return _FAIL_SYSTEM


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped, jittered exponential backoff that honours ``Retry-After``.

    ``max_attempts`` counts the first try. The n-th retry waits ``base_delay * 2**(n-1)`` capped at
    ``max_delay``; ``jitter`` (0–1) is the share of that wait drawn at random, so clients that failed
    together do not return together. A ``Retry-After`` header replaces the computed wait, capped at
    ``max_retry_after``. ``sleep`` and ``random`` are injectable so tests neither wait nor guess.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    mapping: Mapping[ErrorKey, ErrorResolution] = field(default_factory=lambda: dict(DEFAULT_ERROR_MAPPING))
    sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep
    random: Callable[[], float] = _random.random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")

    def resolve(self, key: int | BaseException) -> ErrorResolution:
        return resolve(key, self.mapping)

    def backoff(self, retry_number: int) -> float:
        """The wait before the ``retry_number``-th retry (1-based), jitter included."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return float(ceiling * (1.0 - self.jitter * self.random()))

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff(retry_number)

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        guard: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or runs out of attempts.

        For a non-idempotent call, an ambiguous failure (it may have been applied) is retried only
        through ``guard``: after the wait, the guard re-reads Magento and returns the result of the
        earlier attempt if it took effect (then no retry happens), or None to retry.
        """
        tries = 0
        while True:
            tries += 1
            try:
                return await attempt()
            except MagentoError as exc:
                if not exc.resolution.retryable:
                    raise
                needs_guard = exc.ambiguous and not idempotent
                if needs_guard and guard is None:
                    raise
                last = tries >= self.max_attempts
                if last and not needs_guard:
                    raise
                await self.sleep(self.delay(tries, getattr(exc, "retry_after", None)))
                if needs_guard and guard is not None:
                    # Even after the last attempt: the write may have landed, and saying so beats
                    # reporting a failure that a later retry would turn into a duplicate.
                    done = await guard()
                    if done is not None:
                        return done
                if last:
                    raise
