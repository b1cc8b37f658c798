"""The client's read path: stream every order of the Magento sandbox with ``MagentoClient.orders()``.

For each run (number of orders × injected latency) it reports:

* orders per second, end to end (the sandbox serves from SQLite in its own process);
* Magento requests per 1,000 orders, from the sandbox's per-route counters (its control interface),
  cross-checked against a counting transport inside the client, and the per-order GETs (goal: none);
* peak RSS of the measuring process while it streams (psutil, sampled every 5 ms, cross-checked with
  the kernel's high-water mark ``ru_maxrss``), and the client's CPU time per 1,000 orders.

The sandbox runs as ``python -m m2pos.cli sandbox magento --port 0 --orders N --db PATH`` in a
subprocess. Its SQLite file is generated once per (orders, seed, sandbox source) and cached under
``bench/out/`` (git-ignored), so 100,000 orders are generated once (about a minute) and reused. Each
measurement runs in a fresh Python process (this script with ``--measure``), so a peak RSS belongs
to that run alone and can be compared across sizes.

    make bench                                                       # as in BENCHMARKS.md
    .venv/bin/python bench/read_path.py --orders 2000 --latency-ms 0 --no-write        # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from m2pos.magento import MagentoClient, OAuth1Credentials

# The measuring process imports the client only: the sandbox (Starlette, uvicorn…) is imported by the
# orchestrating process, so it does not weigh in the RSS measured.

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
MARKDOWN = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- read_path:begin -->", "<!-- read_path:end -->"
MB = 1024 * 1024

GOAL_REQUESTS_PER_1000 = 10.0
GOAL_PEAK_RSS_MB = 150.0
FLAT_TOLERANCE_MB = 10.0  # "flat": the largest run's peak within this of the smallest run's
SAMPLE_SECONDS = 0.005
_ORDER_LIST = re.compile(r"/V1/orders$")
_ONE_ORDER = re.compile(r"/V1/orders/[^/]+$")


# --- the measuring process ----------------------------------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the requests the client sends, by route kind; everything else is httpx's transport."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.counts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = "list" if _ORDER_LIST.search(path) else "one order" if _ONE_ORDER.search(path) else "other"
        self.counts[kind] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class PeakRss:
    """The highest RSS of this process seen by a sampling thread while the block runs."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.peak = 0
        self.samples = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self.samples += 1
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


async def stream(base_url: str, credentials: dict[str, str], page_size: int, expect: int) -> dict[str, Any]:
    """Stream every order once; constant memory (no list of orders, no set of ids)."""
    auth = OAuth1Credentials(
        credentials["consumer_key"],
        credentials["consumer_secret"],
        credentials["access_token"],
        credentials["access_token_secret"],
    )
    transport = CountingTransport()
    me = psutil.Process()
    async with MagentoClient(base_url, auth=auth, page_size=page_size, transport=transport) as magento:
        paginator = magento.orders()
        baseline = me.memory_info().rss
        cpu_before = sum(me.cpu_times()[:2])
        count, last_id, items = 0, 0, 0
        tenth = max(1, expect // 10)
        progress: list[float] = []  # RSS (MB) after each tenth of the stream
        with PeakRss() as rss:
            started = time.perf_counter()
            async for order in paginator:
                if order.entity_id is None or order.entity_id <= last_id:
                    raise SystemExit(f"orders out of order or repeated at {order.entity_id} after {last_id}")
                last_id = order.entity_id
                items += len(order.items)
                count += 1
                if count % tenth == 0:
                    progress.append(round(me.memory_info().rss / MB, 1))
            seconds = time.perf_counter() - started
        cpu = sum(me.cpu_times()[:2]) - cpu_before
    if count != expect:
        raise SystemExit(f"streamed {count} orders, the sandbox holds {expect}")
    return {
        "orders": count,
        "order_rows": items,
        "seconds": seconds,
        "client_cpu_seconds": cpu,
        "pages": paginator.pages_fetched,
        "duplicates_skipped": paginator.duplicates_skipped,
        "client_requests": dict(transport.counts),
        "baseline_rss": baseline,
        "peak_rss": rss.peak,
        "rss_samples": rss.samples,
        "rss_by_tenth_mb": progress,
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB on Linux
    }


# --- the sandbox in its own process --------------------------------------------------------------


@dataclass
class Sandbox:
    process: subprocess.Popen[str]
    base_url: str
    control: httpx.Client

    def counters(self) -> dict[str, int]:
        response = self.control.get("/counters")
        response.raise_for_status()
        return dict(response.json()["counters"])

    def reset_counters(self) -> None:
        self.control.post("/counters/reset").raise_for_status()

    def set_latency(self, milliseconds: int) -> None:
        self.control.put("/faults", json={"latency_ms": milliseconds}).raise_for_status()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the sandbox process so far."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)


def sandbox_command(orders: int, seed: int, db: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "m2pos.cli", "sandbox", "magento"),
        *("--port", "0", "--orders", str(orders), "--seed", str(seed), "--db", str(db)),
    ]


