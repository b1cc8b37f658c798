"""The ASGI side: ``/api/...`` through faults and counters into the routes, and a small control
interface under ``/_sandbox/`` (faults, counters, stock). A raw ASGI endpoint, so that a response
can be dropped after its write was committed (``m2pos.sandbox._faults.run_with_faults``)."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from m2pos.sandbox._faults import Counters, FaultInjector, FaultKind, Reply, run_with_faults
from m2pos.sandbox.heartland._backend import Backend
from m2pos.sandbox.heartland._routes import RateLimit, dumps, process, resolve

_JSON = [("Content-Type", "application/json; charset=utf-8")]


def _fault_reply(kind: FaultKind) -> Reply:
    status, name = {"rate_limit": (429, "too_many_requests"), "timeout": (504, "gateway_timeout")}.get(
        kind, (500, "internal_server_error")
    )
    return Reply(status, dumps({"error": name, "message": name.replace("_", " ").capitalize()}), list(_JSON))


class HeartlandEndpoint:
    def __init__(self, backend: Backend, faults: FaultInjector, counters: Counters) -> None:
        self.backend, self.faults, self.counters = backend, faults, counters
        self.limiter = RateLimit()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].upper()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        resolved = resolve(method, scope["path"])
        self.counters.hit(resolved.key)
        query = scope.get("query_string", b"").decode("latin-1")

        async def handle(body: bytes) -> Reply:
            status, data = await run_in_threadpool(
                process, self.backend, self.limiter, resolved, headers, query, body
            )
            extra = [("Retry-After", "1")] if status == 429 else []
            return Reply(status, b"" if data is None else dumps(data), [*_JSON, *extra])

        await run_with_faults(
            receive,
            send,
            key=resolved.key,
            injector=self.faults,
            counters=self.counters,
            fault_reply=_fault_reply,
            handle=handle,
        )


def build_app(backend: Backend, faults: FaultInjector, counters: Counters) -> Any:
    async def get_faults(_: Request) -> JSONResponse:
        return JSONResponse(faults.settings.as_dict())

    async def put_faults(request: Request) -> JSONResponse:
        try:
            faults.settings.update(json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(faults.settings.as_dict())

    async def get_counters(_: Request) -> JSONResponse:
        return JSONResponse(counters.snapshot())

    async def get_stock(_: Request) -> JSONResponse:
        with backend.lock:
            rows = [backend.values(i, loc) for (i, loc) in sorted(backend.s.inventory)]
        return JSONResponse(rows)

    endpoint = HeartlandEndpoint(backend, faults, counters)
    control = [
        Route("/faults", get_faults, methods=["GET"]),
        Route("/faults", put_faults, methods=["PUT", "POST"]),
        Route("/counters", get_counters, methods=["GET"]),
        Route("/stock", get_stock, methods=["GET"]),
    ]
    return Starlette(
        routes=[
            Mount("/_sandbox", routes=control),
            Route("/api", endpoint, methods=None),
            Route("/api/{rest:path}", endpoint, methods=None),
        ]
    )
