"""The sandbox control interface: test set-up and inspection, in-process and over HTTP (``/_sandbox/``).

It is deliberately separate from the emulated Magento API: no Magento authentication, plain JSON,
and no faults or latency. Errors come back as ``{"error": ..., "status": ...}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSwitches
from m2pos.sandbox.magento._backend import Backend
from m2pos.sandbox.magento._datagen import OrderRequest
from m2pos.sandbox.magento._errors import MagentoError
from m2pos.sandbox.magento._orders import is_money_row
from m2pos.sandbox.magento._routes import ROUTES
from m2pos.sandbox.magento._store import Doc

CONFIG_FLAGS = (
    "allow_integration_bearer",
    "input_limits",
    "auto_return",
    "two_factor_auth",
    "https_redirect",
    "oauth_encoded_slash_bug",
    "developer_mode",
)


class Control(FaultSwitches):
    """In-process control API (the HTTP interface calls exactly these methods)."""

    def __init__(self, backend: Backend, faults: FaultInjector, counters: Counters) -> None:
        self._backend = backend
        self._faults = faults
        self._counters = counters

    # -- orders ----------------------------------------------------------------------------------

    def place_order(
        self,
        kind: str = "simple",
        *,
        guest: bool = True,
        payment: str = "checkmo",
        store_id: int = 1,
        items: list[dict[str, Any]] | None = None,
        customer_index: int = 1,
        shipping_method: str = "flatrate_flatrate",
        coupon_percent: float = 0.0,
        created_at: str | None = None,
    ) -> Doc:
        """Place an order. ``payment``: ``authorised`` (braintree, authorised only: processing, not
        invoiced), ``captured`` (braintree authorize+capture: processing and already invoiced online),
        ``checkmo``/``banktransfer``/``cashondelivery``/``purchaseorder`` (offline: new/pending),
        ``free`` (a 100% coupon and the ``free`` method: grand total 0, new/pending),
        ``pending_payment`` (paypal_express) or ``payment_review`` (braintree, suspected fraud)."""
        req = OrderRequest.from_json(
            {
                "kind": kind,
                "guest": guest,
                "payment": payment,
                "store_id": store_id,
                "items": items,
                "customer_index": customer_index,
                "shipping_method": shipping_method,
                "coupon_percent": coupon_percent,
                "created_at": created_at,
            }
        )
        return self._backend.place_order(req)

    def get_order(self, order_id: int) -> Doc:
        return self._backend.get_order(order_id)

    def invoice(
        self,
        order_id: int,
        *,
        capture: bool = False,
        items: list[dict[str, Any]] | None = None,
        notify: bool = False,
    ) -> int:
        return self._backend.invoice(
            order_id, {"items": items or [], "capture": capture, "notify": notify, "append_comment": False}
        )

    def cancel(self, order_id: int) -> bool:
        return self._backend.cancel(order_id)

    def hold(self, order_id: int) -> bool:
        return self._backend.hold(order_id)

    def unhold(self, order_id: int) -> bool:
        return self._backend.unhold(order_id)

    def ship(self, order_id: int) -> bool:
        return self._backend.ship(order_id)

    def refund(
        self,
        order_id: int,
        *,
        items: list[dict[str, Any]] | None = None,
        return_to_stock: bool | list[int] = False,
        shipping_amount: float | None = None,
        adjustment_positive: float = 0.0,
        adjustment_negative: float = 0.0,
    ) -> int:
        """Offline refund. ``return_to_stock``: True returns every refunded item, or a list of order
        item ids (as ``return_to_stock_items``)."""
        if return_to_stock is True:
            order = self._backend.load_order(order_id)
            returned = [r["item_id"] for r in order["items"] if is_money_row(r, order["items"])]
        else:
            returned = list(return_to_stock or [])
        arguments: dict[str, Any] = {
            "adjustment_positive": adjustment_positive,
            "adjustment_negative": adjustment_negative,
            "extension_attributes": {"return_to_stock_items": returned},
        }
        if shipping_amount is not None:
            arguments["shipping_amount"] = shipping_amount
        return self._backend.refund(order_id, {"items": items or [], "arguments": arguments, "notify": False})

    # -- configuration, counters, stock, faults --------------------------------------------------

    def config(self) -> dict[str, Any]:
        out = {k: getattr(self._backend.config, k) for k in CONFIG_FLAGS}
        out["clock_offset_seconds"] = self._backend.clock.offset_seconds
        return out

    def set_config(self, **flags: Any) -> dict[str, Any]:
        unknown = set(flags) - set(CONFIG_FLAGS) - {"clock_offset_seconds"}
        if unknown:
            raise ValueError(f"unknown config flags: {', '.join(sorted(unknown))}")
        for key, value in flags.items():
            if key == "clock_offset_seconds":
                self._backend.clock.offset_seconds = float(value)
            else:
                setattr(self._backend.config, key, bool(value))
        return self.config()

    def stock(self, sku: str | None = None) -> list[Doc]:
        return self._backend.stock(sku)

    def stock_movements(self, sku: str | None = None) -> list[dict[str, Any]]:
        return self._backend.movements(sku)

    def admin_token(self) -> str:
        """A valid admin Bearer token, whatever the 2FA setting."""
        return self._backend.admin_tokens.issue(
            self._backend.credentials.admin_username, self._backend.clock.timestamp()
        )

    def info(self) -> dict[str, Any]:
        b = self._backend
        return {
            "store_codes": [v.code for v in b.views],
            "stores": [{"store_id": v.store_id, "code": v.code, "name": v.name} for v in b.views],
            "credentials": b.credentials.as_dict(),
            "config": self.config(),
            "routes": [r.key for r in ROUTES],
            "skus": sorted(b.catalog.by_sku),
        }


# -- HTTP --------------------------------------------------------------------------------------------


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _error(status: int, message: str, detail: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "status": status}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status)


def control_routes(control: Control) -> list[Route]:
    def endpoint(func: Any) -> Any:
        async def wrapper(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                body = await _json(request) if request.method in ("POST", "PUT", "PATCH") else {}
                result = await run_in_threadpool(func, request, body)
            except MagentoError as err:
                return _error(err.status, err.message, err.body())
            except (ValueError, TypeError, KeyError) as err:
                return _error(400, str(err))
            return JSONResponse(result)

        return wrapper

    def oid(request: Request) -> int:
        return int(request.path_params["order_id"])

    def place(_r: Request, b: dict[str, Any]) -> Any:
        return control.place_order(**b)

    def invoice(r: Request, b: dict[str, Any]) -> Any:
        return {"invoice_id": control.invoice(oid(r), **b)}

    def refund(r: Request, b: dict[str, Any]) -> Any:
        return {"creditmemo_id": control.refund(oid(r), **b)}

    def action(name: str) -> Any:
        return lambda r, _b: {"result": getattr(control, name)(oid(r))}

    def set_config(_r: Request, b: dict[str, Any]) -> Any:
        return control.set_config(**b)

    def set_faults(_r: Request, b: dict[str, Any]) -> Any:
        return control.set_faults(**b)

    def sku(r: Request) -> str | None:
        return r.query_params.get("sku")

    return [
        Route("/", endpoint(lambda _r, _b: control.info()), methods=["GET"]),
        Route("/orders", endpoint(place), methods=["POST"]),
        Route("/orders/{order_id:int}", endpoint(lambda r, _b: control.get_order(oid(r))), methods=["GET"]),
        Route("/orders/{order_id:int}/invoice", endpoint(invoice), methods=["POST"]),
        Route("/orders/{order_id:int}/refund", endpoint(refund), methods=["POST"]),
        *[
            Route(f"/orders/{{order_id:int}}/{name}", endpoint(action(name)), methods=["POST"])
            for name in ("cancel", "hold", "unhold", "ship")
        ],
        Route("/config", endpoint(lambda _r, _b: control.config()), methods=["GET"]),
        Route("/config", endpoint(set_config), methods=["PUT", "POST", "PATCH"]),
        Route("/counters", endpoint(lambda _r, _b: control.counters()), methods=["GET"]),
        Route("/counters", endpoint(lambda _r, _b: control.reset_counters()), methods=["DELETE"]),
        Route("/counters/reset", endpoint(lambda _r, _b: control.reset_counters()), methods=["POST"]),
        Route("/stock", endpoint(lambda r, _b: control.stock(sku(r))), methods=["GET"]),
        Route("/stock/movements", endpoint(lambda r, _b: control.stock_movements(sku(r))), methods=["GET"]),
        Route("/faults", endpoint(lambda _r, _b: control.faults()), methods=["GET"]),
        Route("/faults", endpoint(set_faults), methods=["PUT", "POST", "PATCH"]),
        Route("/faults", endpoint(lambda _r, _b: control.reset_faults()), methods=["DELETE"]),
        Route("/admin-token", endpoint(lambda _r, _b: {"token": control.admin_token()}), methods=["POST"]),
    ]
