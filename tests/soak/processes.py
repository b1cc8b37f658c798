"""m2pos in processes of its own, killed and started again; the faults of a run; the invoice gate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from typing import Any

from starlette.types import Receive, Scope, Send

from m2pos.sandbox._faults import FaultSwitches
from tests.engine.conftest import Store, to_toml

# Rates per request, on every route of each side while m2pos is being killed. Magento's faults cost
# more time (m2pos backs off longer, and the order pages are read one after the other), so its
# rates are lower. Timeouts hang longer than m2pos waits (its timeouts are 2 s).
FAULTS = {
    "magento": {
        "error_rate": 0.01,
        "rate_limit_rate": 0.003,
        "timeout_rate": 0.002,
        "drop_after_commit_rate": 0.01,
        "slow_rate": 0.01,
    },
    "pos": {
        "error_rate": 0.01,
        "rate_limit_rate": 0.003,
        "timeout_rate": 0.002,
        "drop_after_commit_rate": 0.015,
        "slow_rate": 0.01,
    },
}
# A slow answer (1.5 s) stays within m2pos's 2 s timeouts: late, not lost.
TIMING = {"retry_after_seconds": 1, "timeout_seconds": 4, "slow_ms": 1500}
_FIRED = {
    "500": "5xx",
    "429": "429",
    "504": "timeouts",
    "499": "timeouts",
    "0": "dropped after commit",
    "slow": "slow",
}


def faults_fired(switches: FaultSwitches) -> Counter[str]:
    fired: Counter[str] = Counter()
    for statuses in switches.counters()["statuses"].values():
        for status, n in statuses.items():
            if status in _FIRED:
                fired[_FIRED[status]] += n
    return fired


def write_settings(store: Store, **sections: dict[str, Any]) -> None:
    """Change the settings file under a running m2pos: written aside, then renamed over it, so that a
    cycle never reads half a file."""
    for name, values in sections.items():
        store.settings.setdefault(name, {}).update(values)
    aside = store.config_path.with_suffix(".new")
    aside.write_text(to_toml(store.settings))
    os.replace(aside, store.config_path)


class InvoiceGate:
    """Magento refuses to invoice the orders in ``held`` (as for an order on hold), so that they stay in
    the POS uninvoiced until the shop cancels them: the orders "cancelled after download"."""

    _PATH = re.compile(r"/V1/order/(\d+)/invoice$")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.held: set[int] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self._PATH.search(scope.get("path", "")) if scope["type"] == "http" else None
        if match and scope["method"] == "POST" and int(match.group(1)) in self.held:
            body = json.dumps(
                {
                    "message": "An invoice cannot be created when an order has a status of %1",
                    "parameters": ["holded"],
                }
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class Real:
    """``python -m m2pos.cli``, as a merchant starts it (the forked ones skip Python's start-up)."""

    def __init__(self, store: Store, *args: str) -> None:
        self.log = store.directory / "m2pos-real.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "m2pos.cli", "--config", str(store.config_path), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()

    def wait(self, timeout: float = 120) -> int:
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text()
