"""The X-Series sandbox's HTTP side: Bearer authentication, the request window, the routes of the
API (2.0 reads, legacy ``register_sales`` writes), the shared fault injection, and the control
interface under ``/_sandbox/`` (plain JSON, no auth, no window, no faults)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from m2pos.sandbox._faults import Counters, FaultInjector, FaultKind, Reply, run_with_faults
from m2pos.sandbox.lightspeed_xseries._backend import Backend, XSeriesError
from m2pos.sandbox.lightspeed_xseries._window import RequestWindow

JSON = "application/json"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, orjson.dumps(body, default=_default), [("Content-Type", JSON), *(headers or [])])


def _fault_reply(kind: FaultKind) -> Reply:
    if kind == "rate_limit":
        return _json(429, {"error": "Too Many Requests"})
    if kind == "timeout":
        return _json(504, {"error": "Gateway Timeout"})
    return _json(500, {"error": "Internal Server Error"})


Handler = Callable[[Backend, dict[str, list[str]], dict[str, Any], dict[str, str]], Any]

_ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = []


def _route(method: str, template: str) -> Callable[[Handler], Handler]:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, pattern, f"{method} {template}", handler))
        return handler

    return register


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query.get(name, [str(default)])[0])
    except ValueError:
        raise XSeriesError(400, "Bad Request", f"{name} must be an integer") from None


def _page(rows: list[dict[str, Any]]) -> dict[str, Any]:
    versions = [int(r["version"]) for r in rows]
    return {"data": rows, "version": {"min": min(versions), "max": max(versions)} if versions else None}


@_route("GET", "/api/2.0/outlets")
def _outlets(b: Backend, _q: Any, _body: Any, _p: Any) -> Any:
    return {"data": b.outlets()}


@_route("GET", "/api/2.0/registers")
def _registers(b: Backend, _q: Any, _body: Any, _p: Any) -> Any:
    return {"data": b.register_list()}


@_route("GET", "/api/2.0/taxes")
def _taxes(b: Backend, _q: Any, _body: Any, _p: Any) -> Any:
    return {"data": b.taxes}


@_route("GET", "/api/2.0/payment_types")
def _payment_types(b: Backend, _q: Any, _body: Any, _p: Any) -> Any:
    return {"data": b.payment_types}


@_route("GET", "/api/2.0/products")
def _products(b: Backend, q: dict[str, list[str]], _body: Any, _p: Any) -> Any:
    return _page(b.product_page(_int(q, "after", 0), min(_int(q, "page_size", 1000), 10_000)))


@_route("POST", "/api/2.0/products")
def _create_product(b: Backend, _q: Any, body: dict[str, Any], _p: Any) -> Any:
    return {"data": b.create_product(body)}


@_route("GET", "/api/2.0/inventory")
def _inventory(b: Backend, q: dict[str, list[str]], _body: Any, _p: Any) -> Any:
    return _page(b.inventory_page(_int(q, "after", 0), min(_int(q, "page_size", 1000), 10_000)))


@_route("GET", "/api/2.0/search")
def _search(b: Backend, q: dict[str, list[str]], _body: Any, _p: Any) -> Any:
    kind = q.get("type", [""])[0]
    if kind == "customers" and "email" in q:
        return {"data": b.search_customers(q["email"][0])}
    if kind == "sales" and "invoice_number" in q:
        return {"data": b.search_sales(q["invoice_number"][0])}
    raise XSeriesError(
        400, "Bad Request", "unsupported search (type=customers&email=, type=sales&invoice_number=)"
    )


@_route("POST", "/api/2.0/customers")
def _create_customer(b: Backend, _q: Any, body: dict[str, Any], _p: Any) -> Any:
    return {"data": b.create_customer(body)}


@_route("GET", "/api/2.0/customers/{id}")
def _customer(b: Backend, _q: Any, _body: Any, p: dict[str, str]) -> Any:
    return {"data": b.customer(p["id"])}


@_route("PUT", "/api/2.0/customers/{id}")
def _update_customer(b: Backend, _q: Any, body: dict[str, Any], p: dict[str, str]) -> Any:
    return {"data": b.update_customer(p["id"], body)}


@_route("GET", "/api/2.0/sales/{id}")
def _sale(b: Backend, _q: Any, _body: Any, p: dict[str, str]) -> Any:
    return {"data": b.sale(p["id"])}


@_route("POST", "/api/register_sales")
def _register_sale(b: Backend, _q: Any, body: dict[str, Any], _p: Any) -> Any:
    return {"register_sale": b.save_sale(body)}


def route_key(method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
    for m, pattern, key, handler in _ROUTES:
        match = pattern.match(path)
        if match and m == method:
            return key, handler, match.groupdict()
    return f"{method} {path}", None, {}


class XSeriesEndpoint:
    def __init__(
        self,
        backend: Backend,
        tokens: Callable[[], set[str]],
        window: RequestWindow,
        faults: FaultInjector,
        counters: Counters,
    ) -> None:
        self.backend = backend
        self.tokens = tokens
        self.window = window
        self.faults = faults
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].upper()
        key, handler, params = route_key(method, scope["path"])
        self.counters.hit(key)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))

        async def handle(raw: bytes) -> Reply:
            auth = headers.get("authorization", "")
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if token not in self.tokens():
                return _json(401, {"error": "Unauthorized", "details": "a valid Bearer token is required"})
            allowed, limit_headers = self.window.take()
            if not allowed:
                return _json(429, {"error": "Too Many Requests"}, limit_headers)
            if handler is None:
                return _json(404, {"error": "Not Found"}, limit_headers)
            try:
                body = orjson.loads(raw) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise XSeriesError(400, "Bad Request", "the body must be a JSON object")
                result = await run_in_threadpool(handler, self.backend, query, body, params)
            except orjson.JSONDecodeError:
                return _json(400, {"error": "Bad Request", "details": "the body is not JSON"}, limit_headers)
            except XSeriesError as error:
                return _json(error.status, error.body, limit_headers)
            return _json(201 if method == "POST" else 200, result, limit_headers)

        await run_with_faults(
            receive,
            send,
            key=key,
            injector=self.faults,
            counters=self.counters,
            fault_reply=_fault_reply,
            handle=handle,
        )


def control_routes(control: Any) -> list[Route]:
    async def call(request: Request) -> Response:
        name = request.path_params["name"]
        method = getattr(control, name, None)
        if name.startswith("_") or method is None or not callable(method):
            return Response(orjson.dumps({"error": f"no control {name}"}), 404, media_type=JSON)
        raw = await request.body()
        kwargs = orjson.loads(raw) if raw.strip() else {}
        try:
            result = await run_in_threadpool(method, **kwargs)
        except (XSeriesError, KeyError, TypeError, ValueError) as error:
            return Response(orjson.dumps({"error": str(error)}), 400, media_type=JSON)
        return Response(orjson.dumps(result, default=_default), media_type=JSON)

    return [Route("/{name}", call, methods=["GET", "POST"])]


def build_app(endpoint: XSeriesEndpoint, control: Any) -> Any:
    return Starlette(
        routes=[
            Mount("/_sandbox", routes=control_routes(control)),
            Route("/api/{rest:path}", endpoint, methods=None),
        ]
    )
