"""The ASGI side: routing ``/rest/...`` through faults and counters into the Magento request flow.

The Magento handler is a raw ASGI app (not a Starlette endpoint) because it needs the raw path
(``%2F`` must stay one path segment) and direct control of ``send`` to drop a response after the
write was committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from m2pos.sandbox.magento._backend import Backend
from m2pos.sandbox.magento._control import Control, control_routes
from m2pos.sandbox.magento._errors import internal_error
from m2pos.sandbox.magento._faults import Counters, FaultInjector
from m2pos.sandbox.magento._routes import Request, Response, process, resolve

REST_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


class DroppedResponse(ConnectionAbortedError):
    """Raised after a partial response to make the server cut the connection (a dropped reply)."""


class _HideDroppedResponses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedResponse)


logging.getLogger("uvicorn.error").addFilter(_HideDroppedResponses())


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _hang(receive: Receive, seconds: float) -> bool:
    """Wait until the client gives up (disconnects) or ``seconds`` pass; True if it disconnected."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), timeout=seconds)
    except TimeoutError:
        return False
    return True


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


class MagentoEndpoint:
    def __init__(
        self, backend: Backend, faults: FaultInjector, counters: Counters, always_date: bool
    ) -> None:
        self.backend = backend
        self.faults = faults
        self.counters = counters
        self.always_date = always_date

    async def _send(self, send: Send, key: str, response: Response, body: bytes | None = None) -> None:
        payload = response.encode() if body is None else body
        headers = [(b"content-type", b"application/json; charset=utf-8")]
        headers += [(k.lower().encode(), v.encode()) for k, v in response.headers.items()]
        if self.always_date or self.backend.clock.offset_seconds:
            headers.append((b"date", self.backend.clock.http_date().encode()))
        headers.append((b"content-length", str(len(payload)).encode()))
        self.counters.status(key, response.status)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_query = scope.get("query_string", b"").decode("latin-1")
        host = _header(scope, b"host") or "localhost"
        forwarded = _header(scope, b"x-forwarded-proto").lower()
        scheme = forwarded or scope.get("scheme", "http")
        cfg = self.backend.config
        resolved = resolve(method, raw_path.split("?", 1)[0], set(self.backend.views_by_code))
        key = resolved.key
        self.counters.hit(key)

        if cfg.https_redirect and scheme != "https":
            location = f"https://{host}{raw_path}" + (f"?{raw_query}" if raw_query else "")
            self.counters.status(key, 301)
            headers = [(b"location", location.encode()), (b"content-type", b"text/html")]
            headers.append((b"content-length", b"0"))
            await send({"type": "http.response.start", "status": 301, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        settings = self.faults.settings
        if settings.latency_ms > 0:
            await asyncio.sleep(settings.latency_ms / 1000.0)
        fault, drop = self.faults.decide(key)
        if fault == "rate_limit":
            retry = str(settings.retry_after_seconds)
            await self._send(
                send, key, Response(429, {"message": "Too Many Requests"}, {"Retry-After": retry})
            )
            return
        if fault == "timeout":
            if not await _hang(receive, settings.timeout_seconds):
                await self._send(send, key, Response(504, {"message": "Gateway Timeout"}))
            else:
                self.counters.status(key, 499)  # the client gave up
            return
        if fault == "error":
            await self._send(send, key, Response(500, internal_error().body()))
            return

        body = await _read_body(receive)
        request = Request(
            method=method,
            raw_path=raw_path,
            raw_query=raw_query,
            scheme=scheme,
            host=host,
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])},
            body=body,
        )
        response = await run_in_threadpool(process, self.backend, request, resolved)

        if drop:
            if settings.drop_mode == "hang":
                if await _hang(receive, settings.timeout_seconds):
                    self.counters.status(key, 499)
                    return
                await self._send(send, key, response)
                return
            # "abort": headers and part of the body, then the connection is cut.
            payload = response.encode()
            headers = [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
            ]
            self.counters.status(key, 0)
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send(
                {"type": "http.response.body", "body": payload[: len(payload) // 2], "more_body": True}
            )
            raise DroppedResponse("response dropped after commit (fault injection)")
        await self._send(send, key, response)


def build_app(
    backend: Backend, control: Control, faults: FaultInjector, counters: Counters, always_date: bool
) -> Any:
    endpoint = MagentoEndpoint(backend, faults, counters, always_date)
    return Starlette(
        routes=[
            Mount("/_sandbox", routes=control_routes(control)),
            Route("/rest/{rest:path}", endpoint, methods=REST_METHODS),
        ]
    )
