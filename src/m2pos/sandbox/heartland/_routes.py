"""The Heartland Retail API routes over the backend: Bearer auth, a per-second request limit, the
``_filter`` JSON query, paged list envelopes and Heartland's JSON error bodies."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from m2pos.sandbox.heartland._backend import Backend, HeartlandError

Handler = Callable[[Backend, dict[str, str], dict[str, list[str]], Any], Any]


@dataclass(frozen=True)
class Resolved:
    key: str  # "METHOD /template", for counters and fault routes
    handler: Handler | None
    params: dict[str, str]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def dumps(data: Any) -> bytes:
    return json.dumps(data, default=_json_default).encode()


# -- filters and lists --------------------------------------------------------------------------


def _field(record: dict[str, Any], name: str) -> Any:
    if name.startswith("custom@"):
        return (record.get("custom") or {}).get(name[len("custom@") :])
    return record.get(name)


def _equal(have: Any, want: Any) -> bool:
    if isinstance(have, str) and isinstance(want, str):
        return have.casefold() == want.casefold()
    return str(have) == str(want) if have is not None else want is None


def _matches(record: dict[str, Any], flt: dict[str, Any]) -> bool:
    for name, cond in flt.items():
        have = _field(record, name)
        if isinstance(cond, dict):
            for op, value in cond.items():
                if op == "$in":
                    if not isinstance(value, list) or not any(_equal(have, v) for v in value):
                        return False
                elif op == "$neq":
                    if _equal(have, value):
                        return False
                else:
                    raise HeartlandError(400, f"Unsupported filter operator {op}")
        elif not _equal(have, cond):
            return False
    return True


def _filter(query: dict[str, list[str]]) -> dict[str, Any]:
    raw = (query.get("_filter") or ["{}"])[0]
    try:
        flt = json.loads(raw)
    except ValueError:
        raise HeartlandError(400, "_filter must be JSON") from None
    if not isinstance(flt, dict):
        raise HeartlandError(400, "_filter must be a JSON object")
    return flt


def listing(records: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    flt = _filter(query)
    found = [r for r in records if _matches(r, flt)]
    try:
        per_page = max(1, min(100, int((query.get("per_page") or ["20"])[0])))
        page = max(1, int((query.get("page") or ["1"])[0]))
    except ValueError:
        raise HeartlandError(400, "page and per_page must be integers") from None
    pages = max(1, -(-len(found) // per_page))
    return {
        "total": len(found),
        "pages": pages,
        "per_page": per_page,
        "page": page,
        "results": found[(page - 1) * per_page : page * per_page],
    }


# -- handlers -----------------------------------------------------------------------------------


def _obj(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise HeartlandError(400, "The request body must be a JSON object")
    return body


def _n(p: dict[str, str], name: str = "id") -> int:
    return int(p[name])


def _inventory(b: Backend, q: dict[str, list[str]]) -> dict[str, Any]:
    groups = q.get("group[]", [])
    if sorted(groups) != ["item_id", "location_id"]:
        raise HeartlandError(400, "group[] must be item_id and location_id")
    with b.lock:
        rows = [b.values(i, loc) for (i, loc) in sorted(b.s.inventory)]
    return listing(rows, q)


def _rows(table: Callable[[Backend], dict[int, dict[str, Any]]]) -> Handler:
    def handler(b: Backend, p: dict[str, str], q: dict[str, list[str]], body: Any) -> Any:
        with b.lock:
            return listing([dict(r) for r in table(b).values()], q)

    return handler


def _orders(b: Backend, p: dict[str, str], q: dict[str, list[str]], body: Any) -> Any:
    with b.lock:
        return listing([b.render_order(o) for o in b.s.orders.values()], q)


def _tickets(b: Backend, p: dict[str, str], q: dict[str, list[str]], body: Any) -> Any:
    with b.lock:
        return listing([b.ticket(t) for t in b.s.tickets], q)


def _one(table: Callable[[Backend], dict[int, dict[str, Any]]], what: str) -> Handler:
    def handler(b: Backend, p: dict[str, str], q: dict[str, list[str]], body: Any) -> Any:
        with b.lock:
            return dict(b._get(table(b), _n(p), what))

    return handler


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/api/locations", _rows(lambda b: b.s.locations)),
    ("GET", "/api/shipping_methods", _rows(lambda b: b.s.shipping_methods)),
    ("GET", "/api/payment_types", _rows(lambda b: b.s.payment_types)),
    ("GET", "/api/customers", _rows(lambda b: b.s.customers)),
    ("POST", "/api/customers", lambda b, p, q, body: b.create_customer(_obj(body))),
    ("GET", "/api/customers/{id}", _one(lambda b: b.s.customers, "customer")),
    ("PUT", "/api/customers/{id}", lambda b, p, q, body: b.update_customer(_n(p), _obj(body))),
    ("GET", "/api/items", _rows(lambda b: b.s.items)),
    ("POST", "/api/items", lambda b, p, q, body: b.create_item(_obj(body))),
    ("GET", "/api/items/{id}", _one(lambda b: b.s.items, "item")),
    ("PUT", "/api/items/{id}", lambda b, p, q, body: b.update_item(_n(p), _obj(body))),
    ("GET", "/api/inventory/values", lambda b, p, q, body: _inventory(b, q)),
    ("GET", "/api/sales/orders", _orders),
    ("POST", "/api/sales/orders", lambda b, p, q, body: b.create_order(_obj(body))),
    ("GET", "/api/sales/orders/{id}", lambda b, p, q, body: b.order(_n(p))),
    ("PUT", "/api/sales/orders/{id}", lambda b, p, q, body: b.update_order(_n(p), _obj(body))),
    ("POST", "/api/sales/orders/{id}/lines", lambda b, p, q, body: b.add_line(_n(p), _obj(body))),
    (
        "PUT",
        "/api/sales/orders/{id}/lines/{line}",
        lambda b, p, q, body: b.set_line_qty(_n(p), _n(p, "line"), _obj(body)),
    ),
    (
        "DELETE",
        "/api/sales/orders/{id}/lines/{line}",
        lambda b, p, q, body: b.delete_line(_n(p), _n(p, "line")),
    ),
    (
        "PUT",
        "/api/sales/orders/{id}/lines/{line}/distributions",
        lambda b, p, q, body: b.distribute(_n(p), _n(p, "line"), body),
    ),
    ("POST", "/api/sales/orders/{id}/shipping", lambda b, p, q, body: b.set_shipping(_n(p), _obj(body))),
    ("POST", "/api/sales/orders/{id}/payments", lambda b, p, q, body: b.add_payment(_n(p), _obj(body))),
    ("GET", "/api/sales/invoices", _rows(lambda b: b.s.invoices)),
    ("POST", "/api/sales/invoices", lambda b, p, q, body: b.invoice(_obj(body))),
    ("GET", "/api/sales/tickets", _tickets),
    ("POST", "/api/sales/tickets", lambda b, p, q, body: b.create_ticket(_obj(body))),
    ("GET", "/api/sales/tickets/{id}", lambda b, p, q, body: b.ticket(_n(p))),
    ("PUT", "/api/sales/tickets/{id}", lambda b, p, q, body: b.update_ticket(_n(p), _obj(body))),
    ("POST", "/api/sales/tickets/{id}/lines", lambda b, p, q, body: b.add_ticket_line(_n(p), _obj(body))),
]


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", template) + "/?$")


_COMPILED = [(m, t, _compile(t), h) for m, t, h in ROUTES]


def resolve(method: str, path: str) -> Resolved:
    known_path = False
    for m, template, pattern, handler in _COMPILED:
        found = pattern.match(path)
        if found:
            known_path = True
            if m == method:
                return Resolved(f"{method} {template}", handler, found.groupdict())
    return Resolved(f"{method} {path if known_path else '(unknown)'}", None, {})


class RateLimit:
    """A fixed one-second window per token [U: Heartland does not publish its limits]."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = 0
        self._count = 0

    def allow(self, limit: int) -> bool:
        if limit <= 0:
            return True
        with self._lock:
            now = int(time.monotonic())
            if now != self._window:
                self._window, self._count = now, 0
            self._count += 1
            return self._count <= limit


def process(
    backend: Backend, limiter: RateLimit, resolved: Resolved, headers: dict[str, str], query: str, body: bytes
) -> tuple[int, Any]:
    """(status, JSON body) of one API request."""
    try:
        auth = headers.get("authorization", "")
        token = backend.config.token
        if auth not in (f"Bearer {token}", f"Token token={token}"):
            raise HeartlandError(401, "Invalid or missing API token (Authorization: Bearer <token>)")
        if not limiter.allow(backend.config.rate_limit_per_second):
            return 429, {"error": "too_many_requests", "message": "Rate limit exceeded; retry later"}
        if resolved.handler is None:
            if "(unknown)" in resolved.key:
                raise HeartlandError(404, "No such API route")
            return 405, {"error": "method_not_allowed", "message": "Method not allowed"}
        data: Any = None
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise HeartlandError(400, "The request body is not valid JSON") from None
        result = resolved.handler(backend, resolved.params, parse_qs(query), data)
        method = resolved.key.split(" ", 1)[0]
        if method == "DELETE":
            return 204, None
        return (201 if method == "POST" else 200), result
    except HeartlandError as error:
        return error.status, error.body()
    except (ValueError, TypeError, KeyError) as error:
        return 400, {"error": "bad_request", "message": str(error)}
