"""Heartland Retail under the cross-POS suite: its sandbox over HTTP; sales orders left open, and
sales orders distributed and invoiced at once (``auto_invoice``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.sandbox._faults import FaultSwitches
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.heartland import DEMO_TOKEN, HeartlandSandbox
from tests.pos_suite.target import SeenDocument, SeenLine

VARIANTS: dict[str, dict[str, Any]] = {
    "sales_order": {},
    "auto_invoice": {"auto_invoice": True},
}
_HELPERS = {"NO-PRODUCT-FOUND", "REFUND", "MAGENTO-TAX"}


class HeartlandTarget:
    kind = "heartland"
    unknown_sku = "HEADPH-BT/2"  # in the Magento demo catalogue, not in the sandbox's items

    def __init__(self, sandbox: HeartlandSandbox, url: str, options: dict[str, Any]) -> None:
        self.sandbox, self.url, self.options = sandbox, url, options
        self.takes_stock = bool(options.get("auto_invoice"))

    def pos_settings(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base_url": f"{self.url}/api/",
            "api_token": DEMO_TOKEN,
            "requests_per_second": 1000,
            "heartland": self.options,
        }

    def _public_id(self, item_id: int) -> str:
        return str(self.sandbox.backend.s.items[item_id]["public_id"])

    def documents(self, reference: str) -> list[SeenDocument]:
        out = []
        for order in self.sandbox.control.orders(reference):
            cancelled = order["status"] == "canceled" or bool(
                self.sandbox.control.tickets(f"CANCEL-{reference}")
            )
            lines = []
            for line in order["lines"]:
                code = self._public_id(line["item_id"])
                sku = None if code in _HELPERS else code
                lines.append(SeenLine(sku, Decimal(line["qty"]), str(line["description"])))
            customer = self.sandbox.control.customer(order["customer_id"])
            out.append(
                SeenDocument(str(order["id"]), "sales_order", cancelled, tuple(lines), customer["email"])
            )
        return out

    @property
    def switches(self) -> FaultSwitches:
        return self.sandbox.control

    def returns(self, memo_reference: str) -> int:
        return len(self._tickets(f"CM-{memo_reference}"))

    def credit_memo_carried(self, order_reference: str, memo_reference: str) -> bool:
        """A completed return ticket; or, on an order not invoiced, the order lowered to what Magento
        still sells: nothing after the suite's full refunds (cancelled)."""
        if self._tickets(f"CM-{memo_reference}"):
            return True
        (document,) = self.documents(order_reference)
        return document.cancelled or not document.product_lines()

    def restocked(self, memo_reference: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for ticket in self._tickets(f"CM-{memo_reference}"):
            for line in ticket["lines"]:
                item = self.sandbox.backend.s.items[line["item_id"]]
                if item["track_inventory"] and Decimal(line["qty"]) < 0:
                    code = str(item["public_id"])
                    out[code] = out.get(code, Decimal(0)) - Decimal(line["qty"])
        return out

    def available(self, sku: str) -> Decimal | None:
        try:
            item = self.sandbox.control.item(sku)
        except KeyError:
            return None
        if not item["track_inventory"]:
            return None
        return self.sandbox.control.inventory(sku)["qty_available"]

    def _tickets(self, reference: str) -> list[dict[str, Any]]:
        return [t for t in self.sandbox.control.tickets(reference) if t["status"] == "complete"]


@contextmanager
def start(directory: Path, options: dict[str, Any]) -> Iterator[HeartlandTarget]:
    sandbox = HeartlandSandbox(products=5, seed=1)
    with serve_in_thread(sandbox.app) as url:
        yield HeartlandTarget(sandbox, url, options)
