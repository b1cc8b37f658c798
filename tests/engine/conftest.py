"""A Magento sandbox over real HTTP, a settings file pointing m2pos at it, and ways to run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from m2pos.cli import app
from m2pos.ledger import Ledger
from m2pos.pos.memory import MemoryPos
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox

LONG_AGO = "2020-01-01T00:00:00Z"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items() if value is not None]
        lines.append("")
    return "\n".join(lines)


@dataclass
class Store:
    """One merchant's set-up: Magento sandbox, settings file, ledger file, memory POS file."""

    sandbox: MagentoSandbox
    url: str
    directory: Path
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.directory / "m2pos.toml"

    @property
    def database_url(self) -> str:
        return self.settings["state"]["database_url"]  # type: ignore[no-any-return]

    def configure(self, **sections: dict[str, Any]) -> None:
        for name, values in sections.items():
            self.settings.setdefault(name, {}).update(values)
        self.config_path.write_text(to_toml(self.settings))

    def cli(self, *args: str) -> Result:
        """Run an ``m2pos`` command in this process (fast); the exit code is in the result."""
        runner = CliRunner(env={"COLUMNS": "300"})  # wide enough that table cells do not wrap
        return runner.invoke(app, ["--config", str(self.config_path), *args], catch_exceptions=False)

    def process(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``m2pos`` as its own process (crash and signal tests)."""
        return subprocess.run(
            [sys.executable, "-m", "m2pos.cli", "--config", str(self.config_path), *args],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pos(self) -> MemoryPos:
        return MemoryPos(Path(self.settings["pos"]["path"]))

    def ledger(self) -> Ledger:
        return Ledger.open(self.database_url)

    def pos_references(self, kind: str = "sale") -> list[str]:
        pos = self.pos()
        try:
            return sorted(d.reference for d in pos.documents(kind))
        finally:
            pos._db.close()


@contextmanager
def open_store(directory: Path, wrap: Callable[[Any], Any] | None = None) -> Iterator[Store]:
    """A Magento sandbox served over HTTP and a settings file for it; ``wrap`` may put an ASGI
    middleware around the sandbox."""
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = MagentoSandbox(orders=0)
    with serve_in_thread(wrap(sandbox.app) if wrap else sandbox.app) as url:
        shop = Store(sandbox=sandbox, url=url, directory=directory)
        shop.configure(
            magento={
                "base_url": url,
                "consumer_key": DEMO_CREDENTIALS.consumer_key,
                "consumer_secret": DEMO_CREDENTIALS.consumer_secret,
                "access_token": DEMO_CREDENTIALS.access_token,
                "access_token_secret": DEMO_CREDENTIALS.access_token_secret,
            },
            orders={"start_date": LONG_AGO, "retry_base_seconds": 1, "retry_max_seconds": 1},
            pos={"kind": "memory", "path": str(directory / "pos.db")},
            state={"database_url": f"sqlite:///{directory / 'ledger.db'}"},
            # Reading Magento's restock takes a stock read after the credit memo; tests of it set it.
            credit_memos={"restock": "never"},
        )
        yield shop


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path) as shop:
        yield shop
