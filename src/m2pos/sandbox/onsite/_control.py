"""The OnSite sandbox's control interface: test set-up and inspection, in-process and over HTTP
(``/_sandbox/``).

It is separate from the emulated API: no OnSite authentication, no session, plain JSON, no faults or
latency. Over HTTP errors come back as ``{"error": ..., "status": ...}``. In process, quantities and
money are ``Decimal``; over HTTP they are JSON numbers. Products are named by code (a ``str``) or by
id (an ``int``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSwitches
from m2pos.sandbox.onsite._backend import OnSiteConfig
from m2pos.sandbox.onsite._errors import OnSiteError
from m2pos.sandbox.onsite._routes import Server, route_keys

Product = str | int


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class Control(FaultSwitches):
    """In-process control API (the HTTP interface calls exactly these methods)."""

    def __init__(self, server: Server, faults: FaultInjector, counters: Counters) -> None:
        self._server = server
        self._backend = server.backend
        self._faults = faults
        self._counters = counters

    def _pid(self, product: Product) -> int:
        return int(self._backend.find_product(product)["id"])

    # -- overview and configuration --------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        store = self._backend.store
        counts = {
            "products": store.scalar("SELECT COUNT(*) FROM products"),
            "customers": store.scalar("SELECT COUNT(*) FROM customers"),
            "orders": store.scalar("SELECT COUNT(*) FROM documents WHERE kind = 'order'"),
            "invoices": store.scalar("SELECT COUNT(*) FROM documents WHERE kind = 'invoice'"),
        }
        return {
            "credentials": self._server.credentials.as_dict(),
            "config": self.config(),
            "counts": counts,
            "routes": route_keys(),
            "tax_codes": [t["name"] for t in self._backend.list_simple("tax_codes", "", "", None, 0).items],
            "payment_methods": [
                m["name"] for m in self._backend.list_simple("payment_methods", "", "", None, 0).items
            ],
        }

    def config(self) -> dict[str, Any]:
        return self._backend.config.as_dict()

    def set_config(self, **changes: Any) -> dict[str, Any]:
        config = self._backend.config
        known = set(OnSiteConfig().as_dict())
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        for key, value in changes.items():
            setattr(config, key, type(getattr(OnSiteConfig(), key))(value))
        sessions = self._server.sessions
        sessions.seats = config.seats
        sessions.lock_timeout_seconds = config.lock_timeout_seconds
        return self.config()

    # -- sessions and locks ----------------------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        return self._server.sessions.snapshot()

    def clear_sessions(self) -> int:
        """What restarting a real OnSite server does: every session and lock is dropped."""
        return self._server.sessions.clear()

    def locks(self) -> dict[str, str]:
        """Locked resources (``"orders/71"``) and the session holding each."""
        return self._server.sessions.locks()

    def clear_locks(self) -> int:
        return self._server.sessions.clear_locks()

    # -- counters and faults ---------------------------------------------------------------------

    # -- documents -------------------------------------------------------------------------------

    def orders(self, web_order_number: str | None = None) -> list[dict[str, Any]]:
        """Every order (full records), or those with this ``web_order_number``."""
        flt = "" if web_order_number is None else f"web_order_number == {_quote(web_order_number)}"
        return self._backend.list_documents("order", flt).items

    def invoices(self, import_id: str | None = None) -> list[dict[str, Any]]:
        flt = "" if import_id is None else f"import_id == {_quote(import_id)}"
        return self._backend.list_documents("invoice", flt).items

    def order(self, order_id: int) -> dict[str, Any]:
        return self._backend.get_document("order", order_id)

    def invoice(self, invoice_id: int) -> dict[str, Any]:
        return self._backend.get_document("invoice", invoice_id)

    def convert_order(self, order_id: int) -> int:
        """Staff turn an Order into an Invoice (reservations released, stock deducted, deposits
        carried over); returns the invoice id."""
        return self._backend.convert_order(order_id)

    def void_order(self, order_id: int) -> None:
        self._backend.update_document("order", order_id, {"voided": True})

    def post_invoice(self, invoice_id: int) -> None:
        self._backend.post_invoice(invoice_id)

    # -- products and inventory ------------------------------------------------------------------

    def product(self, product: Product) -> dict[str, Any]:
        return self._backend.find_product(product)

    def create_product(
        self,
        code: str,
        description: str = "",
        sell_price: float | str | Decimal = 0,
        *,
        stock: float | str | Decimal = 0,
        **fields: Any,
    ) -> int:
        """Create a product; ``fields``: ``upc``, ``manufacturer_sku``, ``cost`` and the flags
        ``inventoried``, ``editable_sell``, ``master_model``, ``current``, ``web``, ``taxable``."""
        flag_names = ("inventoried", "editable_sell", "master_model", "current", "web", "taxable")
        data: dict[str, Any] = {
            "code": code,
            "description": description,
            "sell_price": Decimal(str(sell_price)),
            "flags": {k: bool(fields.pop(k)) for k in flag_names if k in fields},
        }
        if "cost" in fields:
            data["cost"] = Decimal(str(fields.pop("cost")))
        for key in ("upc", "manufacturer_sku", "long_description"):
            if key in fields:
                data[key] = str(fields.pop(key))
        if fields:
            raise ValueError(f"unknown product fields: {', '.join(sorted(fields))}")
        return self._backend.create_product(data, initial_stock=Decimal(str(stock)))

    def archive_product(self, product: Product, archived: bool = True) -> dict[str, Any]:
        """Archived = no longer "current" (``flags/current`` false)."""
        pid = self._pid(product)
        self._backend.update_product(pid, {"flags": {"current": not archived}})
        return self._backend.get_product(pid)

    def rename_product(
        self, product: Product, description: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        pid = self._pid(product)
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if code is not None:
            changes["code"] = code
        self._backend.update_product(pid, changes)
        return self._backend.get_product(pid)

    def inventory(self, product: Product) -> dict[str, Any]:
        """``total`` (on hand), ``reserved``, ``available`` (= total − reserved) and the rest."""
        return self._backend.get_inventory(self._pid(product))

    def set_stock(self, product: Product, total: float | str | Decimal) -> dict[str, Any]:
        pid = self._pid(product)
        self._backend.set_stock(pid, Decimal(str(total)))
        return self._backend.get_inventory(pid)

    def stock_movements(self, product: Product | None = None) -> list[dict[str, Any]]:
        return self._backend.movements(None if product is None else self._pid(product))

    def check_inventory(self) -> list[str]:
        """Bookkeeping problems: ``reserved`` not matching the open order lines (empty when right)."""
        return self._backend.check_inventory()

    # -- customers and reference data ------------------------------------------------------------

    def customers(self, email: str | None = None) -> list[dict[str, Any]]:
        flt = "" if email is None else f"email ==[c] {_quote(email)}"
        return self._backend.list_customers(flt).items

    def customer(self, customer_id: int) -> dict[str, Any]:
        return self._backend.get_customer(customer_id)

    def create_customer(self, first: str = "", last: str = "", email: str = "", **fields: Any) -> int:
        """``fields``: ``company``, ``phone``, ``mobile``, ``notes``, ``billing_address`` and
        ``shipping_address`` (dicts of ``address1, address2, city, state, zip, country``)."""
        return self._backend.create_customer({"first": first, "last": last, "email": email, **fields})

    def merge_customers(self, merged_id: int, into_id: int) -> dict[str, Any]:
        """Merge a duplicate: ``merged_id`` keeps existing with ``merged_to`` = ``into_id``."""
        self._backend.merge_customers(merged_id, into_id)
        return self._backend.get_customer(merged_id)

    def add_payment_method(self, name: str) -> int:
        return self._backend.add_payment_method(name)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- HTTP --------------------------------------------------------------------------------------------


def _respond(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=_jsonable), status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _respond({"error": message, "status": status}, status)


def _product_of(request: Request, body: dict[str, Any]) -> Product:
    if "product_id" in request.query_params:
        return int(request.query_params["product_id"])
    if "product" in request.query_params:
        return request.query_params["product"]
    if "product_id" in body:
        return int(body["product_id"])
    value = body.get("product")
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    raise ValueError("name the product: product (a code) or product_id")


def control_routes(control: Control) -> list[Route]:
    def endpoint(func: Any) -> Any:
        async def wrapper(request: Request) -> Response:
            try:
                body: dict[str, Any] = {}
                if request.method in ("POST", "PUT", "PATCH"):
                    raw = await request.body()
                    if raw.strip():
                        body = orjson.loads(raw)
                        if not isinstance(body, dict):
                            raise ValueError("the body must be a JSON object")
                result = await run_in_threadpool(func, request, body)
            except OnSiteError as err:
                return _error(err.status, err.message)
            except (ValueError, TypeError, KeyError, orjson.JSONDecodeError) as err:
                return _error(400, str(err))
            return _respond(result)

        return wrapper

    def doc_id(r: Request) -> int:
        return int(r.path_params["doc_id"])

    def q(r: Request, name: str) -> str | None:
        return r.query_params.get(name)

    def with_product(func: Any) -> Any:
        return lambda r, b: func(
            _product_of(r, b), **{k: v for k, v in b.items() if k not in ("product", "product_id")}
        )

    def movements(r: Request, b: dict[str, Any]) -> Any:
        has = "product" in r.query_params or "product_id" in r.query_params
        return control.stock_movements(_product_of(r, b) if has else None)

    routes = [
        ("GET", "/", lambda _r, _b: control.info()),
        ("GET", "/config", lambda _r, _b: control.config()),
        ("PUT", "/config", lambda _r, b: control.set_config(**b)),
        ("GET", "/sessions", lambda _r, _b: control.sessions()),
        ("DELETE", "/sessions", lambda _r, _b: {"closed": control.clear_sessions()}),
        ("GET", "/locks", lambda _r, _b: control.locks()),
        ("DELETE", "/locks", lambda _r, _b: {"released": control.clear_locks()}),
        ("GET", "/counters", lambda _r, _b: control.counters()),
        ("DELETE", "/counters", lambda _r, _b: control.reset_counters()),
        ("POST", "/counters/reset", lambda _r, _b: control.reset_counters()),
        ("GET", "/faults", lambda _r, _b: control.faults()),
        ("PUT", "/faults", lambda _r, b: control.set_faults(**b)),
        ("DELETE", "/faults", lambda _r, _b: control.reset_faults()),
        ("GET", "/orders", lambda r, _b: control.orders(q(r, "web_order_number"))),
        ("GET", "/orders/{doc_id:int}", lambda r, _b: control.order(doc_id(r))),
        (
            "POST",
            "/orders/{doc_id:int}/convert",
            lambda r, _b: {"invoice_id": control.convert_order(doc_id(r))},
        ),
        ("POST", "/orders/{doc_id:int}/void", lambda r, _b: control.void_order(doc_id(r))),
        ("GET", "/invoices", lambda r, _b: control.invoices(q(r, "import_id"))),
        ("GET", "/invoices/{doc_id:int}", lambda r, _b: control.invoice(doc_id(r))),
        ("POST", "/invoices/{doc_id:int}/post", lambda r, _b: control.post_invoice(doc_id(r))),
        ("GET", "/products", lambda r, b: control.product(_product_of(r, b))),
        ("POST", "/products", lambda _r, b: {"id": control.create_product(**b)}),
        ("POST", "/products/archive", with_product(control.archive_product)),
        ("POST", "/products/rename", with_product(control.rename_product)),
        ("GET", "/inventory", lambda r, b: control.inventory(_product_of(r, b))),
        ("PUT", "/inventory", with_product(control.set_stock)),
        ("GET", "/inventory/check", lambda _r, _b: control.check_inventory()),
        ("GET", "/stock/movements", movements),
        ("GET", "/customers", lambda r, _b: control.customers(q(r, "email"))),
        ("GET", "/customers/{doc_id:int}", lambda r, _b: control.customer(doc_id(r))),
        ("POST", "/customers", lambda _r, b: {"id": control.create_customer(**b)}),
        (
            "POST",
            "/customers/{doc_id:int}/merge",
            lambda r, b: control.merge_customers(doc_id(r), int(b["into"])),
        ),
        ("POST", "/payment_methods", lambda _r, b: {"id": control.add_payment_method(str(b["name"]))}),
    ]
    return [Route(path, endpoint(func), methods=[method]) for method, path, func in routes]
