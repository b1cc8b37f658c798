"""Fault injection and request counters, shared by every sandbox.

Each fault kind can fire for the *next N* matching requests (deterministic) or with a probability
drawn from an RNG seeded by ``seed`` (reproducible). ``route`` narrows the faults (not the latency)
to requests whose route key (``"METHOD /template"``, e.g. ``"POST /V1/order/{orderId}/invoice"`` or
``"POST /api/orders/{id}/lineitems/"``) matches an ``fnmatch`` pattern such as
``"POST /V1/order/*/invoice"``.

``run_with_faults`` applies the settings to one ASGI request: latency, then 429 + ``Retry-After``,
a timeout (hang, then 504), a 500, a slow answer (``slow_ms`` more before processing, still within
the client's patience), or — after the handler has committed — a dropped response. Each
sandbox supplies only its own error bodies (``fault_reply``) and its request handler.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from starlette.types import Receive, Send

FaultKind = Literal["rate_limit", "timeout", "error", "drop_after_commit"]  # those with a reply
Fault = FaultKind | Literal["slow"]


@dataclass
class FaultSettings:
    latency_ms: int = 0  # added to every emulated route (an async sleep: the server stays concurrent)
    error_rate: float = 0.0  # probability of a 500 with the emulated system's error body
    error_next: int = 0
    rate_limit_rate: float = 0.0  # probability of a 429 with Retry-After
    rate_limit_next: int = 0
    retry_after_seconds: int = 1
    timeout_rate: float = 0.0  # hang before processing (nothing is committed), then 504
    timeout_next: int = 0
    timeout_seconds: float = 30.0
    slow_rate: float = 0.0  # probability of answering slowly: slow_ms more, then processed as usual
    slow_next: int = 0
    slow_ms: int = 1500
    drop_after_commit_rate: float = 0.0  # process and commit, then lose the response
    drop_after_commit_next: int = 0
    drop_mode: str = "abort"  # "abort": cut the connection mid-response; "hang": never answer in time
    route: str | None = None
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name: f for f in fields(self)}
        unknown = set(changes) - set(names)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if "drop_mode" in changes and changes["drop_mode"] not in ("abort", "hang"):
            raise ValueError("drop_mode must be 'abort' or 'hang'")
        for key, value in changes.items():
            default = getattr(FaultSettings(), key)
            if value is not None and isinstance(default, float):
                value = float(value)
            elif value is not None and isinstance(default, int) and not isinstance(default, bool):
                value = int(value)
            setattr(self, key, value)


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._seed_used: int | None = settings.seed
        self._rng = random.Random(settings.seed)

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._seed_used = settings.seed
            self._rng = random.Random(settings.seed)

    def reseed(self) -> None:
        with self._lock:
            self._seed_used = self.settings.seed
            self._rng = random.Random(self.settings.seed)

    def _fires(self, kind: str) -> bool:
        s = self.settings
        pending = getattr(s, f"{kind}_next")
        if pending > 0:
            setattr(s, f"{kind}_next", pending - 1)
            return True
        rate = float(getattr(s, f"{kind}_rate"))
        return rate > 0 and self._rng.random() < rate

    def decide(self, route_key: str) -> tuple[Fault | None, bool]:
        """(fault before processing, drop the response after commit) for one request. A slow answer
        is processed afterwards, so it may be dropped too."""
        with self._lock:
            s = self.settings
            if s.seed != self._seed_used:
                self._seed_used = s.seed
                self._rng = random.Random(s.seed)
            if s.route and not fnmatch.fnmatchcase(route_key, s.route):
                return None, False
            kinds: tuple[Fault, ...] = ("rate_limit", "timeout", "error", "slow")
            for kind in kinds:
                if self._fires(kind):
                    return kind, False
            return None, self._fires("drop_after_commit")


# Counted beside the response's own status: how many answers the "slow" fault delayed.
SLOW_STATUS = "slow"


class Counters:
    """Requests per route key (faulted ones included) and per response status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._statuses: dict[str, dict[str, int]] = {}

    def hit(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def status(self, key: str, status: int | str) -> None:
        with self._lock:
            per = self._statuses.setdefault(key, {})
            per[str(status)] = per.get(str(status), 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "counters": dict(sorted(self._counts.items())),
                "statuses": {k: dict(v) for k, v in sorted(self._statuses.items())},
                "total": sum(self._counts.values()),
            }

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()


class FaultSwitches:
    """The fault and counter switches of every sandbox's control interface (in process, and over the
    sandbox's ``/_sandbox/`` routes where it has them): one set of names for every emulated system."""

    _faults: FaultInjector
    _counters: Counters

    def faults(self) -> dict[str, Any]:
        return self._faults.settings.as_dict()

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change some fault settings; the random draws start again from ``seed`` (reproducible)."""
        self._faults.settings.update(changes)
        self._faults.reseed()
        return self.faults()

    def reset_faults(self) -> dict[str, Any]:
        self._faults.replace(FaultSettings())
        return self.faults()

    def counters(self) -> dict[str, Any]:
        return self._counters.snapshot()

    def count(self, key: str) -> int:
        """Requests seen for one route key, e.g. ``"GET /V1/orders"``."""
        return self._counters.get(key)

    def reset_counters(self) -> dict[str, Any]:
        self._counters.reset()
        return self._counters.snapshot()


# -- applying the faults to an ASGI request ---------------------------------------------------------


@dataclass
class Reply:
    """A complete HTTP response: status, headers (content type included) and body."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class DroppedResponse(ConnectionAbortedError):
    """Raised after a partial response to make the server cut the connection (a dropped reply)."""


class _HideDroppedResponses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedResponse)


