"""``XSeriesSandbox``: the backend, the request window, faults and the control interface wired into
one ASGI app. See ``docs/sandbox-lightspeed_xseries.md`` for what is faithful and what is inferred."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSettings, FaultSwitches
from m2pos.sandbox.lightspeed_xseries._app import XSeriesEndpoint, build_app
from m2pos.sandbox.lightspeed_xseries._backend import Backend
from m2pos.sandbox.lightspeed_xseries._window import RequestWindow

DEMO_TOKEN = "lsxs_pt_demo-personal-token-0123456789"  # noqa: S105 (the sandbox's demo personal token)


class Control(FaultSwitches):
    """Set-up and inspection for tests, in process and over ``/_sandbox/<method>``."""

    def __init__(self, sandbox: XSeriesSandbox) -> None:
        self._s = sandbox
        self._faults, self._counters = sandbox._injector, sandbox.counters

    def info(self) -> dict[str, Any]:
        b = self._s.backend
        return {
            "token": self._s.token,
            "registers": b.register_list(),
            "window": {"limit": self._s.window.limit, "seconds": self._s.window.window_seconds},
            "counts": {"products": len(b.products), "customers": len(b.customers), "sales": len(b.sales)},
        }

    def sales(self) -> list[dict[str, Any]]:
        return [self._s.backend.sale(sid) for sid in list(self._s.backend.sales)]

    def sale(self, sale_id: str) -> dict[str, Any]:
        return self._s.backend.sale(sale_id)

    def customers(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._s.backend.customers.values()]

    def product(self, sku: str) -> dict[str, Any]:
        return dict(self._s.backend.by_sku(sku))

    def stock(self, sku: str) -> Decimal:
        return self._s.backend.level(self._s.backend.by_sku(sku)["id"])

    def set_stock(self, sku: str, level: float) -> None:
        backend = self._s.backend
        pid = backend.by_sku(sku)["id"]
        with backend.lock:
            backend.inventory[(pid, "0adfd74a-1f5b-11e7-f5a7-outlet000001")] = Decimal(str(level))

    def set_status(self, sale_id: str, status: str) -> None:
        """What staff do in the POS (dispatch, pick up): the status only, stock as it is."""
        with self._s.backend.lock:
            self._s.backend.sales[sale_id]["status"] = status

    def counters(self) -> dict[str, Any]:
        return {**self._s.counters.snapshot(), "refused_by_window": self._s.window.refused}

    def reset_counters(self) -> dict[str, Any]:
        self._s.window.refused = 0
        return super().reset_counters()


class XSeriesSandbox:
    """An emulator of the Lightspeed X-Series API (JSON over HTTP) with demo data: the Magento
    sandbox's SKUs as products (minus a few, for "No Product Found"), stock in one outlet, customers
    with the Magento sandbox's e-mails. ``window_seconds``/``limit`` shrink the 5-minute window for
    tests and benchmarks (the limit defaults to ``300 × registers + 50``)."""

    def __init__(
        self,
        products: int = 50,
        seed: int = 1,
        *,
        token: str = DEMO_TOKEN,
        registers: int = 1,
        limit: int | None = None,
        window_seconds: float = 300.0,
        faults: FaultSettings | None = None,
        latency_ms: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.backend = Backend(registers=registers)
        self.backend.populate(products, seed)
        self.window = RequestWindow(
            limit if limit is not None else 300 * registers + 50, window_seconds, clock
        )
        settings = faults if faults is not None else FaultSettings()
        if latency_ms:
            settings.latency_ms = latency_ms
        self._injector = FaultInjector(settings)
        self.counters = Counters()
        self.control = Control(self)
        endpoint = XSeriesEndpoint(
            self.backend, lambda: {self.token}, self.window, self._injector, self.counters
        )
        self.app: Any = build_app(endpoint, self.control)

    @property
    def faults(self) -> FaultSettings:
        return self._injector.settings

    def close(self) -> None:
        pass


def demo_pos_settings(sandbox: XSeriesSandbox, base_url: str) -> dict[str, object]:
    """The ``[pos]`` table for this sandbox at ``base_url`` (``m2pos demo --pos lightspeed_xseries``)."""
    return {"kind": "lightspeed_xseries", "base_url": f"{base_url}/api/", "token": sandbox.token}
