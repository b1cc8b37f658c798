"""The Lightspeed Retail (R-Series) adapter against the R-Series sandbox over real HTTP.

One HTTP server serves the session; each test gets a fresh sandbox behind it (``Switch``). Magento
orders come from an in-process Magento sandbox with the seed of the R-Series demo data, so e-mails
and SKUs line up. The sandbox's bucket is large and fast by default (tests are about documents);
the rate-limit tests build their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.lightspeed_retail import LightspeedRetail, retail_settings
from m2pos.sandbox.lightspeed_retail import RetailSandbox
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import settings_from_dict
from tests.pos_support import Switch, place_order, refund

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
        return place_order(self.magento, kind, **kwargs)

    def refund(self, order: Order, **kwargs: Any) -> tuple[CreditMemo, Order]:
        """A credit memo for ``order`` and the order as Magento shows it afterwards."""
        return refund(self.magento, order, **kwargs)


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
