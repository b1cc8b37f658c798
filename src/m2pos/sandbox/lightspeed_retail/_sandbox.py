"""``RetailSandbox``: the store with demo data, the token authority, the bucket, faults, counters and
a Python control object for tests (``sandbox.control``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSettings, FaultSwitches
from m2pos.sandbox.lightspeed_retail._app import RetailApp
from m2pos.sandbox.lightspeed_retail._bucket import LeakyBucket
from m2pos.sandbox.lightspeed_retail._render import sale_json
from m2pos.sandbox.lightspeed_retail._store import Customer, Store
from m2pos.sandbox.lightspeed_retail._tokens import OAuthApp, TokenAuthority

# The same demo data as the OnSite sandbox (the Magento sandbox's SKUs minus a few, its e-mails).
from m2pos.sandbox.onsite._catalog import MISSING_SKUS, PAYMENT_METHODS, demo_customers, demo_products

__all__ = ["MISSING_SKUS", "RetailSandbox"]


class RetailSandbox:
    def __init__(
        self,
        products: int = 50,
        seed: int = 1,
        *,
        oauth: OAuthApp | None = None,
        bucket_size: float = 90.0,
        drip_rate: float = 1.0,
        faults: FaultSettings | None = None,
        latency_ms: int = 0,
    ) -> None:
        self.oauth = oauth or OAuthApp()
        self.store = Store()
        self.tokens = TokenAuthority(self.oauth)
        self.bucket = LeakyBucket(bucket_size, drip_rate)
        settings = faults if faults is not None else FaultSettings()
        if latency_ms:
            settings.latency_ms = latency_ms
        self.injector = FaultInjector(settings)
        self.counters = Counters()
        self.app: Any = RetailApp(self.store, self.tokens, self.bucket, self.injector, self.counters)
        self.control = RetailControl(self)
        self._populate(products, seed)

    @property
    def faults(self) -> FaultSettings:
        return self.injector.settings

    def _populate(self, products: int, seed: int) -> None:
        store = self.store
        for product in demo_products(products, seed):
            if product.master_model:  # a matrix (configurable parent) is no sellable item
                continue
            store.add_item(
                custom_sku=product.code,
                description=product.description,
                price=product.sell_price,
                upc=product.upc,
                manufacturer_sku=product.manufacturer_sku,
                item_type="default" if product.inventoried else "non_inventory",
                tax=product.taxable,
                qoh={1: product.stock} if product.inventoried else {},
            )
        for person in demo_customers(seed):
            customer = Customer(
                store.next_id("customer", 1),
                person.first,
                person.last,
                person.company,
                emails=[person.email],
                phones=[person.phone] if person.phone else [],
                addresses=[dict(person.address)],
            )
            if person.merged_into_previous:  # R-Series has no merge: an older duplicate stays
                customer.time_stamp = "2016-01-01T00:00:00+00:00"
            store.customers[customer.customer_id] = customer
        for index, name in enumerate(PAYMENT_METHODS, start=1):
            store.payment_types[index] = name

    def close(self) -> None:
        """Nothing to release (the data lives in memory); kept for symmetry with other sandboxes."""


class RetailControl(FaultSwitches):
    """What tests and the demo inspect or change, without going through the API (no bucket cost)."""

    def __init__(self, sandbox: RetailSandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self._faults, self._counters = sandbox.injector, sandbox.counters

    def sales(self, reference: str | None = None) -> list[dict[str, Any]]:
        with self.store.lock:
            return [
                self.sale(s.sale_id)
                for s in self.store.sales.values()
                if reference is None or s.reference_number == reference
            ]

    def sale(self, sale_id: int) -> dict[str, Any]:
        with self.store.lock:
            sale = self.store.sales[sale_id]
            record = sale_json(sale, {"SaleLines", "SalePayments", "ShipTo"})
            lines = []
            for line in sale.lines:
                item = self.store.items[line.item_id]
                lines.append(
                    {
                        "sku": item.custom_sku,
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                        "note": line.note,
                    }
                )
            return {
                "id": sale.sale_id,
                "completed": sale.completed,
                "voided": sale.voided,
                "quote": sale.quote_id != 0,
                "reference": sale.reference_number,
                "source": sale.reference_number_source,
                "customer_id": sale.customer_id,
                "total": sale.total,
                "paid": sale.paid,
                "payments": [(self.store.payment_types[p.payment_type_id], p.amount) for p in sale.payments],
                "ship_to": sale.ship_to,
                "note": sale.note,
                "lines": lines,
                "raw": record,
            }

    def item_id(self, sku: str) -> int:
        with self.store.lock:
            return next(i.item_id for i in self.store.items.values() if i.custom_sku == sku)

    def stock(self, sku: str, shop_id: int = 1) -> Decimal | None:
        with self.store.lock:
            item = next((i for i in self.store.items.values() if i.custom_sku == sku), None)
            if item is None or not item.inventoried:
                return None
            return item.qoh.get(shop_id, Decimal(0))

    def set_stock(self, sku: str, qoh: Decimal, shop_id: int = 1) -> None:
        with self.store.lock:
            self.store.items[self.item_id(sku)].qoh[shop_id] = qoh

    def customers(self, email: str) -> list[Customer]:
        with self.store.lock:
            return [
                c
                for c in self.store.customers.values()
                if email.casefold() in (e.casefold() for e in c.emails)
            ]

    def archive_item(self, sku: str) -> None:
        with self.store.lock:
            self.store.items[self.item_id(sku)].archived = True

    def requests(self) -> int:
        return int(self.sandbox.counters.snapshot()["total"])

    def statuses(self) -> dict[str, dict[str, int]]:
        return dict(self.sandbox.counters.snapshot()["statuses"])

    def refused_by_bucket(self) -> int:
        return self.sandbox.bucket.refused


def demo_pos_settings(sandbox: RetailSandbox, base_url: str, workdir: Any) -> dict[str, object]:
    """The ``[pos]`` table that points m2pos at this sandbox (``m2pos demo --pos lightspeed_retail``)."""
    oauth = sandbox.oauth
    return {
        "kind": "lightspeed_retail",
        "base_url": f"{base_url}/API/V3/",
        "token_url": f"{base_url}/auth/oauth/token",
        "account_id": sandbox.store.account_id,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "refresh_token": oauth.initial_refresh_token,
        "token_file": str(workdir / "lightspeed-retail-tokens.json"),
        "lightspeed_retail": {"download_orders_as": "sale"},
    }
