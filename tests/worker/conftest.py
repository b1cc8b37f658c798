"""Distributed mode against real services: a Redis server of the test's own (so that a test may
restart it), the machine's PostgreSQL, Magento sandboxes served over HTTP, and ``m2pos worker``
processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import MagentoSandbox


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(_free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class Cluster:
    """A deployment: its settings file, stores whose Magento is a sandbox, and worker processes."""

    directory: Path
    database_url: str
    redis: RedisServer
    sandboxes: dict[str, MagentoSandbox] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    broker_url: str = ""

    def add_sandbox(self, store: str, latency_ms: int = 0) -> MagentoSandbox:
        sandbox = MagentoSandbox(orders=0, latency_ms=latency_ms)
        self.sandboxes[store] = sandbox
        self.urls[store] = self.stack.enter_context(serve_in_thread(sandbox.app))
        return sandbox

    def pos_documents(self, store: str) -> list[tuple[str, str]]:
        """(reference, kind) of every document in the store's memory POS."""
        path = self.directory / f"pos-{store}.db"
        if not path.exists():
            return []
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
            try:
                return [(str(r), str(k)) for r, k in db.execute("SELECT reference, kind FROM documents")]
            except sqlite3.OperationalError:  # the POS is creating its file this very moment
                return []

    @property
    def config(self) -> Path:
        return self.directory / "m2pos.toml"

    def write_config(self, orders_per_slice: int = 500, broker_url: str = "", queue: str = "m2pos") -> None:
        self.broker_url = broker_url or self.redis.url
        self.config.write_text(
            f'[state]\ndatabase_url = "{self.database_url}"\nsecret_key_file = "{self.directory / "key"}"\n'
            f'[worker]\nbroker_url = "{self.broker_url}"\nqueue = "{queue}"\n'
            "lease_seconds = 6\nbusy_retry_seconds = 0.5\n"
            f"scheduler_tick_seconds = 0.2\nstale_queue_seconds = 5\norders_per_slice = {orders_per_slice}\n"
        )

    def store_data(self, store: str) -> dict[str, Any]:
        creds = self.sandboxes[store].credentials
        return {
            "magento": {
                "base_url": self.urls[store],
                "consumer_key": creds.consumer_key,
                "consumer_secret": creds.consumer_secret,
                "access_token": creds.access_token,
                "access_token_secret": creds.access_token_secret,
            },
            "pos": {"kind": "memory", "path": str(self.directory / f"pos-{store}.db")},
            "orders": {
                "start_date": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
                "poll_interval_seconds": 1,
            },
            "inventory": {"sync": False},
            "credit_memos": {"restock": "never"},
        }

    def start_worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        log = (self.directory / f"worker-{len(self.workers)}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "m2pos.cli",
                "--config",
                str(self.config),
                "worker",
                "--concurrency",
                str(concurrency),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "M2POS_SECRET_KEY": ""},
        )
        self.workers.append(process)
        return process

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
        for process in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            if process.poll() is None:
                process.kill()


@pytest.fixture
def cluster(postgres_url: str, redis_server: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    env = Cluster(tmp_path, postgres_url, redis_server)
    env.write_config()
    with env.stack:
        yield env
        env.stop_workers()
    for sandbox in env.sandboxes.values():
        sandbox.close()
