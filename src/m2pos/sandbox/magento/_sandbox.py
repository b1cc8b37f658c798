"""``MagentoSandbox``: wires the store, the emulated REST API, the control interface and the faults."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSettings
from m2pos.sandbox.magento._app import build_app
from m2pos.sandbox.magento._backend import Backend, SandboxConfig
from m2pos.sandbox.magento._clock import Clock
from m2pos.sandbox.magento._control import Control
from m2pos.sandbox.magento._credentials import DEMO_CREDENTIALS, SandboxCredentials
from m2pos.sandbox.magento._oauth import SIGNATURE_METHODS
from m2pos.sandbox.magento._orders import make_store_views
from m2pos.sandbox.magento._store import ORDERS, Store

DEFAULT_STORE_CODES = ("default", "french", "german")


class MagentoSandbox:
    """An emulator of Magento 2.4.8's admin REST API with demo data.

    ``sandbox.app`` is the ASGI app (serve it with uvicorn, or call it in-process through
    ``httpx.ASGITransport``); ``sandbox.control`` drives and inspects it; ``sandbox.faults`` is the
    live ``FaultSettings``. With ``db_path`` the data lives in that SQLite file and a file that was
    already populated is reused as it is (no new demo orders are generated).
    """

    def __init__(
        self,
        orders: int = 0,
        seed: int = 1,
        *,
        credentials: SandboxCredentials = DEMO_CREDENTIALS,
        allow_integration_bearer: bool = False,
        input_limits: bool = False,
        latency_ms: int = 0,
        store_codes: tuple[str, ...] = DEFAULT_STORE_CODES,
        db_path: Path | str | None = None,
        two_factor_auth: bool = True,
        clock_offset_seconds: float = 0.0,
        https_redirect: bool = False,
        auto_return: bool = False,
        oauth_encoded_slash_bug: bool = True,
        signature_methods: tuple[str, ...] = SIGNATURE_METHODS,
        developer_mode: bool = False,
        faults: FaultSettings | None = None,
        data_anchor: datetime | None = None,
        always_date_header: bool = False,
    ) -> None:
        if not store_codes or "all" in store_codes:
            raise ValueError("store_codes must be non-empty and must not contain 'all'")
        self.seed = seed
        self.credentials = credentials
        self.config = SandboxConfig(
            allow_integration_bearer=allow_integration_bearer,
            input_limits=input_limits,
            auto_return=auto_return,
            two_factor_auth=two_factor_auth,
            https_redirect=https_redirect,
            oauth_encoded_slash_bug=oauth_encoded_slash_bug,
            developer_mode=developer_mode,
        )
        self.clock = Clock(clock_offset_seconds)
        self.store = Store(db_path)
        self.backend = Backend(
            store=self.store,
            credentials=credentials,
            config=self.config,
            clock=self.clock,
            views=make_store_views(tuple(store_codes)),
            seed=seed,
            signature_methods=signature_methods,
        )
        self.backend.populate(orders, data_anchor)
        settings = faults if faults is not None else FaultSettings()
        if latency_ms:
            settings.latency_ms = latency_ms
        self._injector = FaultInjector(settings)
        self.counters = Counters()
        self.control = Control(self.backend, self._injector, self.counters)
        self.app: Any = build_app(
            self.backend, self.control, self._injector, self.counters, always_date_header
        )

    @property
    def faults(self) -> FaultSettings:
        return self._injector.settings

    @faults.setter
    def faults(self, settings: FaultSettings) -> None:
        self._injector.replace(settings)

    @property
    def store_codes(self) -> list[str]:
        return [v.code for v in self.backend.views]

    def order_count(self) -> int:
        return self.store.count(ORDERS)

    def close(self) -> None:
        self.store.close()