@contextmanager
def sandbox_process(orders: int, seed: int, db: Path, startup_timeout: float) -> Iterator[Sandbox]:
    log = (OUT / f"sandbox-{orders}.stderr").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("M2POS_")}
    process = subprocess.Popen(
        sandbox_command(orders, seed, db), stdout=subprocess.PIPE, stderr=log, text=True, env=env
    )
    try:
        assert process.stdout is not None
        base_url = ""
        deadline = time.monotonic() + startup_timeout
        for line in process.stdout:  # the banner ends with the "Sign requests" line
            text = line.strip()
            if text.startswith("Base URL:"):
                base_url = text.split()[2].split("/rest/")[0]
            if text.startswith("Consumer key:") and text.split()[-1] != demo_credentials()["consumer_key"]:
                raise RuntimeError("the sandbox does not use the demo credentials")
            if text.startswith("Sign requests") or time.monotonic() > deadline:
                break
        if not base_url:
            raise RuntimeError(f"the sandbox did not start (see {log.name})")
        with httpx.Client(base_url=f"{base_url}/_sandbox", timeout=60) as control:
            yield Sandbox(process, base_url, control)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def demo_credentials() -> dict[str, str]:
    """The sandbox's published demo integration, as ``OAuth1Credentials`` arguments."""
    from m2pos.sandbox.magento import DEMO_CREDENTIALS as c

    return {
        "consumer_key": c.consumer_key,
        "consumer_secret": c.consumer_secret,
        "access_token": c.access_token,
        "access_token_secret": c.access_token_secret,
    }


