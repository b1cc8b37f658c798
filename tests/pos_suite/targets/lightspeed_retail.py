"""Lightspeed Retail (R-Series) under the cross-POS suite: its sandbox over HTTP (rotating OAuth
tokens, leaky bucket), completed Sales and Quotes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.sandbox._faults import FaultSwitches
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_retail import RetailSandbox
from tests.pos_suite.target import SeenDocument, SeenLine

VARIANTS: dict[str, dict[str, Any]] = {
    "sale": {"download_orders_as": "sale"},
    "quote": {"download_orders_as": "quote"},
}
_HELPERS = {"NO-PRODUCT-FOUND", "SHIPPING", "REFUND", "MAGENTO-TAX"}


class RetailTarget:
    kind = "lightspeed_retail"
    unknown_sku = "HEADPH-BT/2"  # in the Magento demo catalogue, not in the sandbox's items

    def __init__(self, sandbox: RetailSandbox, url: str, directory: Path, options: Mapping[str, Any]) -> None:
        self.sandbox, self.url, self.directory, self.options = sandbox, url, directory, dict(options)
        self.takes_stock = options["download_orders_as"] == "sale"

    def pos_settings(self) -> dict[str, Any]:
        oauth = self.sandbox.oauth
        return {
            "kind": self.kind,
            "base_url": f"{self.url}/API/V3/",
            "token_url": f"{self.url}/auth/oauth/token",
            "account_id": self.sandbox.store.account_id,
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "refresh_token": oauth.initial_refresh_token,
            "token_file": str(self.directory / "lightspeed-retail-tokens.json"),
            "requests_per_second": 1000,
            "lightspeed_retail": self.options,
        }

    def _email(self, customer_id: int) -> str | None:
        customer = self.sandbox.store.customers.get(customer_id)
        return customer.emails[0] if customer is not None and customer.emails else None

    def documents(self, reference: str) -> list[SeenDocument]:
        control = self.sandbox.control
        cancelled_by_refund = bool(control.sales(f"CANCEL-{reference}"))
        out = []
        for sale in control.sales(reference):
            lines = tuple(
                SeenLine(
                    None if line["sku"] in _HELPERS else line["sku"],
                    line["quantity"],
                    line["note"] or line["sku"],
                )
                for line in sale["lines"]
                if line["quantity"] != 0
            )
            out.append(
                SeenDocument(
                    id=str(sale["id"]),
                    kind="quote" if sale["quote"] else "sale",
                    cancelled=sale["voided"] or cancelled_by_refund,
                    lines=lines,
                    customer_email=self._email(sale["customer_id"]),
                )
            )
        return out

    @property
    def switches(self) -> FaultSwitches:
        return self.sandbox.control

    def returns(self, memo_reference: str) -> int:
        return len(self.sandbox.control.sales(f"CM-{memo_reference}"))

    def credit_memo_carried(self, order_reference: str, memo_reference: str) -> bool:
        """A refund sale; or, on a quote (nothing left the shop), the quote lowered to what Magento
        still sells: nothing, after the suite's full refunds."""
        if self.sandbox.control.sales(f"CM-{memo_reference}"):
            return True
        (document,) = self.documents(order_reference)
        return document.kind == "quote" and (document.cancelled or not document.product_lines())

    def restocked(self, memo_reference: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for sale in self.sandbox.control.sales(f"CM-{memo_reference}"):
            for line in sale["lines"]:
                if line["sku"] not in _HELPERS and line["quantity"] < 0:
                    out[line["sku"]] = out.get(line["sku"], Decimal(0)) - line["quantity"]
        return out

    def available(self, sku: str) -> Decimal | None:
        return self.sandbox.control.stock(sku)


@contextmanager
def start(directory: Path, options: dict[str, Any]) -> Iterator[RetailTarget]:
    sandbox = RetailSandbox(products=5, seed=1, bucket_size=100_000, drip_rate=10_000)
    with serve_in_thread(sandbox.app) as url:
        yield RetailTarget(sandbox, url, directory, options)