logging.getLogger("uvicorn.error").addFilter(_HideDroppedResponses())


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def hang(receive: Receive, seconds: float) -> bool:
    """Wait until the client gives up (disconnects) or ``seconds`` pass; True if it disconnected."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), timeout=seconds)
    except TimeoutError:
        return False
    return True


def _raw_headers(reply: Reply, length: int) -> list[tuple[bytes, bytes]]:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    headers.append((b"content-length", str(length).encode()))
    return headers


async def send_reply(send: Send, counters: Counters, key: str, reply: Reply) -> None:
    counters.status(key, reply.status)
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": _raw_headers(reply, len(reply.body)),
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


async def run_with_faults(
    receive: Receive,
    send: Send,
    *,
    key: str,
    injector: FaultInjector,
    counters: Counters,
    fault_reply: Callable[[FaultKind], Reply],
    handle: Callable[[bytes], Awaitable[Reply]],
) -> None:
    """Serve one request through the fault settings.

    ``fault_reply(kind)`` gives the emulated system's response for ``"rate_limit"`` (status 429; the
    ``Retry-After`` header is added here), ``"timeout"`` (504) and ``"error"`` (500). ``handle(body)``
    processes the request and commits its writes. The caller counts the request (``counters.hit``).
    """
    settings = injector.settings
    if settings.latency_ms > 0:
        await asyncio.sleep(settings.latency_ms / 1000.0)
    fault, drop = injector.decide(key)
    if fault == "rate_limit":
        reply = fault_reply("rate_limit")
        reply.headers.append(("Retry-After", str(settings.retry_after_seconds)))
        await send_reply(send, counters, key, reply)
        return
    if fault == "timeout":
        if not await hang(receive, settings.timeout_seconds):
            await send_reply(send, counters, key, fault_reply("timeout"))
        else:
            counters.status(key, 499)  # the client gave up
        return
    if fault == "error":
        await send_reply(send, counters, key, fault_reply("error"))
        return
    if fault == "slow":
        counters.status(key, SLOW_STATUS)
        await asyncio.sleep(settings.slow_ms / 1000.0)

    reply = await handle(await read_body(receive))

    if drop:
        if settings.drop_mode == "hang":
            if await hang(receive, settings.timeout_seconds):
                counters.status(key, 499)
                return
            await send_reply(send, counters, key, reply)
            return
        # "abort": headers and part of the body, then the connection is cut.
        counters.status(key, 0)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": _raw_headers(reply, len(reply.body)),
            }
        )
        await send(
            {"type": "http.response.body", "body": reply.body[: len(reply.body) // 2], "more_body": True}
        )
        raise DroppedResponse("response dropped after commit (fault injection)")
    await send_reply(send, counters, key, reply)
