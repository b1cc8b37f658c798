"""The Lightspeed Retail (R-Series) adapter against the R-Series sandbox over real HTTP.

One HTTP server serves the session; each test gets a fresh sandbox behind it (``Switch``). Magento
orders come from an in-process Magento sandbox with the seed of the R-Series demo data, so e-mails
and SKUs line up. The sandbox's bucket is large and fast by default (tests are about documents);
the rate-limit tests build their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.lightspeed_retail import LightspeedRetail, retail_settings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_retail import RetailSandbox
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.sandbox.magento._store import CREDITMEMOS
from m2pos.settings import settings_from_dict


class Switch:
    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None, "no sandbox behind the HTTP server"
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


_POS_KEYS = {
    "token_file",
    "refresh_token",
    "client_secret",
    "max_attempts",
    "max_retry_after_seconds",
    "timeout_seconds",
}


@dataclass
class Env:
    sandbox: RetailSandbox
    base: str
    magento: MagentoSandbox
    directory: Path
    adapters: list[LightspeedRetail] = field(default_factory=list)

    @property
    def control(self) -> Any:
        return self.sandbox.control

    def settings(self, **options: Any) -> dict[str, Any]:
        pos_keys = {k: options.pop(k) for k in list(options) if k in _POS_KEYS}
        oauth = self.sandbox.oauth
        return {
            "pos": {
                "kind": "lightspeed_retail",
                "base_url": f"{self.base}/API/V3/",
                "token_url": f"{self.base}/auth/oauth/token",
                "account_id": self.sandbox.store.account_id,
                "client_id": oauth.client_id,
                "client_secret": oauth.client_secret,
                "refresh_token": oauth.initial_refresh_token,
                "token_file": str(self.directory / "tokens.json"),
                "requests_per_second": 1000,
                **pos_keys,
                "lightspeed_retail": options,
            }
        }

    def adapter(self, *, sleep: Any = None, transport: Any = None, **options: Any) -> LightspeedRetail:
        settings = settings_from_dict(self.settings(**options))
        extra = {k: v for k, v in (("sleep", sleep), ("transport", transport)) if v is not None}
        pos = LightspeedRetail(retail_settings(settings.pos), **extra)
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


@pytest.fixture
async def env(http_server: tuple[Switch, str], magento: MagentoSandbox, tmp_path: Path) -> AsyncIterator[Env]:
    switch, base = http_server
    sandbox = RetailSandbox(products=5, seed=1, bucket_size=100_000, drip_rate=10_000)
    switch.target = sandbox.app
    environment = Env(sandbox, base, magento, tmp_path)
    yield environment
    for adapter in environment.adapters:
        await adapter.aclose()
    switch.target = None
    sandbox.close()
