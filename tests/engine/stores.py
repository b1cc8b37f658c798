"""Build a ``Store`` outside the ``store`` fixture (module-scoped set-ups, wrapped sandbox apps), and
run ``m2pos`` in a process of its own without paying for Python's start-up each time."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

from tests.engine.conftest import Store

# --- m2pos in its own process, started in milliseconds ---------------------------------------------
#
# ``python -m m2pos.cli`` spends about a second importing before it does anything; the crash tests
# start many processes. A fork server (a clean single-threaded process with m2pos already imported)
# forks each one instead. The child is a real process of its own: ``M2POS_CRASH_AT`` ends it with
# ``os._exit`` and SIGKILL kills it, with nothing shared with the test process but the files.

_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(
    [
        "m2pos.cli",
        "m2pos.engine",
        "m2pos.engine.bootstrap",
        "m2pos.pos.memory",
        "m2pos.pos.lightspeed_onsite",
        "tests.engine.stores",
    ]
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
