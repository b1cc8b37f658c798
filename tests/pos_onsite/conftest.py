"""The Lightspeed OnSite adapter against the OnSite sandbox over real HTTPS.

One HTTPS server (one self-signed certificate) serves the whole session; each test gets a fresh
sandbox behind it (``Switch``), so the tests stay independent and fast. Magento orders and credit
memos come from an in-process Magento sandbox (the same seed as the OnSite demo data, so e-mails and
SKUs line up).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.lightspeed_onsite import LightspeedOnSite, onsite_settings
from m2pos.pos.port import PosDocument
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.sandbox.onsite import OnSiteSandbox
from m2pos.settings import settings_from_dict
from tests.pos_support import Switch, place_order, refund

PASSWORD = "s3cret-Pa55word"  # the sandbox accepts this user below
PRIVATE_ID = "9c1f7a52-1e0b-4c8e-9d7e-PRIVATE-ID-42"

COMBINATIONS: dict[str, dict[str, Any]] = {
    "invoice": {},
    "order": {"download_orders_as": "order"},
    "order+reserve": {"download_orders_as": "order", "reserve_order_inventory": True},
    "order+deposit": {"download_orders_as": "order", "create_order_deposits": True},
    "order+both": {
        "download_orders_as": "order",
        "reserve_order_inventory": True,
        "create_order_deposits": True,
    },
}


@pytest.fixture(scope="session")
def https_server() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with serve_in_thread(switch, tls=True) as base:
        yield switch, base


def onsite_credentials() -> Any:
    from m2pos.sandbox.onsite import OnSiteCredentials

    return OnSiteCredentials(password=PASSWORD, app_id="com.example.m2pos", app_private_id=PRIVATE_ID)


@dataclass
class Env:
    """One test's OnSite sandbox (served over HTTPS), its Magento orders, and adapters on it."""

    sandbox: OnSiteSandbox
    base: str
    magento: MagentoSandbox
    directory: Path
    adapters: list[LightspeedOnSite] = field(default_factory=list)

    @property
    def control(self) -> Any:
        return self.sandbox.control

    def settings(self, **options: Any) -> dict[str, Any]:
        pos_keys = {k: options.pop(k) for k in list(options) if k in _POS_KEYS}
        return {
            "pos": {
                "kind": "lightspeed_onsite",
                "base_url": f"{self.base}/api/",
                "username": "lightspeed",
                "password": PASSWORD,
                "app_id": "com.example.m2pos",
                "app_private_id": PRIVATE_ID,
                "verify_tls": False,
                "session_file": str(self.directory / "onsite-session"),
                "requests_per_second": 1000,
                **pos_keys,
                "lightspeed_onsite": options,
            }
        }

    def adapter(self, *, sleep: Any = None, transport: Any = None, **options: Any) -> LightspeedOnSite:
        settings = settings_from_dict(self.settings(**options))
        extra = {k: v for k, v in (("sleep", sleep), ("transport", transport)) if v is not None}
        pos = LightspeedOnSite(onsite_settings(settings.pos), **extra)
        self.adapters.append(pos)
        return pos

    # -- Magento ------------------------------------------------------------------------------------

    def order(self, kind: str = "simple", **kwargs: Any) -> Order:
        return place_order(self.magento, kind, **kwargs)

    def refund(self, order: Order, **kwargs: Any) -> tuple[CreditMemo, Order]:
        """A credit memo for ``order`` and the order as Magento shows it afterwards."""
        return refund(self.magento, order, **kwargs)

    # -- OnSite -------------------------------------------------------------------------------------

    def document(self, document: PosDocument) -> dict[str, Any]:
        number = int(document.id.split("-")[1])
        if document.id.startswith("O"):
            return self.control.order(number)  # type: ignore[no-any-return]
        return self.control.invoice(number)  # type: ignore[no-any-return]

    def stock(self, code: str) -> tuple[Decimal, Decimal]:
        """(total on hand, reserved)."""
        inventory = self.control.inventory(code)
        return inventory["total"], inventory["reserved"]

    def count(self, key: str) -> int:
        return self.control.count(key)  # type: ignore[no-any-return]

    def requests(self) -> int:
        return int(self.control.counters()["total"])


_POS_KEYS = {
    "verify_tls",
    "ca_file",
    "session_file",
    "timeout_seconds",
    "max_attempts",
    "max_retry_after_seconds",
    "password",
    "app_private_id",
    "base_url",
    "requests_per_second",
}


@pytest.fixture
async def env(
    https_server: tuple[Switch, str], magento: MagentoSandbox, tmp_path: Path
) -> AsyncIterator[Env]:
    switch, base = https_server
    sandbox = OnSiteSandbox(products=5, seed=1, credentials=onsite_credentials())
    switch.target = sandbox.app
    environment = Env(sandbox, base, magento, tmp_path)
    yield environment
    for adapter in environment.adapters:
        await adapter.aclose()
    switch.target = None
    sandbox.close()


def lines(document: dict[str, Any]) -> list[tuple[str, Decimal, Decimal]]:
    """(code, quantity, sell price) of each line."""
    return [(line["code"], line["quantity"], line["sell_price"]) for line in document["lines"]]
