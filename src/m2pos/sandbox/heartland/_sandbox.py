"""``HeartlandSandbox``: the backend, the API app, the faults, the counters and a Python control
interface (what tests and the demo read and change directly)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSettings, FaultSwitches
from m2pos.sandbox.heartland._app import build_app
from m2pos.sandbox.heartland._backend import Backend, Config

DEMO_TOKEN = "heartland-sandbox-token"  # noqa: S105 - the demo token, printed at start
ONLINE_LOCATION_ID = 1


class Control(FaultSwitches):
    def __init__(self, backend: Backend, faults: FaultInjector, counters: Counters) -> None:
        self.backend, self._faults, self._counters = backend, faults, counters

    def item(self, public_id: str) -> dict[str, Any]:
        b = self.backend
        with b.lock:
            found = [dict(i) for i in b.s.items.values() if i["public_id"] == public_id]
        if not found:
            raise KeyError(f"no item {public_id}")
        return found[0]

    def inventory(self, public_id: str, location_id: int = ONLINE_LOCATION_ID) -> dict[str, Decimal]:
        item = self.item(public_id)
        with self.backend.lock:
            row = self.backend.values(item["id"], location_id)
        return {k: Decimal(row[k]) for k in ("qty_on_hand", "qty_committed", "qty_available")}

    def set_on_hand(self, public_id: str, qty: Decimal | int, location_id: int = ONLINE_LOCATION_ID) -> None:
        self.backend.set_on_hand(self.item(public_id)["id"], location_id, Decimal(qty))

    def orders(self, reference: str | None = None, key: str = "magento_order_number") -> list[dict[str, Any]]:
        b = self.backend
        with b.lock:  # filtered before rendering: a soak asks for one order among thousands
            return [
                b.render_order(o)
                for o in b.s.orders.values()
                if reference is None or o["custom"].get(key) == reference
            ]

    def tickets(
        self, reference: str | None = None, key: str = "magento_order_number"
    ) -> list[dict[str, Any]]:
        b = self.backend
        with b.lock:
            return [
                b.ticket(t)
                for t, raw in b.s.tickets.items()
                if reference is None or raw["custom"].get(key) == reference
            ]

    def invoices(self, order_id: int) -> list[dict[str, Any]]:
        with self.backend.lock:
            return [dict(i) for i in self.backend.s.invoices.values() if i["order_id"] == order_id]

    def customer(self, customer_id: int) -> dict[str, Any]:
        with self.backend.lock:
            return dict(self.backend.s.customers[customer_id])

    def customers(self, email: str | None = None) -> list[dict[str, Any]]:
        with self.backend.lock:
            found = [dict(c) for c in self.backend.s.customers.values()]
        return [c for c in found if email is None or c["email"].casefold() == email.casefold()]


class HeartlandSandbox:
    """An emulator of the Heartland Retail API (JSON over HTTP) with demo data: the Magento
    sandbox's SKUs as item ``public_id`` (minus a few, for "No Product Found"), stock at the
    "Online" location (id 1), customers with the Magento sandbox's e-mails."""

    def __init__(
        self,
        products: int = 50,
        seed: int = 1,
        *,
        token: str = DEMO_TOKEN,
        faults: FaultSettings | None = None,
        latency_ms: int = 0,
        rate_limit_per_second: int = 0,
    ) -> None:
        self.token = token
        self.backend = Backend(Config(token=token, rate_limit_per_second=rate_limit_per_second))
        self.backend.populate(products, seed)
        settings = faults if faults is not None else FaultSettings()
        if latency_ms:
            settings.latency_ms = latency_ms
        self._injector = FaultInjector(settings)
        self.counters = Counters()
        self.control = Control(self.backend, self._injector, self.counters)
        self.app: Any = build_app(self.backend, self._injector, self.counters)

    @property
    def faults(self) -> FaultSettings:
        return self._injector.settings

    def close(self) -> None:
        """Nothing to release (the data lives in memory); kept for symmetry with other sandboxes."""


def demo_pos_settings(sandbox: HeartlandSandbox, base_url: str) -> dict[str, object]:
    """The ``[pos]`` table for this sandbox served at ``base_url`` (the demo: auto-invoiced orders)."""
    return {
        "kind": "heartland",
        "base_url": f"{base_url}/api/",
        "api_token": sandbox.token,
        "heartland": {"location_id": ONLINE_LOCATION_ID, "auto_invoice": True},
    }
