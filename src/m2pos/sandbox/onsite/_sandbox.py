"""``OnSiteSandbox``: wires the store, the emulated OnSite Server API, sessions, the control
interface and the faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from m2pos.sandbox._faults import Counters, FaultInjector, FaultSettings
from m2pos.sandbox.onsite._app import build_app
from m2pos.sandbox.onsite._backend import Backend, OnSiteConfig
from m2pos.sandbox.onsite._control import Control
from m2pos.sandbox.onsite._credentials import DEMO_ONSITE_CREDENTIALS, OnSiteCredentials
from m2pos.sandbox.onsite._routes import Server
from m2pos.sandbox.onsite._sessions import Sessions
from m2pos.sandbox.onsite._store import Store


class OnSiteSandbox:
    """An emulator of a Lightspeed OnSite server's API (XML over HTTP(S)) with demo data.

    ``sandbox.app`` is the ASGI app (serve it with uvicorn — over HTTPS like a real server, see
    ``serve_onsite_main`` and ``m2pos.sandbox._tls`` — or call it in-process through
    ``httpx.ASGITransport``); ``sandbox.control`` drives and inspects it; ``sandbox.faults`` is the
    live ``FaultSettings``. ``products`` generated products come on top of the fixed demo catalogue
    (the Magento sandbox's SKUs). With ``db_path`` the data lives in that SQLite file and a file
    that was already populated is reused as it is; sessions and locks never survive a restart.
    """

    def __init__(
        self,
        products: int = 50,
        seed: int = 1,
        *,
        credentials: OnSiteCredentials = DEMO_ONSITE_CREDENTIALS,
        seats: int = 5,
        db_path: Path | str | None = None,
        faults: FaultSettings | None = None,
        latency_ms: int = 0,
        lock_timeout_seconds: float = 60.0,
        demo_app_enabled: bool = True,
        default_tax_code: str = "No Tax",
    ) -> None:
        if seats < 1:
            raise ValueError("seats must be at least 1")
        self.seed = seed
        self.credentials = credentials
        self.config = OnSiteConfig(
            seats=seats,
            lock_timeout_seconds=lock_timeout_seconds,
            demo_app_enabled=demo_app_enabled,
            default_tax_code=default_tax_code,
        )
        self.store = Store(db_path)
        self.backend = Backend(self.store, self.config)
        self.backend.populate(products, seed)
        self.sessions = Sessions(seats, lock_timeout_seconds)
        self.server = Server(self.backend, self.sessions, credentials)
        settings = faults if faults is not None else FaultSettings()
        if latency_ms:
            settings.latency_ms = latency_ms
        self._injector = FaultInjector(settings)
        self.counters = Counters()
        self.control = Control(self.server, self._injector, self.counters)
        self.app: Any = build_app(self.server, self.control, self._injector, self.counters)

    @property
    def faults(self) -> FaultSettings:
        return self._injector.settings

    @faults.setter
    def faults(self, settings: FaultSettings) -> None:
        self._injector.replace(settings)

    def close(self) -> None:
        self.store.close()


def demo_pos_settings(base_url: str, workdir: Path) -> dict[str, object]:
    """The ``[pos]`` table for the sandbox at ``base_url`` (the demo: Orders, reserved, with deposits)."""
    creds = DEMO_ONSITE_CREDENTIALS
    return {
        "kind": "lightspeed_onsite",
        "base_url": f"{base_url}/api/",
        "username": creds.username,
        "password": creds.password,
        "app_id": creds.app_id,
        "app_private_id": creds.app_private_id,
        "verify_tls": False,  # the sandbox, like a real OnSite server, has a self-signed certificate
        "session_file": str(workdir / "onsite-session"),
        "lightspeed_onsite": {
            "download_orders_as": "order",
            "reserve_order_inventory": True,
            "create_order_deposits": True,
        },
    }
