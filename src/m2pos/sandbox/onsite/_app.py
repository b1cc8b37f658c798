"""The ASGI side: ``/api/...`` through faults and counters into the OnSite request flow, and the
control interface under ``/_sandbox/``.

The API handler is a raw ASGI app (not a Starlette endpoint): it must accept the WebDAV verbs
``LOCK``/``UNLOCK`` and needs direct control of ``send`` to drop a response after a write was
committed (``m2pos.sandbox._faults.run_with_faults``).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from m2pos.sandbox._faults import Counters, FaultInjector, FaultKind, Reply, run_with_faults
from m2pos.sandbox.onsite._control import Control, control_routes
from m2pos.sandbox.onsite._errors import OnSiteError
from m2pos.sandbox.onsite._routes import Request, Response, Server, error_response, process, resolve


def _reply(response: Response) -> Reply:
    return Reply(response.status, response.body, response.all_headers())


def _fault_reply(kind: FaultKind) -> Reply:
    if kind == "rate_limit":
        return _reply(error_response(OnSiteError(429, "Too Many Requests", plain=True)))
    if kind == "timeout":
        return _reply(error_response(OnSiteError(504, "Gateway Timeout", plain=True)))
    return _reply(error_response(OnSiteError(500, "Internal Server Error")))


class OnSiteEndpoint:
    def __init__(self, server: Server, faults: FaultInjector, counters: Counters) -> None:
        self.server = server
        self.faults = faults
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].upper()
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        resolved = resolve(method, path)
        self.counters.hit(resolved.key)

        async def handle(body: bytes) -> Reply:
            request = Request(
                method=method,
                path=path,
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
                scheme=scope.get("scheme", "http"),
                host=headers.get("host", "localhost"),
            )
            return _reply(await run_in_threadpool(process, self.server, request, resolved))

        await run_with_faults(
            receive,
            send,
            key=resolved.key,
            injector=self.faults,
            counters=self.counters,
            fault_reply=_fault_reply,
            handle=handle,
        )


def build_app(server: Server, control: Control, faults: FaultInjector, counters: Counters) -> Any:
    endpoint = OnSiteEndpoint(server, faults, counters)
    return Starlette(
        routes=[
            Mount("/_sandbox", routes=control_routes(control)),
            Route("/api", endpoint, methods=None),
            Route("/api/{rest:path}", endpoint, methods=None),
        ]
    )
