"""OnSite Server API routing and request flow, and the XML bodies each route accepts.

Order of checks: authentication (the three headers: 401/403), then the session (cookie or a new one;
no seat: 403), then the route (404; a GET without the trailing slash: 301 to the slashed URI; a
method the route lacks: 405), then the lock an edit needs (409 not locked, 423 locked by another
session), then the body (415 for a non-XML content type, 400 for bad XML or values), then the
operation. The guesses among these are listed in ``docs/sandbox-onsite.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from m2pos.sandbox.onsite import _render as render
from m2pos.sandbox.onsite._backend import Backend, Page
from m2pos.sandbox.onsite._credentials import OnSiteCredentials
from m2pos.sandbox.onsite._errors import OnSiteError, bad_request, not_found
from m2pos.sandbox.onsite._sessions import COOKIE, Session, Sessions, authenticate
from m2pos.sandbox.onsite._xml import (
    Element,
    bool_at,
    bool_value,
    decimal_at,
    decimal_value,
    element,
    parse_body,
    ref_id,
    sub,
    text,
    to_bytes,
)

log = logging.getLogger(__name__)

XML_TYPE = "application/xml; charset=utf-8"
LOGOUT = "/api/sessions/current/logout/"


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    scheme: str
    host: str


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = XML_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)

    def all_headers(self) -> list[tuple[str, str]]:
        out = [("content-type", self.content_type)] if self.content_type and self.body else []
        return out + self.headers


@dataclass
class Call:
    backend: Backend
    sessions: Sessions
    session: Session
    urls: render.Urls
    params: dict[str, int]
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    method: str


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    template: str
    handlers: dict[str, Handler]
    parts: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(p for p in self.template.split("/") if p))

    def key(self, method: str) -> str:
        return f"{method} {self.template}"

    def match(self, segments: list[str]) -> dict[str, int] | None:
        if len(segments) != len(self.parts):
            return None
        params: dict[str, int] = {}
        for want, got in zip(self.parts, segments, strict=True):
            if want.startswith("{"):
                if not got.isdigit():
                    return None
                params[want[1:-1]] = int(got)
            elif want != got:
                return None
        return params


# -- responses ---------------------------------------------------------------------------------------


def xml(status: int, root: Element, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, to_bytes(root), XML_TYPE, headers or [])


def no_content() -> Response:
    return Response(204, b"", None)


def error_response(err: OnSiteError) -> Response:
    headers = list(err.headers.items())
    if err.plain:
        return Response(err.status, f"{err.message}\n".encode(), "text/plain; charset=utf-8", headers)
    root = element("error")
    sub(root, "status", str(err.status))
    sub(root, "message", err.message)
    return Response(err.status, to_bytes(root), XML_TYPE, headers)


def created(urls: render.Urls, root: Element, uri_parts: tuple[Any, ...]) -> Response:
    return xml(201, root, [("Location", urls.of(*uri_parts))])


# -- query and body parsing --------------------------------------------------------------------------


def _int_param(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise bad_request(f"{name} must be a non-negative integer, got {raw!r}.")
    return int(raw)


def _listing(call: Call) -> tuple[str, str, int | None, int]:
    return (
        call.query.get("filter", ""),
        call.query.get("order_by", ""),
        _int_param(call, "count"),
        _int_param(call, "offset") or 0,
    )


def _body(call: Call, root: str | tuple[str, ...]) -> Element:
    ctype = call.headers.get("content-type", "").lower()
    if ctype and "xml" not in ctype:
        raise OnSiteError(415, f"Unsupported Media Type {ctype!r}: send text/xml or application/xml.")
    return parse_body(call.body, root)


def _texts(el: Element, names: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    out = {}
    for name in names:
        value = text(el, f"{prefix}{name}")
        if value is not None:
            out[name] = value
    return out


def _address(el: Element, tag: str) -> dict[str, str] | None:
    node = el.find(tag)
    if node is None:
        return None
    return _texts(node, ("address1", "address2", "city", "state", "zip", "country"))


def parse_customer(el: Element) -> dict[str, Any]:
    data: dict[str, Any] = _texts(el, ("first", "last"), "name/")
    data |= _texts(el, ("company", "email", "phone", "mobile", "notes"))
    for tag in ("billing_address", "shipping_address"):
        address = _address(el, tag)
        if address is not None:
            data[tag] = address
    return data


PRODUCT_FLAGS = ("inventoried", "editable_sell", "master_model", "current", "web", "taxable")


def parse_product(el: Element) -> dict[str, Any]:
    data: dict[str, Any] = _texts(el, ("code", "upc", "manufacturer_sku", "description", "long_description"))
    for name in ("sell_price", "cost"):
        value = decimal_at(el, name)
        if value is not None:
            data[name] = value
    flags = {}
    for name in PRODUCT_FLAGS:
        flag = bool_at(el, f"flags/{name}")
        if flag is not None:
            flags[name] = flag
    if flags:
        data["flags"] = flags
    return data


def parse_document(el: Element, kind: str, creating: bool) -> dict[str, Any]:
    for nested in ("lineitems", "payments"):
        node = el.find(nested)
        if node is not None and len(node):
            raise bad_request(
                f"<{nested}> cannot be sent with the {kind}; POST each one to /api/{kind}s/{{id}}/{nested}/."
            )
    data: dict[str, Any] = {}
    block = el.find(f"{kind}_customer")
    if block is not None:
        customer = block.find("customer")
        if customer is not None:
            data["customer_id"] = ref_id(customer, f"{kind}_customer/customer")
        data |= _texts(
            block, ("mainname", "phone_email", "phone", "mainphone", "zip", "contact", "contact_info", "po")
        )
        discount = decimal_at(block, "discount")
        if discount is not None:
            data["discount"] = discount
    data |= _texts(el, ("import_id", "printed_notes", "internal_notes", "shipping_method"))
    if kind == "order":
        data |= _texts(el, ("web_order_number", "status"))
    tax = el.find("tax_code")
    if tax is not None:
        data["tax_code_id"] = ref_id(tax, "tax_code")
    if kind == "invoice":
        returned = el.find("returned_invoice")
        if returned is not None:
            data["returned_invoice_id"] = ref_id(returned.find("invoice"), "returned_invoice") or ref_id(
                returned, "returned_invoice"
            )
    if not creating:
        voided = bool_at(el, "flags/voided")
        if voided is not None:
            data["voided"] = voided
    return data


def parse_line(el: Element, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    product = el.find("lineitem_product/product")
    if product is None:
        product = el.find("product")
    if product is not None:
        data["product_id"] = ref_id(product, "lineitem_product/product")
    for name in ("quantity", "sell_price"):
        value = decimal_at(el, name)
        if value is not None:
            data[name] = value
    description = text(el, "lineitem_product/description")
    if description is None:
        description = text(el, "description")
    if description is not None:
        data["description"] = description
    if kind == "order":
        raw = text(el, "reserved")
        if raw is not None and raw != "":
            low = raw.lower()
            data["reserved"] = (
                bool_value(raw, "reserved")
                if low in ("true", "false", "yes", "no")
                else decimal_value(raw, "reserved")
            )
    return data


def parse_payment(el: Element) -> dict[str, Any]:
    data: dict[str, Any] = _texts(el, ("number", "authcode"))
    node = el.find("payment_method")
    if node is not None:
        method_id = ref_id(node, "payment_method") if (node.get("id") or node.get("uri")) else None
        if method_id is not None:
            data["payment_method"] = method_id
        else:
            name = text(node, "name")
            data["payment_method"] = name if name is not None else (node.text or "").strip()
    for name in ("amount", "tendered"):
        value = decimal_at(el, name)
        if value is not None:
            data[name] = value
    return data


# -- handlers ----------------------------------------------------------------------------------------


def _list(
    call: Call, tag: str, page: Page, render_item: Callable[[render.Urls, dict[str, Any], bool], Element]
) -> Response:
    return xml(
        200, render.collection(tag, page.total, [render_item(call.urls, item, False) for item in page.items])
    )


def root(_call: Call) -> Response:
    return xml(200, element("resources"))


def logout(call: Call) -> Response:
    call.sessions.close(call.session.id)
    response = no_content()
    response.headers.append(("Set-Cookie", f"{COOKIE}=; Max-Age=0; Path=/"))
    return response


def _lock_handlers(resource: str, exists: Callable[[Call], Any]) -> dict[str, Handler]:
    def lock(call: Call) -> Response:
        exists(call)
        call.sessions.lock(f"{resource}/{call.params['id']}", call.session.id)
        return no_content()

    def unlock(call: Call) -> Response:
        exists(call)
        call.sessions.unlock(f"{resource}/{call.params['id']}", call.session.id)
        return no_content()

    return {"LOCK": lock, "UNLOCK": unlock}


def _require_lock(call: Call, resource: str, ident: int) -> None:
    call.sessions.require(f"{resource}/{ident}", call.session.id)


# customers


def customers_list(call: Call) -> Response:
    return _list(call, "customers", call.backend.list_customers(*_listing(call)), render.customer)


def customers_create(call: Call) -> Response:
    cid = call.backend.create_customer(parse_customer(_body(call, "customer")))
    return created(call.urls, render.customer(call.urls, call.backend.get_customer(cid)), ("customers", cid))


def customer_get(call: Call) -> Response:
    return xml(200, render.customer(call.urls, call.backend.get_customer(call.params["id"])))


def customer_put(call: Call) -> Response:
    cid = call.params["id"]
    call.backend.get_customer(cid)
    _require_lock(call, "customers", cid)
    call.backend.update_customer(cid, parse_customer(_body(call, "customer")))
    return xml(200, render.customer(call.urls, call.backend.get_customer(cid)))


# products and inventory


def products_list(call: Call) -> Response:
    return _list(call, "products", call.backend.list_products(*_listing(call)), render.product)


def products_create(call: Call) -> Response:
    pid = call.backend.create_product(parse_product(_body(call, "product")))
    return created(call.urls, render.product(call.urls, call.backend.get_product(pid)), ("products", pid))


def product_get(call: Call) -> Response:
    return xml(200, render.product(call.urls, call.backend.get_product(call.params["id"])))


def product_put(call: Call) -> Response:
    pid = call.params["id"]
    call.backend.get_product(pid)
    _require_lock(call, "products", pid)
    call.backend.update_product(pid, parse_product(_body(call, "product")))
    return xml(200, render.product(call.urls, call.backend.get_product(pid)))


def inventory_list(call: Call) -> Response:
    return _list(call, "product_inventories", call.backend.list_inventory(*_listing(call)), render.inventory)


def inventory_get(call: Call) -> Response:
    return xml(200, render.inventory(call.urls, call.backend.get_inventory(call.params["id"])))


def inventory_adjust(call: Call) -> Response:
    pid = call.params["id"]
    call.backend.get_inventory(pid)
    el = _body(call, "adjustment")
    quantity = decimal_at(el, "quantity")
    if quantity is None:
        raise bad_request("adjustment/quantity is required.")
    note = text(el, "note") or ""
    call.backend.adjust_inventory(pid, quantity, note)
    return xml(200, render.inventory(call.urls, call.backend.get_inventory(pid)))


# reference data


def tax_codes_list(call: Call) -> Response:
    return _list(call, "tax_codes", call.backend.list_simple("tax_codes", *_listing(call)), render.tax_code)


def tax_code_get(call: Call) -> Response:
    return xml(200, render.tax_code(call.urls, call.backend.tax_code(call.params["id"])))


def payment_methods_list(call: Call) -> Response:
    page = call.backend.list_simple("payment_methods", *_listing(call))
    return _list(call, "payment_methods", page, render.payment_method)


def payment_method_get(call: Call) -> Response:
    return xml(200, render.payment_method(call.urls, call.backend.payment_method(call.params["id"])))


# documents


def _document_handlers(kind: str) -> list[Route]:
    coll = f"{kind}s"
    base = f"/api/{coll}/"

    def listing(call: Call) -> Response:
        return _list(call, coll, call.backend.list_documents(kind, *_listing(call)), render.document)

    def create(call: Call) -> Response:
        doc_id = call.backend.create_document(kind, parse_document(_body(call, kind), kind, creating=True))
        return created(
            call.urls, render.document(call.urls, call.backend.get_document(kind, doc_id)), (coll, doc_id)
        )

    def get(call: Call) -> Response:
        return xml(200, render.document(call.urls, call.backend.get_document(kind, call.params["id"])))

    def put(call: Call) -> Response:
        doc_id = call.params["id"]
        call.backend.require_document(kind, doc_id)
        _require_lock(call, coll, doc_id)
        call.backend.update_document(kind, doc_id, parse_document(_body(call, kind), kind, creating=False))
        return xml(200, render.document(call.urls, call.backend.get_document(kind, doc_id)))

    def exists(call: Call) -> Any:
        return call.backend.require_document(kind, call.params["id"])

    def lines(call: Call) -> Response:
        items = call.backend.list_lines(kind, call.params["id"])
        page = Page(len(items), items)
        offset = _int_param(call, "offset") or 0
        count = _int_param(call, "count")
        page.items = items[offset : None if count is None else offset + count]
        return _list(call, "lineitems", page, render.lineitem)

    def line_add(call: Call) -> Response:
        doc_id = call.params["id"]
        call.backend.require_document(kind, doc_id)
        _require_lock(call, coll, doc_id)
        line_id = call.backend.add_line(kind, doc_id, parse_line(_body(call, "lineitem"), kind))
        line = call.backend.get_line(kind, doc_id, line_id)
        return created(call.urls, render.lineitem(call.urls, line), (coll, doc_id, "lineitems", line_id))

    def line_get(call: Call) -> Response:
        line = call.backend.get_line(kind, call.params["id"], call.params["lid"])
        return xml(200, render.lineitem(call.urls, line))

    def line_put(call: Call) -> Response:
        doc_id, line_id = call.params["id"], call.params["lid"]
        call.backend.get_line(kind, doc_id, line_id)
        _require_lock(call, coll, doc_id)
        call.backend.update_line(kind, doc_id, line_id, parse_line(_body(call, "lineitem"), kind))
        return xml(200, render.lineitem(call.urls, call.backend.get_line(kind, doc_id, line_id)))

    def line_delete(call: Call) -> Response:
        doc_id, line_id = call.params["id"], call.params["lid"]
        call.backend.get_line(kind, doc_id, line_id)
        _require_lock(call, coll, doc_id)
        call.backend.delete_line(kind, doc_id, line_id)
        return no_content()

    def payments(call: Call) -> Response:
        items = call.backend.list_payments(kind, call.params["id"])
        return _list(call, "payments", Page(len(items), items), render.payment)

    def payment_add(call: Call) -> Response:
        doc_id = call.params["id"]
        call.backend.require_document(kind, doc_id)
        _require_lock(call, coll, doc_id)
        pid = call.backend.add_payment(kind, doc_id, parse_payment(_body(call, "payment")))
        pay = call.backend.get_payment(kind, doc_id, pid)
        return created(call.urls, render.payment(call.urls, pay), (coll, doc_id, "payments", pid))

    def payment_get(call: Call) -> Response:
        pay = call.backend.get_payment(kind, call.params["id"], call.params["pid"])
        return xml(200, render.payment(call.urls, pay))

    payment_methods: dict[str, Handler] = {"GET": payments}
    if kind == "order":
        payment_methods["POST"] = payment_add
    return [
        Route(base, {"GET": listing, "POST": create}),
        Route(f"{base}{{id}}/", {"GET": get, "PUT": put, **_lock_handlers(coll, exists)}),
        Route(f"{base}{{id}}/lineitems/", {"GET": lines, "POST": line_add}),
        Route(f"{base}{{id}}/lineitems/{{lid}}/", {"GET": line_get, "PUT": line_put, "DELETE": line_delete}),
        Route(f"{base}{{id}}/payments/", payment_methods),
        Route(f"{base}{{id}}/payments/{{pid}}/", {"GET": payment_get}),
    ]


def _exists(getter: str) -> Callable[[Call], Any]:
    return lambda call: getattr(call.backend, getter)(call.params["id"])


ROUTES: list[Route] = [
    Route("/api/", {"GET": root}),
    Route(LOGOUT, {"POST": logout}),
    Route("/api/customers/", {"GET": customers_list, "POST": customers_create}),
    Route(
        "/api/customers/{id}/",
        {"GET": customer_get, "PUT": customer_put, **_lock_handlers("customers", _exists("get_customer"))},
    ),
    Route("/api/products/", {"GET": products_list, "POST": products_create}),
    Route(
        "/api/products/{id}/",
        {"GET": product_get, "PUT": product_put, **_lock_handlers("products", _exists("get_product"))},
    ),
    Route("/api/product_inventory/", {"GET": inventory_list}),
    Route("/api/product_inventory/{id}/", {"GET": inventory_get}),
    Route("/api/product_inventory/{id}/adjust_inventory/", {"POST": inventory_adjust}),
    *_document_handlers("order"),
    *_document_handlers("invoice"),
    Route("/api/tax_codes/", {"GET": tax_codes_list}),
    Route("/api/tax_codes/{id}/", {"GET": tax_code_get}),
    Route("/api/payment_methods/", {"GET": payment_methods_list}),
    Route("/api/payment_methods/{id}/", {"GET": payment_method_get}),
]


@dataclass
class Resolved:
    route: Route | None
    params: dict[str, int]
    key: str


def resolve(method: str, path: str) -> Resolved:
    segments = [s for s in path.split("/") if s]
    for route in ROUTES:
        params = route.match(segments)
        if params is not None and (path.endswith("/") or path == ""):
            return Resolved(route, params, route.key(method))
    return Resolved(None, {}, f"{method} (unmatched)")


def _cookie(headers: dict[str, str]) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a malformed Cookie header counts as none
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


@dataclass
class Server:
    """What a request needs: the data, the sessions, the accepted credentials."""

    backend: Backend
    sessions: Sessions
    credentials: OnSiteCredentials


def process(server: Server, req: Request, resolved: Resolved) -> Response:
    new_session: Session | None = None
    try:
        identity = authenticate(req.headers, server.credentials, server.backend.config.demo_app_enabled)
        session, is_new = server.sessions.resume_or_open(identity, _cookie(req.headers))
        new_session = session if is_new else None
        response = _dispatch(server, req, resolved, session)
    except OnSiteError as err:
        response = error_response(err)
    except Exception:
        log.exception("OnSite sandbox: unexpected error on %s %s", req.method, req.path)
        response = error_response(OnSiteError(500, "Internal Server Error"))
    logging_out = resolved.route is not None and resolved.route.template == LOGOUT
    if new_session is not None and not logging_out:
        secure = "; Secure" if req.scheme == "https" else ""
        response.headers.append(("Set-Cookie", f"{COOKIE}={new_session.id}; Path=/; HttpOnly{secure}"))
    return response


def _dispatch(server: Server, req: Request, resolved: Resolved, session: Session) -> Response:
    route = resolved.route
    if route is None:
        slashed = resolve(req.method, req.path + "/")
        if req.method in ("GET", "HEAD") and slashed.route is not None and not req.path.endswith("/"):
            location = f"{req.scheme}://{req.host}{req.path}/" + (f"?{req.query}" if req.query else "")
            return Response(301, b"", None, [("Location", location)])
        raise not_found(f"No resource at {req.path}.")
    handler = route.handlers.get(req.method)
    if handler is None:
        allowed = ", ".join(sorted(route.handlers))
        if route.template.endswith("/payments/") and req.method == "POST":
            message = "Payments cannot be applied to invoices through the API; apply them in Lightspeed."
        else:
            message = f"Method {req.method} is not allowed on {route.template} (allowed: {allowed})."
        raise OnSiteError(405, message, headers={"Allow": allowed})
    query = {k: v[-1] for k, v in parse_qs(req.query, keep_blank_values=True).items()}
    call = Call(
        backend=server.backend,
        sessions=server.sessions,
        session=session,
        urls=render.Urls(f"{req.scheme}://{req.host}/api/"),
        params=resolved.params,
        query=query,
        body=req.body,
        headers=req.headers,
        method=req.method,
    )
    return handler(call)


def route_keys() -> list[str]:
    return [route.key(m) for route in ROUTES for m in route.handlers]
