"""Distributed mode under load: many sandbox stores, Celery workers over Redis, PostgreSQL.

Issue "Many stores", benchmark: cycles per second and orders per second for ``--stores`` sandbox
stores with 1 and 2 workers, the lag from an order becoming eligible to it being in the POS at that
load, and PostgreSQL and broker load per cycle.

Set-up: one Magento sandbox (its own process) serves every store: each store has the same Magento
connection but its own memory POS file and ledger rows, and downloads in Wait for Invoice mode, so
that every store carries every invoiced order (no Magento writes: auto-invoicing would let the first
store's invoice make the others skip). A Redis server of the benchmark's own is the broker (and
holds the request budgets); a fresh PostgreSQL database holds the stores. The scheduler runs in
this process; workers are ``m2pos worker`` processes (``--concurrency`` each).

For each worker count: the stores are added, the workers started, and once every store has run a
cycle, ``--orders`` invoiced orders are placed. Measured until every store's POS holds them (the
lag of each store: from the moment the orders were placed to the moment its POS had all of them;
the poll interval is ``--interval``), then ``--steady`` more seconds of quiet cycles:

* cycles per second and orders carried per second (stores × orders / the time to carry them);
* the lag, median, 95th percentile and maximum;
* PostgreSQL transactions per cycle (``pg_stat_database.xact_commit``) and Redis commands per cycle
  (``INFO stats total_commands_processed``), over the steady window.

    .venv/bin/python bench/distributed.py                                  # as in BENCHMARKS.md
    .venv/bin/python bench/distributed.py --stores 50 --workers 1 --steady 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis

from cycle import machine_busy_seconds, sandbox_process
from m2pos.worker import Deployment, make_celery, run_scheduler

POSTGRES = os.environ.get("M2POS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(directory: Path) -> Any:  # yields (url, client, process)
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield url, client, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def database() -> Any:
    name = f"m2pos_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def commits(name: str) -> int:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        row = admin.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


def cpu_seconds(processes: list[psutil.Process], *, children: bool = True) -> float:
    """User + system CPU of these processes and (unless told not) all their children alive now."""
    total = 0.0
    for process in processes:
        for member in [process, *(process.children(recursive=True) if children else [])]:
            try:
                times = member.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]


def documents(path: Path) -> int:
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path, timeout=10)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def run(args: argparse.Namespace, workers: int, work: Path) -> dict[str, Any]:
    work.mkdir()
    with (
        sandbox_process(0, work) as sandbox,
        redis_server(work) as (broker, client, redis_process),
        database() as (name, url),
    ):
        config = work / "m2pos.toml"
        config.write_text(
            f'[state]\ndatabase_url = "{url}"\nsecret_key_file = "{work / "key"}"\n'
            f'[worker]\nbroker_url = "{broker}"\nscheduler_tick_seconds = 0.2\n'
        )
        deployment = Deployment.open(config)
        stores = [f"store-{n:04d}" for n in range(args.stores)]
        for store in stores:
            data = {
                "magento": {"base_url": sandbox.base_url, **sandbox.credentials, "requests_per_second": 1000},
                "pos": {"kind": "memory", "path": str(work / f"pos-{store}.db")},
                "orders": {
                    "mode": "wait_for_invoice",
                    "start_date": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                    "poll_interval_seconds": args.interval,
                    "reconcile_every_seconds": 86_400,
                },
                "inventory": {"sync": False},
                "credit_memos": {"restock": "never"},
            }
            deployment.directory.add(store, data, "bench")
        env = {k: v for k, v in os.environ.items() if not k.startswith("M2POS_")}
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "m2pos.cli",
                    "--log-level",
                    "warning",
                    "--config",
                    str(config),
                    "worker",
                    "--concurrency",
                    str(args.concurrency),
                ],
                stdout=(work / f"worker-{n}.log").open("wb"),
                stderr=subprocess.STDOUT,
                env=env,
            )
            for n in range(workers)
        ]
        stop = threading.Event()
        app = make_celery(broker)
        scheduler = threading.Thread(target=run_scheduler, args=(deployment, app, stop), daemon=True)
        scheduler.start()
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                states = deployment.runs.states()
                if all(states[s].cycles >= 1 for s in stores):
                    break
                time.sleep(0.5)
            for _ in range(args.orders):
                sandbox.place("simple", "captured", False, 3)  # captured: invoiced at once
            placed = time.time()
            done: dict[str, float] = {}
            while len(done) < len(stores) and time.monotonic() < deadline:
                for store in stores:
                    if store not in done and documents(work / f"pos-{store}.db") >= args.orders:
                        done[store] = time.time() - placed
                time.sleep(0.2)
            carried_in = time.time() - placed
            before = deployment.runs.states()
            pg_before, redis_before = commits(name), int(client.info("stats")["total_commands_processed"])
            parts = {
                "workers": [psutil.Process(p.pid) for p in processes],
                "magento sandbox": [psutil.Process(sandbox.process.pid)],
                "PostgreSQL": postgres_processes(),
                "Redis": [psutil.Process(redis_process.pid)],
                "scheduler (this process)": [psutil.Process()],
            }
            alone = {"scheduler (this process)": False}  # its children are the parts above
            cpu_before = {p: cpu_seconds(m, children=alone.get(p, True)) for p, m in parts.items()}
            busy_before, steady_started = machine_busy_seconds(), time.monotonic()
            time.sleep(args.steady)
            cpu = {p: cpu_seconds(m, children=alone.get(p, True)) - cpu_before[p] for p, m in parts.items()}
            steady = time.monotonic() - steady_started
            after = deployment.runs.states()
            pg = commits(name) - pg_before
            commands = int(client.info("stats")["total_commands_processed"]) - redis_before
            busy = machine_busy_seconds() - busy_before
        finally:
            stop.set()
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
            deployment.close()
        cycles = sum(after[s].cycles - before[s].cycles for s in stores)
        lags = sorted(done.values())
        return {
            "workers": workers,
            "stores": len(stores),
            "carried": len(done) * args.orders,
            "missing_stores": len(stores) - len(done),
            "orders_per_second": len(done) * args.orders / carried_in if carried_in else 0.0,
            "cycles_per_second": cycles / steady,
            "lag_p50": statistics.median(lags) if lags else float("nan"),
            "lag_p95": lags[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
            "lag_max": lags[-1] if lags else float("nan"),
            "pg_per_cycle": pg / cycles if cycles else float("nan"),
            "redis_per_cycle": commands / cycles if cycles else float("nan"),
            "cpu_per_cycle_ms": 1000 * busy / cycles if cycles else float("nan"),
            "cpu_ms": {
                part: 1000 * seconds / cycles if cycles else float("nan") for part, seconds in cpu.items()
            },
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, default=4, help="processes per worker")
    parser.add_argument(
        "--orders", type=int, default=5, help="invoiced orders placed (each store carries all)"
    )
    parser.add_argument("--interval", type=float, default=10.0, help="each store's poll interval (s)")
    parser.add_argument("--steady", type=float, default=30.0, help="seconds of steady cycles measured")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    print(
        f"{args.stores} stores, poll every {args.interval:g} s, {args.orders} orders each, "
        f"workers × {args.concurrency} processes; {os.cpu_count()} CPUs"
    )
    problems = 0
    with tempfile.TemporaryDirectory(prefix="m2pos-bench-distributed-") as tmp:
        for workers in args.workers:
            r = run(args, workers, Path(tmp) / f"w{workers}")
            print(
                f"workers {workers}: {r['cycles_per_second']:.1f} cycles/s, "
                f"{r['orders_per_second']:.1f} orders/s, "
                f"lag p50 {r['lag_p50']:.1f} s / p95 {r['lag_p95']:.1f} s / max {r['lag_max']:.1f} s, "
                f"PostgreSQL {r['pg_per_cycle']:.1f} transactions/cycle, Redis {r['redis_per_cycle']:.1f} "
                f"commands/cycle, machine CPU {r['cpu_per_cycle_ms']:.0f} ms/cycle"
            )
            print("  CPU per cycle: " + ", ".join(f"{part} {ms:.0f} ms" for part, ms in r["cpu_ms"].items()))
            if r["missing_stores"]:
                print(f"! {int(r['missing_stores'])} stores did not carry every order")
                problems += 1
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
