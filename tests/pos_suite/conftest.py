"""The cross-POS scenario suite: the same scenarios against every POS adapter and its sandbox.

Every test gets a fresh Magento sandbox over HTTP (``shop``) and one POS variant (``target``: a
sandbox over HTTP plus a :class:`~tests.pos_suite.target.PosUnderTest` that reads what m2pos left
there). The sync runs in-process as ``m2pos run`` wires it (``open_store`` → ``open_pos``).

To add a POS: write ``targets/<kind>.py`` (``VARIANTS`` and ``start``, see ``targets/__init__.py``
and ``targets/lightspeed_onsite.py``) and register it in ``TARGETS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from m2pos.engine import CycleReport, SyncEngine
from m2pos.engine.bootstrap import open_store
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox
from m2pos.settings import settings_from_dict
from tests.pos_suite.target import PosUnderTest
from tests.pos_suite.targets import TARGETS

LONG_AGO = "2020-01-01T00:00:00Z"
VARIANTS = [(kind, name) for kind, module in TARGETS.items() for name in module.VARIANTS]


@dataclass
class Shop:
    sandbox: MagentoSandbox
    url: str
    target: PosUnderTest
    directory: Path

    @property
    def control(self) -> Any:
        return self.sandbox.control

    def settings(self, **sections: dict[str, Any]) -> Any:
        data: dict[str, Any] = {
            "magento": {
                "base_url": self.url,
                "consumer_key": DEMO_CREDENTIALS.consumer_key,
                "consumer_secret": DEMO_CREDENTIALS.consumer_secret,
                "access_token": DEMO_CREDENTIALS.access_token,
                "access_token_secret": DEMO_CREDENTIALS.access_token_secret,
                "requests_per_second": 1000,
            },
            "orders": {"start_date": LONG_AGO, "retry_base_seconds": 1, "retry_max_seconds": 1},
            "pos": self.target.pos_settings(),
            "state": {"database_url": f"sqlite:///{self.directory / 'ledger.db'}"},
        }
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        return settings_from_dict(data)

    async def cycle(self, **sections: dict[str, Any]) -> CycleReport:
        async with open_store(self.settings(**sections)) as ctx:
            report = await SyncEngine(ctx).run_cycle()
        return report

    def source_quantity(self, sku: str) -> Any:
        from decimal import Decimal

        (item,) = [i for i in self.control.stock(sku) if i["source_code"] == "default"]
        return Decimal(str(item["quantity"]))


@pytest.fixture(params=VARIANTS, ids=[f"{kind}-{name}" for kind, name in VARIANTS])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    kind, name = request.param
    module = TARGETS[kind]
    sandbox = MagentoSandbox(orders=0)
    try:
        with serve_in_thread(sandbox.app) as url, module.start(tmp_path, module.VARIANTS[name]) as target:
            yield Shop(sandbox, url, target, tmp_path)
    finally:
        sandbox.close()
