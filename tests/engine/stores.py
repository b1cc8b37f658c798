"""Build a ``Store`` outside the ``store`` fixture (module-scoped set-ups, wrapped sandbox apps), and
run ``m2pos`` in a process of its own without paying for Python's start-up each time."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox
from tests.engine.conftest import LONG_AGO, Store


@contextmanager
def open_store(directory: Path, wrap: Callable[[Any], Any] | None = None) -> Iterator[Store]:
    """The same set-up as the ``store`` fixture; ``wrap`` may put an ASGI middleware around the sandbox."""
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = MagentoSandbox(orders=0)
    app = wrap(sandbox.app) if wrap else sandbox.app
    with serve_in_thread(app) as url:
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
        )
        yield shop


# --- m2pos in its own process, started in milliseconds ---------------------------------------------
#
# ``python -m m2pos.cli`` spends about a second importing before it does anything; the crash tests
# start many processes. A fork server (a clean single-threaded process with m2pos already imported)
# forks each one instead. The child is a real process of its own: ``M2POS_CRASH_AT`` ends it with
# ``os._exit`` and SIGKILL kills it, with nothing shared with the test process but the files.

_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(
    ["m2pos.cli", "m2pos.engine", "m2pos.engine.bootstrap", "m2pos.pos.memory", "tests.engine.stores"]
)


def _cli_main(args: list[str], env: dict[str, str], log: str) -> None:
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ.update(env)
    from m2pos.cli import app

    app(args, prog_name="m2pos")  # exits with the command's code (SystemExit)


@dataclass
class CliProcess:
    process: BaseProcess
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        self.process.kill()

    def wait(self, timeout: float = 120) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
            raise AssertionError(f"m2pos did not finish in {timeout}s:\n{self.output()}")
        return self.process.exitcode

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def start_cli(store: Store, *args: str, env: dict[str, str] | None = None) -> CliProcess:
    """``m2pos --config <store> ARGS`` in a process of its own; its output goes to a log file."""
    log = store.directory / f"m2pos-{uuid.uuid4().hex[:8]}.log"
    process = _FORKSERVER.Process(
        target=_cli_main,
        args=(["--config", str(store.config_path), *args], dict(env or {}), str(log)),
        daemon=True,
    )
    process.start()
    return CliProcess(process, log)
