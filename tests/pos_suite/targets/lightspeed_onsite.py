"""Lightspeed OnSite under the cross-POS suite: its sandbox over plain HTTP (the HTTPS path is
``tests/pos_onsite/``), Invoices, and Orders with reservations and deposits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.sandbox._faults import FaultSwitches
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.onsite import DEMO_ONSITE_CREDENTIALS, OnSiteSandbox
from tests.pos_suite.target import SeenDocument, SeenLine

VARIANTS: dict[str, dict[str, Any]] = {
    "invoice": {"download_orders_as": "invoice"},
    "order": {"download_orders_as": "order", "reserve_order_inventory": True, "create_order_deposits": True},
}
_MONEY_ONLY = {"NO-PRODUCT-FOUND", "SHIPPING", "REFUND", "MAGENTO-TAX"}


class OnSiteTarget:
    kind = "lightspeed_onsite"
    unknown_sku = "HEADPH-BT/2"  # in the Magento demo catalogue, not in OnSite's demo data

    def __init__(self, sandbox: OnSiteSandbox, url: str, directory: Path, options: Mapping[str, Any]):
        self.sandbox, self.url, self.directory, self.options = sandbox, url, directory, dict(options)
        self.takes_stock = options["download_orders_as"] == "invoice"

    def pos_settings(self) -> dict[str, Any]:
        creds = DEMO_ONSITE_CREDENTIALS
        return {
            "kind": self.kind,
            "base_url": f"{self.url}/api/",
            "username": creds.username,
            "password": creds.password,
            "app_id": creds.app_id,
            "app_private_id": creds.app_private_id,
            "session_file": str(self.directory / "onsite-session"),
            "requests_per_second": 1000,
            "lightspeed_onsite": self.options,
        }

    def documents(self, reference: str) -> list[SeenDocument]:
        control = self.sandbox.control
        found = control.orders(reference) + control.invoices(reference)
        return [_seen(d, self._returned(d)) for d in found if d.get("returned_invoice_id") is None]

    @property
    def switches(self) -> FaultSwitches:
        return self.sandbox.control

    def returns(self, memo_reference: str) -> int:
        return len(self._returns(f"CM-{memo_reference}"))

    def credit_memo_carried(self, order_reference: str, memo_reference: str) -> bool:
        """A return invoice; or, on an Order still open (nothing left the shop), the Order lowered to
        what Magento still sells: nothing, after the suite's full refunds."""
        if self._returns(f"CM-{memo_reference}"):
            return True
        (document,) = self.documents(order_reference)
        return document.kind == "order" and (document.cancelled or not document.product_lines())

    def restocked(self, memo_reference: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for document in self._returns(f"CM-{memo_reference}"):
            for line in document["lines"]:
                if line["code"] not in _MONEY_ONLY and line["quantity"] < 0:
                    out[line["code"]] = out.get(line["code"], Decimal(0)) - line["quantity"]
        return out

    def available(self, sku: str) -> Decimal | None:
        try:
            flags = self.sandbox.control.product(sku)["flags"]
            inventory = self.sandbox.control.inventory(sku)
        except Exception:  # noqa: BLE001 - not a product of this POS
            return None
        if not flags.get("inventoried") or flags.get("master_model"):
            return None  # a service or a matrix master: no stock of its own
        return Decimal(inventory["total"]) - Decimal(inventory["reserved"])

    def _returns(self, import_id: str) -> list[dict[str, Any]]:
        return [d for d in self.sandbox.control.invoices(import_id) if not d["voided"]]

    def _returned(self, document: dict[str, Any]) -> bool:
        return (
            bool(self._returns(f"CANCEL-{document['import_id']}")) if document["kind"] == "invoice" else False
        )


def _seen(document: dict[str, Any], returned: bool) -> SeenDocument:
    lines = tuple(
        SeenLine(
            None if line["code"] in _MONEY_ONLY else line["code"],
            Decimal(line["quantity"]),
            str(line["description"]),
        )
        for line in document["lines"]
        if Decimal(line["quantity"]) != 0
    )
    customer = document.get("customer") or {}
    return SeenDocument(
        id=str(document["display_id"]),
        kind=document["kind"],
        cancelled=bool(document["voided"]) or returned,
        lines=lines,
        customer_email=customer.get("phone_email") or None,
    )


@contextmanager
def start(directory: Path, options: dict[str, Any]) -> Iterator[OnSiteTarget]:
    sandbox = OnSiteSandbox(products=5, seed=1)
    try:
        with serve_in_thread(sandbox.app) as url:
            yield OnSiteTarget(sandbox, url, directory, options)
    finally:
        sandbox.close()
