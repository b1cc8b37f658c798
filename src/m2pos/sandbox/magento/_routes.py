"""Magento REST routing and the request flow of ``Webapi\\Controller\\Rest``.

Order of checks, as in Magento: the path (with its optional store code) must match a route, else 404
"Request does not match any route." (an unknown store code is just part of an unmatched path); then
the caller must be allowed the route's ACL resources (401); then a GET on store code ``all`` is refused
(400); then the body/query is converted to service arguments (400 on bad input); then the service.
Path variables are matched on the *raw* path and ``urldecode``-d afterwards, so ``ABC%2F10`` is one
segment whose value is ``ABC/10``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import orjson

from m2pos.sandbox.magento import _oauth
from m2pos.sandbox.magento._backend import Backend
from m2pos.sandbox.magento._errors import (
    MagentoError,
    bad_request,
    internal_error,
    invalid_type,
    no_route,
    not_authorized,
    required_fields,
)
from m2pos.sandbox.magento._fields import apply_fields
from m2pos.sandbox.magento._search import check_array_limit, parse_criteria, parse_php_query
from m2pos.sandbox.magento._store import CREDITMEMOS, INVOICES

SALES = ("Magento_Sales::sales",)
ANONYMOUS = ("anonymous",)


@dataclass
class Call:
    """One REST call, already routed."""

    backend: Backend
    params: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]
    store_code: str


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    acl: tuple[str, ...]
    handler: Handler
    parts: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.template.strip("/").split("/")))

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@dataclass
class Resolved:
    route: Route | None
    key: str
    store_code: str
    params: dict[str, str]


# -- argument helpers ------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _normalise(value: Any) -> Any:
    """Nested data-object keys: Magento maps ``orderItemId`` and ``order_item_id`` to one setter."""
    if isinstance(value, dict):
        return {_snake(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def arg(body: dict[str, Any], name: str) -> Any:
    """A top-level service argument, given in camelCase or snake_case."""
    if name in body:
        return body[name]
    return body.get(_snake(name))


def _int_param(value: str) -> int:
    if not re.fullmatch(r"\s*[-+]?\d+(\.0*)?\s*", value):
        raise invalid_type(value, "int")
    number = int(float(value))
    return number


def _id(call: Call, name: str = "id") -> int:
    value = _int_param(call.params[name])
    if value == 0:
        raise bad_request("An ID is needed. Set the ID and try again.")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false")
    return bool(value)


def _items(call: Call, raw: Any, type_name: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid_type(raw, f"{type_name}[]")
    check_array_limit(raw, type_name, call.backend.config.limits())
    items = []
    for entry in _normalise(raw):
        missing = [n for n in ("order_item_id", "qty") if not isinstance(entry, dict) or entry.get(n) is None]
        if missing:
            raise required_fields(missing)
        items.append(entry)
    return items


# -- handlers ----------------------------------------------------------------------------------------


def _search(kind: str) -> Handler:
    def handler(call: Call) -> Any:
        criteria = parse_criteria(call.query, call.backend.config.limits())
        return call.backend.search(kind, criteria)

    return handler


def get_order(call: Call) -> Any:
    return call.backend.get_order(_id(call))


def get_invoice(call: Call) -> Any:
    return call.backend.get_document(INVOICES, _id(call))


def get_creditmemo(call: Call) -> Any:
    return call.backend.get_document(CREDITMEMOS, _id(call))


def get_comments(call: Call) -> Any:
    return call.backend.order_comments(_int_param(call.params["id"]))


def post_comment(call: Call) -> Any:
    history = arg(call.body, "statusHistory")
    if not isinstance(history, dict):
        raise required_fields(["statusHistory"])
    return call.backend.add_comment(_id(call), _normalise(history))


def cancel_order(call: Call) -> Any:
    return call.backend.cancel(_id(call))


def hold_order(call: Call) -> Any:
    return call.backend.hold(_id(call))


def unhold_order(call: Call) -> Any:
    return call.backend.unhold(_id(call))


def invoice_order(call: Call) -> Any:
    body = call.body
    items = _items(call, arg(body, "items"), "\\Magento\\Sales\\Api\\Data\\InvoiceItemCreationInterface")
    comment = arg(body, "comment")
    request = {
        "items": items,
        "capture": _bool(arg(body, "capture")),
        "notify": _bool(arg(body, "notify")),
        "append_comment": _bool(arg(body, "appendComment")),
        "comment": _normalise(comment) if isinstance(comment, dict) else None,
    }
    return call.backend.invoice(_id(call, "orderId"), request)


def refund_order(call: Call) -> Any:
    body = call.body
    items = _items(call, arg(body, "items"), "\\Magento\\Sales\\Api\\Data\\CreditmemoItemCreationInterface")
    comment = arg(body, "comment")
    arguments = arg(body, "arguments")
    request = {
        "items": items,
        "notify": _bool(arg(body, "notify")),
        "append_comment": _bool(arg(body, "appendComment")),
        "comment": _normalise(comment) if isinstance(comment, dict) else None,
        "arguments": _normalise(arguments) if isinstance(arguments, dict) else None,
    }
    return call.backend.refund(_id(call, "orderId"), request)


def save_source_items(call: Call) -> Any:
    items = arg(call.body, "sourceItems")
    if not isinstance(items, list):
        raise required_fields(["sourceItems"])
    check_array_limit(
        items, "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface", call.backend.config.limits()
    )
    call.backend.save_source_items([i if isinstance(i, dict) else {} for i in _normalise(items)])
    return []  # the interface returns void, rendered as []


def update_stock_item(call: Call) -> Any:
    stock_item = arg(call.body, "stockItem")
    if not isinstance(stock_item, dict):
        raise required_fields(["stockItem"])
    return call.backend.update_stock_item(call.params["productSku"], _normalise(stock_item))


def admin_token(call: Call) -> Any:
    backend = call.backend
    username, password = arg(call.body, "username"), arg(call.body, "password")
    missing = [n for n, v in (("username", username), ("password", password)) if v is None]
    if missing:
        raise required_fields(missing)
    creds = backend.credentials
    if username != creds.admin_username or password != creds.admin_password:
        raise MagentoError(
            401,
            "The account sign-in was incorrect or your account is disabled temporarily. "
            "Please wait and try again later.",
        )
    if backend.config.two_factor_auth:
        # Magento_TwoFactorAuth's AdminTokenServicePlugin: credentials valid, then this (401 in the copy
        # we follow; another copy throws a LocalizedException, i.e. 400).
        raise MagentoError(
            401,
            "Please use the 2fa provider-specific endpoints to obtain a token.",
            {"active_providers": ["google"]},
        )
    return backend.admin_tokens.issue(str(username), backend.clock.timestamp())


ROUTES: tuple[Route, ...] = (
    Route("GET", "/V1/orders", SALES, _search("orders")),
    Route("GET", "/V1/orders/{id}", SALES, get_order),
    Route("GET", "/V1/orders/{id}/comments", SALES, get_comments),
    Route("POST", "/V1/orders/{id}/comments", SALES, post_comment),
    Route("POST", "/V1/orders/{id}/cancel", SALES, cancel_order),
    Route("POST", "/V1/orders/{id}/hold", SALES, hold_order),
    Route("POST", "/V1/orders/{id}/unhold", SALES, unhold_order),
    Route("POST", "/V1/order/{orderId}/invoice", SALES, invoice_order),
    Route("GET", "/V1/invoices", SALES, _search("invoices")),
    Route("GET", "/V1/invoices/{id}", SALES, get_invoice),
    Route("GET", "/V1/creditmemos", SALES, _search("creditmemos")),
    Route("GET", "/V1/creditmemo/{id}", SALES, get_creditmemo),
    Route("POST", "/V1/order/{orderId}/refund", SALES, refund_order),
    Route("GET", "/V1/products", ("Magento_Catalog::products",), _search("products")),
    Route("GET", "/V1/inventory/source-items", ("Magento_InventoryApi::source",), _search("source_items")),
    Route(
        "POST",
        "/V1/inventory/source-items",
        ("Magento_InventoryApi::stock_source_item_assign",),
        save_source_items,
    ),
    Route(
        "PUT",
        "/V1/products/{productSku}/stockItems/{itemId}",
        ("Magento_CatalogInventory::cataloginventory",),
        update_stock_item,
    ),
    Route(
        "GET",
        "/V1/stockItems/{productSku}",
        ("Magento_CatalogInventory::cataloginventory",),
        lambda call: call.backend.get_stock_item(call.params["productSku"]),
    ),
    Route(
        "GET", "/V1/store/storeViews", ("Magento_Backend::store",), lambda call: call.backend.store_views()
    ),
    Route("POST", "/V1/integration/admin/token", ANONYMOUS, admin_token),
)


def resolve(method: str, raw_path: str, store_codes: set[str]) -> Resolved:
    """Split ``/rest/[store]/V1/...`` like ``Webapi\\Controller\\PathProcessor`` and match a route."""
    segments = raw_path.split("?", 1)[0].strip("/").split("/")[1:]  # drop "rest"
    store = "default"
    if segments and (segments[0] in store_codes or segments[0] == "all"):
        store = segments[0]
        segments = segments[1:]
    segments = [s for s in segments if s != ""] or [""]
    for route in ROUTES:
        if route.method != method or len(route.parts) != len(segments):
            continue
        params: dict[str, str] = {}
        for pattern, value in zip(route.parts, segments, strict=True):
            if pattern.startswith("{"):
                params[pattern[1:-1]] = unquote_plus(value)
            elif pattern != value:
                break
        else:
            return Resolved(route, route.key, store, params)
    return Resolved(None, f"{method} (unmatched)", store, {})


# -- the request flow --------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    raw_path: str
    raw_query: str
    scheme: str
    host: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class Response:
    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return orjson.dumps(self.payload)


def _authenticate(backend: Backend, req: Request, route: Route) -> None:
    if route.acl == ANONYMOUS:
        return
    header = req.headers.get("authorization", "")
    cfg = backend.config
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
        if backend.admin_tokens.valid(token, backend.clock.timestamp()):
            return
        if token == backend.credentials.access_token and cfg.allow_integration_bearer:
            return
        raise not_authorized(route.acl)
    if _oauth.parse_authorization(header) is not None:
        _oauth.verify(
            authorization=header,
            method=req.method,
            scheme=req.scheme,
            host=req.host,
            raw_path=req.raw_path.split("?", 1)[0],
            raw_query=req.raw_query,
            credentials=backend.credentials,
            server_time=backend.clock.timestamp(),
            nonces=backend.nonces,
            signature_methods=backend.signature_methods,
            decode_slash_in_path=cfg.oauth_encoded_slash_bug,
        )
        return
    raise not_authorized(route.acl)


def _parse_body(req: Request) -> dict[str, Any]:
    if req.method not in ("POST", "PUT") or not req.body.strip():
        return {}
    content_type = req.headers.get("content-type", "")
    if not content_type:
        raise bad_request("Content-Type header is empty.")
    media = content_type.split(";")[0].strip().lower()
    if media not in ("application/json", "text/json"):
        raise bad_request("Server cannot understand Content-Type HTTP header media type %1", [media])
    try:
        data = orjson.loads(req.body)
    except orjson.JSONDecodeError:
        raise bad_request("Decoding error.") from None
    return data if isinstance(data, dict) else {}


def process(backend: Backend, req: Request, resolved: Resolved) -> Response:
    """Run one Magento REST request synchronously (called in a worker thread)."""
    try:
        route = resolved.route
        if route is None:
            raise no_route()
        _authenticate(backend, req, route)
        if resolved.store_code == "all" and req.method == "GET":
            raise bad_request("Cannot perform GET operation with store code 'all'")
        call = Call(
            backend=backend,
            params=resolved.params,
            query=parse_php_query(parse_qsl(req.raw_query, keep_blank_values=True)),
            body=_parse_body(req),
            store_code=resolved.store_code,
        )
        result = route.handler(call)
        fields = call.query.get("fields")
        payload = apply_fields(result, fields if isinstance(fields, str) else None)
        return Response(200, payload)
    except MagentoError as err:
        body = err.body()
        if backend.config.developer_mode:
            body["trace"] = ""
        return Response(err.status, body, dict(err.headers))
    except Exception as exc:  # noqa: BLE001 - Magento masks unexpected errors as a 500 with a report id
        body = internal_error().body()
        if backend.config.developer_mode:
            body["message"] = f"{type(exc).__name__}: {exc}"
            body["trace"] = ""
        return Response(500, body)
