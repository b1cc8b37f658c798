"""The Heartland adapter against the Heartland sandbox over real HTTP; Magento orders and credit
memos from an in-process Magento sandbox (the same seed as the Heartland demo data)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.heartland import Heartland, heartland_settings
from m2pos.sandbox.heartland import DEMO_TOKEN, HeartlandSandbox
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import settings_from_dict
from tests.pos_support import Switch, place_order, refund

_POS_KEYS = {"base_url", "api_token", "timeout_seconds", "max_attempts", "max_retry_after_seconds"}


@dataclass
class Env:
    sandbox: HeartlandSandbox
    base: str
    magento: MagentoSandbox
    adapters: list[Heartland] = field(default_factory=list)

    @property
    def control(self) -> Any:
        return self.sandbox.control

    def adapter(self, *, sleep: Any = None, **options: Any) -> Heartland:
        pos_keys = {k: options.pop(k) for k in list(options) if k in _POS_KEYS}
        data = {
            "pos": {
                "kind": "heartland",
                "base_url": f"{self.base}/api/",
                "api_token": DEMO_TOKEN,
                "requests_per_second": 1000,
                **pos_keys,
                "heartland": options,
            }
        }
        settings = settings_from_dict(data)
        extra = {"sleep": sleep} if sleep is not None else {}
        pos = Heartland(heartland_settings(settings.pos), **extra)
        self.adapters.append(pos)
        return pos

    def order(self, kind: str = "simple", **kwargs: Any) -> Order:
        return place_order(self.magento, kind, **kwargs)

    def refund(self, order: Order, **kwargs: Any) -> tuple[CreditMemo, Order]:
        """A credit memo for ``order`` and the order as Magento shows it afterwards."""
        return refund(self.magento, order, **kwargs)

    def sales_order(self, reference: str) -> dict[str, Any]:
        (found,) = self.control.orders(reference)
        return found  # type: ignore[no-any-return]

    def codes(self, record: dict[str, Any]) -> list[tuple[str, Decimal]]:
        """(item public id, quantity) of each line but the tax line."""
        items = self.sandbox.backend.s.items
        found = [(str(items[line["item_id"]]["public_id"]), Decimal(line["qty"])) for line in record["lines"]]
        return [(code, qty) for code, qty in found if code != "MAGENTO-TAX"]


@pytest.fixture
async def env(http_server: tuple[Switch, str], magento: MagentoSandbox, tmp_path: Path) -> AsyncIterator[Env]:
    switch, base = http_server
    sandbox = HeartlandSandbox(products=5, seed=1)
    switch.target = sandbox.app
    environment = Env(sandbox, base, magento)
    yield environment
    for adapter in environment.adapters:
        await adapter.aclose()
    switch.target = None
