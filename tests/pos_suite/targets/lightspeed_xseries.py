"""Lightspeed X-Series under the cross-POS suite: its sandbox over HTTP; sales awaiting dispatch,
and sales awaiting pickup (the demo orders' shipping method named as a pickup method)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.sandbox._faults import FaultSwitches
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_xseries import XSeriesSandbox
from tests.pos_suite.target import SeenDocument, SeenLine

VARIANTS: dict[str, dict[str, Any]] = {
    "dispatch": {},
    "pickup": {"pickup_shipping_methods": ["flatrate_flatrate"]},
}
_MONEY_ONLY = {"NO-PRODUCT-FOUND", "SHIPPING", "REFUND", "MAGENTO-TAX"}


class XSeriesTarget:
    kind = "lightspeed_xseries"
    takes_stock = True  # an awaiting sale has taken its stock (X-Series has no reservation)
    unknown_sku = "HEADPH-BT/2"

    def __init__(self, sandbox: XSeriesSandbox, url: str, options: dict[str, Any]) -> None:
        self.sandbox, self.url, self.options = sandbox, url, options

    def pos_settings(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base_url": f"{self.url}/api/",
            "token": self.sandbox.token,
            "requests_per_second": 1000,
            "rate_limit_window_seconds": self.sandbox.window.window_seconds,
            "lightspeed_xseries": self.options,
        }

    def _sales(self, number: str) -> list[dict[str, Any]]:
        return self.sandbox.backend.search_sales(number)

    def _sku(self, product_id: str) -> str:
        return str(self.sandbox.backend.products[product_id]["sku"])

    def documents(self, reference: str) -> list[SeenDocument]:
        out = []
        for sale in self._sales(reference):
            lines = tuple(
                SeenLine(
                    None if self._sku(line["product_id"]) in _MONEY_ONLY else self._sku(line["product_id"]),
                    Decimal(line["quantity"]),
                    str(line["note"] or self.sandbox.backend.products[line["product_id"]]["name"]),
                )
                for line in sale["line_items"]
            )
            customer = self.sandbox.backend.customers.get(sale["customer_id"] or "")
            out.append(
                SeenDocument(
                    id=sale["id"],
                    kind="sale",
                    cancelled=sale["status"] == "VOIDED" or bool(self._sales(f"CANCEL-{reference}")),
                    lines=lines,
                    customer_email=customer["email"] if customer else None,
                )
            )
        return out

    @property
    def switches(self) -> FaultSwitches:
        return self.sandbox.control

    def returns(self, memo_reference: str) -> int:
        return len(self._sales(f"CM-{memo_reference}"))

    def credit_memo_carried(self, order_reference: str, memo_reference: str) -> bool:
        return bool(self._sales(f"CM-{memo_reference}"))

    def restocked(self, memo_reference: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for sale in self._sales(f"CM-{memo_reference}"):
            for line in sale["line_items"]:
                sku = self._sku(line["product_id"])
                if sku not in _MONEY_ONLY and line["quantity"] < 0:
                    out[sku] = out.get(sku, Decimal(0)) - Decimal(line["quantity"])
        return out

    def available(self, sku: str) -> Decimal | None:
        try:
            product = self.sandbox.control.product(sku)
        except KeyError:
            return None
        return self.sandbox.control.stock(sku) if product["has_inventory"] else None


@contextmanager
def start(
    directory: Path, options: dict[str, Any], *, window_seconds: float = 300.0
) -> Iterator[XSeriesTarget]:
    """``window_seconds`` shortens X-Series' 5-minute request window (same request limit) for runs
    that would otherwise spend most of their time waiting for it (the soak)."""
    sandbox = XSeriesSandbox(products=5, seed=1, window_seconds=window_seconds)
    with serve_in_thread(sandbox.app) as url:
        yield XSeriesTarget(sandbox, url, options)
