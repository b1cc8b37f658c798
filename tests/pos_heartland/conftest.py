"""The Heartland adapter against the Heartland sandbox over real HTTP; Magento orders and credit
memos from an in-process Magento sandbox (the same seed as the Heartland demo data)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.heartland import Heartland, heartland_settings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.heartland import DEMO_TOKEN, HeartlandSandbox
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.sandbox.magento._store import CREDITMEMOS
from m2pos.settings import settings_from_dict

_POS_KEYS = {"base_url", "api_token", "timeout_seconds", "max_attempts", "max_retry_after_seconds"}


class Switch:
    """Forwards to whichever sandbox the current test put in ``target``."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None
        await self.target(scope, receive, send)


@pytest.fixture(scope="session")
def http_server() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with serve_in_thread(switch) as base:
        yield switch, base


@pytest.fixture(scope="session")
def magento() -> Iterator[MagentoSandbox]:
    sandbox = MagentoSandbox(orders=0)
    yield sandbox
    sandbox.close()


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
        kwargs.setdefault("payment", "captured")
        kwargs.setdefault("guest", False)
        kwargs.setdefault("customer_index", 3)
        return Order.model_validate(self.magento.control.place_order(kind, **kwargs))

    def refund(self, order: Order, **kwargs: Any) -> tuple[CreditMemo, Order]:
        assert order.entity_id is not None
        memo_id = self.magento.control.refund(order.entity_id, **kwargs)
        memo = CreditMemo.model_validate(self.magento.backend.get_document(CREDITMEMOS, memo_id))
        return memo, Order.model_validate(self.magento.control.get_order(order.entity_id))

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