def sandbox_fingerprint() -> str:
    """Changes when the sandbox's code does, so a cached database never outlives its generator."""
    import m2pos.sandbox.magento

    digest = hashlib.sha256()
    for path in sorted(Path(m2pos.sandbox.magento.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cached_database(orders: int, seed: int, startup_timeout: float) -> Path:
    """The sandbox database with ``orders`` demo orders, generated on first use."""
    db = OUT / f"sandbox-{orders}-seed{seed}-{sandbox_fingerprint()}.db"
    if db.exists():
        return db
    for stale in OUT.glob(f"sandbox-{orders}-seed{seed}-*.db*"):  # made by an older sandbox
        stale.unlink()
    partial = db.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm", "-journal"):
        partial.with_name(partial.name + suffix).unlink(missing_ok=True)
    print(f"   … generating {orders:,} demo orders into {db.relative_to(ROOT)} (once)", flush=True)
    started = time.monotonic()
    with sandbox_process(orders, seed, partial, startup_timeout):
        pass  # its banner comes after the data is committed
    # The sandbox keeps its file in WAL mode: fold the log into the file so it can be renamed alone.
    with closing(sqlite3.connect(partial)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        populated = conn.execute("SELECT value FROM meta WHERE key = 'populated'").fetchone()
        (count,) = conn.execute("SELECT COUNT(*) FROM orders").fetchone()
    if not populated or count != orders:
        raise RuntimeError(f"the generated database holds {count} orders, not {orders}")
    partial.rename(db)  # only a complete database gets the final name
    print(f"     generated in {time.monotonic() - started:.0f} s", flush=True)
    return db


# --- the runs -------------------------------------------------------------------------------------


@dataclass
class Run:
    orders: int
    latency_ms: int
    page_size: int
    seconds: float
    orders_per_second: float
    sandbox_requests: int
    sandbox_order_list_requests: int
    sandbox_per_order_requests: int
    client_requests: int
    requests_per_1000: float
    peak_rss_mb: float
    baseline_rss_mb: float
    ru_maxrss_mb: float
    client_cpu_ms_per_1000: float
    sandbox_cpu_ms_per_1000: float
    rss_by_tenth_mb: list[float]
    pages: int
    duplicates_skipped: int


def measure(sandbox: Sandbox, orders: int, latency_ms: int, page_size: int) -> Run:
    sandbox.set_latency(latency_ms)
    sandbox.reset_counters()
    sandbox_cpu = sandbox.cpu_seconds()
    worker = subprocess.run(
        [
            *(sys.executable, __file__, "--measure", sandbox.base_url),
            *("--expect", str(orders), "--page-size", str(page_size)),
        ],
        input=json.dumps(demo_credentials()),  # on stdin, not in the process list
        capture_output=True,
        text=True,
        check=False,
    )
    if worker.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{worker.stderr}{worker.stdout}")
    sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu  # the worker's start-up included: a few ms
    result = json.loads(worker.stdout)
    counters = sandbox.counters()
    sandbox_total = sum(counters.values())
    client_total = sum(result["client_requests"].values())
    if sandbox_total != client_total:
        raise RuntimeError(f"the sandbox counted {sandbox_total} requests, the client sent {client_total}")
    return Run(
        orders=orders,
        latency_ms=latency_ms,
        page_size=page_size,
        seconds=result["seconds"],
        orders_per_second=orders / result["seconds"],
        sandbox_requests=sandbox_total,
        sandbox_order_list_requests=counters.get("GET /V1/orders", 0),
        sandbox_per_order_requests=counters.get("GET /V1/orders/{id}", 0),
        client_requests=client_total,
        requests_per_1000=sandbox_total * 1000 / orders,
        peak_rss_mb=result["peak_rss"] / MB,
        baseline_rss_mb=result["baseline_rss"] / MB,
        ru_maxrss_mb=result["ru_maxrss"] / MB,
        client_cpu_ms_per_1000=result["client_cpu_seconds"] * 1000 * 1000 / orders,
        sandbox_cpu_ms_per_1000=sandbox_cpu * 1000 * 1000 / orders,
        rss_by_tenth_mb=result["rss_by_tenth_mb"],
        pages=result["pages"],
        duplicates_skipped=result["duplicates_skipped"],
    )


def goals(runs: list[Run]) -> list[tuple[str, bool, str]]:
    at_default = [r for r in runs if r.page_size == 100]
    worst_requests = max((r.requests_per_1000 for r in at_default), default=float("nan"))
    per_order = sum(r.sandbox_per_order_requests for r in runs)

    def high(run: Run) -> float:  # the sampled peak or the kernel's high-water mark, whichever is higher
        return max(run.peak_rss_mb, run.ru_maxrss_mb)

    peak = max(high(r) for r in runs)
    smallest = min(runs, key=lambda r: r.orders)
    largest = max(runs, key=lambda r: r.orders)
    growth = max(high(r) for r in runs if r.orders == largest.orders) - max(
        high(r) for r in runs if r.orders == smallest.orders
    )
    return [
        (
            f"≤ {GOAL_REQUESTS_PER_1000:g} Magento requests per 1,000 orders at page size 100",
            bool(at_default) and worst_requests <= GOAL_REQUESTS_PER_1000,
            f"{worst_requests:.2f}" if at_default else "not measured at page size 100",
        ),
        ("no per-order GETs", per_order == 0, f"{per_order} GET /V1/orders/{{id}}"),
        (f"peak RSS ≤ {GOAL_PEAK_RSS_MB:g} MB", peak <= GOAL_PEAK_RSS_MB, f"{peak:.1f} MB at most"),
        (
            f"RSS flat in the number of orders (within {FLAT_TOLERANCE_MB:g} MB)",
            largest.orders == smallest.orders or abs(growth) <= FLAT_TOLERANCE_MB,
            f"{growth:+.1f} MB from {smallest.orders:,} to {largest.orders:,} orders",
        ),
    ]


def table(runs: list[Run]) -> str:
    header = (
        "| orders | latency | orders/s | time | requests (per 1,000 orders) | per-order GETs "
        "| peak RSS (ru_maxrss) | RSS before streaming | CPU per 1,000 orders: client / sandbox |"
    )
    rows = [header, "|" + "---:|" * 9]
    for r in runs:
        rows.append(
            f"| {r.orders:,} | {r.latency_ms} ms | {r.orders_per_second:,.0f} | {r.seconds:.1f} s "
            f"| {r.sandbox_requests:,} ({r.requests_per_1000:.2f}) | {r.sandbox_per_order_requests} "
            f"| {r.peak_rss_mb:.1f} MB ({r.ru_maxrss_mb:.1f}) | {r.baseline_rss_mb:.1f} MB "
            f"| {r.client_cpu_ms_per_1000:,.0f} ms / {r.sandbox_cpu_ms_per_1000:,.0f} ms |"
        )
    return "\n".join(rows)


def rss_curve(runs: list[Run]) -> str:
    """RSS after each tenth of the largest stream: flat within a run as well as across sizes."""
    largest = max(runs, key=lambda r: (r.orders, -r.latency_ms))
    points = ", ".join(f"{mb:.1f}" for mb in largest.rss_by_tenth_mb)
    where = f"the {largest.orders:,}-order stream at {largest.latency_ms} ms"
    return f"RSS (MB) after each tenth of {where}: {points}."


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "CPUs": str(os.cpu_count()),
        "CPU": model,
        "memory": f"{psutil.virtual_memory().total / 1024**3:.1f} GiB",
        "Python": platform.python_version(),
        "OS": platform.platform(terse=True),
        "httpx": httpx.__version__,
    }


def observations(runs: list[Run]) -> str:
    """What the figures say, computed from them."""
    lines = []
    small = min(runs, key=lambda r: (r.orders, r.latency_ms))
    large = max(runs, key=lambda r: (r.orders, -r.latency_ms))
    if large.orders > small.orders:
        lines.append(
            f"From {small.orders:,} to {large.orders:,} orders, the client's CPU per 1,000 orders goes "
            f"from {small.client_cpu_ms_per_1000:,.0f} to {large.client_cpu_ms_per_1000:,.0f} ms and the "
            f"sandbox's from {small.sandbox_cpu_ms_per_1000:,.0f} to {large.sandbox_cpu_ms_per_1000:,.0f} ms."
        )
        if large.sandbox_cpu_ms_per_1000 > 1.5 * small.sandbox_cpu_ms_per_1000:
            lines.append(
                "The server's share grows with the store: like Magento, the sandbox pages with "
                "LIMIT/OFFSET, so each later page costs more to find (page 1,000 skips 99,900 rows)."
            )
    return " ".join(lines)


def markdown(runs: list[Run], command: str, seed: int) -> str:
    info = machine()
    checks = "\n".join(f"- {'✅' if ok else '❌'} {name}: {value}" for name, ok, value in goals(runs))
    page_sizes = ", ".join(sorted({str(r.page_size) for r in runs}))
    return f"""{BEGIN}
## Read path: streaming orders from Magento

Command: {command}, on {datetime.now(UTC):%Y-%m-%d}.
Machine: {info["CPUs"]} CPUs ({info["CPU"]}), {info["memory"]}, Python {info["Python"]},
{info["OS"]}, httpx {info["httpx"]}.
Demo databases are generated once per size (100,000 orders: about a minute) and cached in
`bench/out/`; the timings exclude that.

`MagentoClient.orders()` streams every order of the sandbox (OAuth 1.0a, page size {page_sizes},
sorted by `entity_id`, demo data of seed {seed}); the sandbox runs in its own process
(`m2pos sandbox magento --port 0 --orders N --db bench/out/…`, SQLite), on the same machine.

{table(runs)}

{rss_curve(runs)}

{checks}

{observations(runs)}

How each figure is obtained (`bench/read_path.py`):

- *orders/s*: orders streamed ÷ wall time of the streaming loop, end to end; the client and the
  sandbox share the machine's CPUs. *CPU per 1,000 orders*: user + system CPU time of the measuring
  process (OAuth signing, HTTP, JSON and pydantic parsing) and of the sandbox process (SQLite
  search, JSON rendering, signature checks) during the run.
- *requests*: the sandbox's per-route counters (control interface), reset before each run; they
  must equal the requests counted by a transport inside the client, or the run fails. *Per-order
  GETs* are `GET /V1/orders/{{id}}` calls.
- *peak RSS*: each run streams in a fresh Python process; a thread samples its RSS with psutil
  every {SAMPLE_SECONDS * 1000:g} ms during the loop; in brackets, the kernel's high-water mark
  `ru_maxrss` of that process, which sampling cannot miss. *RSS before streaming* is after imports
  and client set-up. Memory is bounded by design: the paginator holds one page of orders (and the
  ids of the last three pages, to drop repeats), and nothing is kept once an order is yielded
  (`tests/magento/test_paginate_memory.py`). The few MB RSS creeps over a long stream are the
  allocator's: checked once with tracemalloc, live Python objects grew by 0.2 MB (the size of the
  current page varies) between pages 100 and 700 of the 100,000-order stream.
- *latency*: added by the sandbox before every Magento request (its fault settings); the client
  makes one round trip per page, sequentially.
{END}"""


def write_markdown(section: str) -> None:
    text = MARKDOWN.read_text() if MARKDOWN.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    MARKDOWN.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--orders", type=int, nargs="+", default=[10_000, 100_000], help="orders in the sandbox, per run"
    )
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 20], help="injected latencies")
    parser.add_argument("--page-size", type=int, default=100, help="the client's page size (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo data")
    parser.add_argument("--startup-timeout", type=float, default=1800, help="seconds to generate data")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {MARKDOWN.name}")
    parser.add_argument("--measure", metavar="BASE_URL", help=argparse.SUPPRESS)  # the worker mode
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        credentials = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(stream(args.measure, credentials, args.page_size, args.expect))))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"{info['CPUs']} CPUs ({info['CPU']}), Python {info['Python']}, {info['OS']}", flush=True)
    runs: list[Run] = []
    for orders in args.orders:
        db = cached_database(orders, args.seed, args.startup_timeout)
        with sandbox_process(orders, args.seed, db, args.startup_timeout) as sandbox:
            for latency in args.latency_ms:
                print(f"   … {orders:,} orders, {latency} ms latency", flush=True)
                run = measure(sandbox, orders, latency, args.page_size)
                runs.append(run)
                (OUT / f"read_path-{orders}-{latency}ms.json").write_text(json.dumps(asdict(run), indent=2))
    print()
    print(table(runs))
    print()
    print(rss_curve(runs))
    print()
    verdicts = goals(runs)
    for name, ok, value in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    if not args.no_write:
        arguments = " ".join(sys.argv[1:])
        command = (
            f"`python bench/read_path.py {arguments}`"
            if arguments
            else "`make bench` (it runs `.venv/bin/python bench/read_path.py`)"
        )
        write_markdown(markdown(runs, command, args.seed))
        print(f"\n{MARKDOWN.name} updated")
    return 0 if all(ok for _, ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
