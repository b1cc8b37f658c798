"""The ASGI side: routing ``/rest/...`` through faults and counters into the Magento request flow.

The Magento handler is a raw ASGI app (not a Starlette endpoint) because it needs the raw path
(``%2F`` must stay one path segment) and direct control of ``send`` to drop a response after the
write was committed (see ``m2pos.sandbox._faults.run_with_faults``).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from m2pos.sandbox._faults import Counters, FaultInjector, FaultKind, Reply, run_with_faults
from m2pos.sandbox.magento._backend import Backend
from m2pos.sandbox.magento._control import Control, control_routes
from m2pos.sandbox.magento._errors import internal_error
from m2pos.sandbox.magento._routes import Request, Response, process, resolve

REST_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


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

    def _reply(self, response: Response) -> Reply:
        headers = [("content-type", "application/json; charset=utf-8")]
        headers += [(k.lower(), v) for k, v in response.headers.items()]
        if self.always_date or self.backend.clock.offset_seconds:
            headers.append(("date", self.backend.clock.http_date()))
        return Reply(response.status, response.encode(), headers)

    def _fault_reply(self, kind: FaultKind) -> Reply:
        if kind == "rate_limit":
            return self._reply(Response(429, {"message": "Too Many Requests"}))
        if kind == "timeout":
            return self._reply(Response(504, {"message": "Gateway Timeout"}))
        return self._reply(Response(500, internal_error().body()))

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

        async def handle(body: bytes) -> Reply:
            request = Request(
                method=method,
                raw_path=raw_path,
                raw_query=raw_query,
                scheme=scheme,
                host=host,
                headers={
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
                },
                body=body,
            )
            response = await run_in_threadpool(process, self.backend, request, resolved)
            return self._reply(response)

        await run_with_faults(
            receive,
            send,
            key=key,
            injector=self.faults,
            counters=self.counters,
            fault_reply=self._fault_reply,
            handle=handle,
        )


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
