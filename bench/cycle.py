"""The whole sync cycle with the memory POS, against the Magento sandbox in its own process.

Three measurements (issue 3, "the benchmark extended to the whole cycle"):

1. Throughput: N eligible orders (a mix of simple, configurable, bundle and mixed baskets, paid by
   an authorisation or free, plus a few check/money orders that wait) are placed in the sandbox,
   then one ``SyncEngine.run_cycle()`` in auto-invoice mode transfers each to the memory POS and
   invoices it in Magento. Orders per second for every ``--latency-ms`` × ``--concurrency``. The
   Magento request budget is raised so that it does not cap the figure (``--budget``). The memory
   POS holds stock for every sandbox SKU, so the cycle's stock sync has quantities to compare and
   push. The reconciliation pass (every 10 minutes in production) and the quiet cycle that follows
   are measured separately.
2. Requests per order: the sandbox's per-route counters divided by the orders transferred.
3. Latency from eligibility to POS: ``m2pos run`` (a subprocess, with a settings file, the default
   request budget unless ``--loop-budget``, and ``poll_interval_seconds = 10``) while orders arrive
   at random moments (``--rate`` a second on average) for ``--duration`` seconds; the delay from
   placing each order to its ``transferred_at`` in the ledger (the POS document is created just
   before that stamp is written).

The sandbox always runs as ``python -m m2pos.cli sandbox magento`` in a subprocess, so that its CPU
is not the benchmark's; orders are placed and counters read through its ``/_sandbox/`` interface.

    .venv/bin/python bench/cycle.py                     # everything, as in BENCHMARKS.md
    .venv/bin/python bench/cycle.py --orders 300 --latency-ms 0 --concurrency 8 --duration 20
    .venv/bin/python bench/cycle.py --skip-throughput --rate 5 [--loop-budget 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from m2pos.engine import CycleReport, Outcome, SyncEngine
from m2pos.engine.bootstrap import open_store
from m2pos.ledger import Ledger
from m2pos.pos.memory import MemoryPos
from m2pos.settings import MagentoSettings, OrderSettings, Settings, settings_from_dict

# Baskets: the sandbox's order kinds ("mixed": a simple, a configurable and a bundle), and weights.
KINDS = ("simple", "configurable", "bundle", "mixed")
WEIGHTS = (45, 25, 15, 15)
POS_STOCK = 100_000  # on hand in the memory POS for every sandbox SKU
BUDGET = 100_000.0  # magento.requests_per_second for the throughput runs: not the bottleneck
OVERLAP = OrderSettings().overlap_seconds


# --- the sandbox in its own process ----------------------------------------------------------------


@dataclass
class Sandbox:
    process: subprocess.Popen[str]
    base_url: str
    credentials: dict[str, str]
    control: httpx.Client
    placed_at: dict[str, float] = field(default_factory=dict)  # increment_id → time.time() of the POST
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # increment_id → the order as placed
    customers: dict[str, int] = field(default_factory=dict)  # increment_id → the customer index asked for

    def place(self, kind: str, payment: str, guest: bool, customer: int) -> dict[str, Any]:
        sent = time.time()
        body = {"kind": kind, "payment": payment, "guest": guest, "customer_index": customer}
        response = self.control.post("/orders", json=body)
        response.raise_for_status()
        order: dict[str, Any] = response.json()
        self.placed_at[order["increment_id"]] = sent
        self.orders[order["increment_id"]] = order
        self.customers[order["increment_id"]] = customer
        return order

    def skus(self) -> list[str]:
        return list(self.control.get("/").json()["skus"])

    def counters(self) -> dict[str, int]:
        data = self.control.get("/counters").json()
        return dict(data["counters"])

    def reset_counters(self) -> None:
        self.control.post("/counters/reset").raise_for_status()

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent by every process on the machine (Linux; NaN elsewhere): what the benchmark
    did not spend itself was taken by something else, and the figures are not clean."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


_BANNER_KEYS = {
    "Consumer key:": "consumer_key",
    "Consumer secret:": "consumer_secret",
    "Access token:": "access_token",
    "Access token secret:": "access_token_secret",
}


def sandbox_command(latency_ms: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "m2pos.cli",
        "sandbox",
        "magento",
        "--port",
        "0",
        "--orders",
        "0",
        "--latency-ms",
        str(latency_ms),
    ]


@contextmanager
def spawned(command: list[str], stderr: Path) -> Iterator[subprocess.Popen[str]]:
    """``command`` as a child process (stdout piped, for its banner; stderr to a file), stopped on
    exit: terminated, killed if it does not stop within 10 s."""
    errors = stderr.open("w")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=errors, text=True, env=_clean_environment()
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()


@contextmanager
def sandbox_process(latency_ms: int, workdir: Path) -> Iterator[Sandbox]:
    errors = workdir / f"sandbox-{latency_ms}ms.stderr"
    with spawned(sandbox_command(latency_ms), errors) as process:
        assert process.stdout is not None
        base_url, credentials = "", {}
        for line in process.stdout:  # the banner ends with the "Sign requests" line
            text = line.strip()
            if text.startswith("Base URL:"):
                base_url = text.split()[2].split("/rest/")[0]
            for label, key in sorted(_BANNER_KEYS.items(), key=lambda kv: -len(kv[0])):
                if text.startswith(label):
                    credentials[key] = text.removeprefix(label).strip()
                    break
            if text.startswith("Sign requests"):
                break
        if not base_url or len(credentials) != 4:
            raise RuntimeError(f"the sandbox did not start (see {errors})")
        with httpx.Client(base_url=f"{base_url}/_sandbox", timeout=30) as control:
            yield Sandbox(process, base_url, credentials, control)


def _clean_environment() -> dict[str, str]:
    """The environment without M2POS_* overrides, so that only the benchmark's settings count."""
    return {k: v for k, v in os.environ.items() if not k.startswith("M2POS_")}


def place_mix(
    sandbox: Sandbox,
    eligible: int,
    waiting: int,
    rng: random.Random,
    customers: Sequence[int] | None = None,
) -> list[str]:
    """``eligible`` paid orders (85% authorised, 15% free) and ``waiting`` unpaid check orders, by
    sandbox customers 1–200 at random, or by ``customers`` (indexes) when given."""
    payments = ["authorised"] * eligible
    for index in rng.sample(range(eligible), k=round(eligible * 0.15)):
        payments[index] = "free"
    payments += ["checkmo"] * waiting
    rng.shuffle(payments)
    numbers = []
    for payment in payments:
        kind, guest = rng.choices(KINDS, WEIGHTS)[0], rng.random() < 0.4
        customer = rng.choice(customers) if customers else rng.randint(1, 200)
        order = sandbox.place(kind, payment, guest, customer)
        numbers.append(order["increment_id"])
    return numbers


# --- settings ------------------------------------------------------------------------------------


def engine_settings(
    sandbox: Sandbox, database_url: str, concurrency: int, *, budget: float | None, pos_path: Path | None
) -> dict[str, Any]:
    magento: dict[str, Any] = {"base_url": sandbox.base_url, **sandbox.credentials}
    if budget is not None:
        magento["requests_per_second"] = budget
    pos: dict[str, Any] = {"kind": "memory"}
    if pos_path is not None:
        pos["path"] = str(pos_path)
    return {
        "magento": magento,
        "orders": {
            "mode": "auto_invoice",
            # Before every order the benchmark places (the sandbox shares this machine's clock).
            "start_date": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "poll_interval_seconds": 10,
            "concurrency": concurrency,
        },
        "pos": pos,
        "state": {"database_url": database_url},
    }


def _toml(data: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = []

    def table(name: str, keys: dict[str, Any]) -> None:
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value(v)}" for key, v in keys.items() if not isinstance(v, dict))
        lines.append("")
        for key, v in keys.items():  # nested tables after the keys, e.g. [pos.lightspeed_onsite]
            if isinstance(v, dict):
                table(f"{name}.{key}", v)

    for section, keys in data.items():
        table(section, keys)
    return "\n".join(lines)


# --- 1 and 2: one cycle over a burst of orders ------------------------------------------------------


@dataclass
class Phase:
    seconds: float
    cpu_seconds: float  # the benchmark process: engine, ledger, memory POS, HTTP client
    sandbox_cpu_seconds: float
    other_cpu_seconds: float  # every other process on the machine during the phase
    requests: dict[str, int]
    report: CycleReport


@dataclass
class ThroughputRun:
    latency_ms: int
    concurrency: int
    budget: float
    eligible: int
    waiting: int
    cycle: Phase
    reconcile: Phase
    quiet: Phase
    pos_documents: int

    @property
    def transferred(self) -> int:
        return self.cycle.report.count(Outcome.TRANSFERRED)

    @property
    def orders_per_second(self) -> float:
        return self.transferred / self.cycle.seconds


async def _measure(sandbox: Sandbox, action: Any) -> Phase:
    sandbox.reset_counters()
    busy, cpu, sandbox_cpu = machine_busy_seconds(), time.process_time(), sandbox.cpu_seconds()
    started = time.perf_counter()
    report = await action()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
    other = machine_busy_seconds() - busy - cpu - sandbox_cpu
    return Phase(seconds, cpu, sandbox_cpu, max(0.0, other), sandbox.counters(), report)


async def throughput_run(
    latency_ms: int,
    concurrency: int,
    eligible: int,
    workdir: Path,
    seed: int,
    budget: float = BUDGET,
    pos_stock: int = POS_STOCK,
) -> ThroughputRun:
    waiting = max(1, eligible // 50)
    rundir = Path(tempfile.mkdtemp(prefix=f"cycle-{latency_ms}ms-c{concurrency}-", dir=workdir))
    with sandbox_process(latency_ms, rundir) as sandbox:
        place_mix(sandbox, eligible, waiting, random.Random(seed))
        data = engine_settings(
            sandbox, f"sqlite:///{rundir / 'ledger.db'}", concurrency, budget=budget, pos_path=None
        )
        settings: Settings = settings_from_dict(data, source="bench settings")
        pos = MemoryPos()
        for sku in sandbox.skus():  # so that the stock sync has something to compare and push
            pos.set_stock(sku, Decimal(pos_stock))
        async with open_store(settings, pos=pos) as store:
            engine = SyncEngine(store)
            # The steady-state cycle: the reconciliation pass (every orders.reconcile_every_seconds)
            # is measured on its own below, not folded into the orders per second.
            store.ledger.set_marker("last_reconcile", store.clock())
            cycle = await _measure(sandbox, engine.run_cycle)

            async def reconcile() -> CycleReport:
                report = CycleReport(started_at=store.clock())
                await engine.reconcile(report)
                return report

            reconciled = await _measure(sandbox, reconcile)
            quiet = await _measure(sandbox, engine.run_cycle)
            documents = len(pos.documents("sale"))
    return ThroughputRun(
        latency_ms, concurrency, budget, eligible, waiting, cycle, reconciled, quiet, documents
    )


# --- 3: the loop, with orders arriving at random moments --------------------------------------------


@dataclass
class LoopRun:
    latency_ms: int
    duration: float
    poll_seconds: float
    delays: list[float]
    placed: int
    waiting: int
    missing: list[str]
    cycles: list[float]
    requests: dict[str, int]
    command: list[str]
    budget: float | None  # magento.requests_per_second; None: the default
    rate: float


def run_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "m2pos.cli", "--config", str(config), "run"]


def loop_run(
    latency_ms: int, duration: float, rate: float, workdir: Path, seed: int, budget: float | None = None
) -> LoopRun:
    rng = random.Random(seed)
    rundir = Path(tempfile.mkdtemp(prefix=f"loop-{latency_ms}ms-", dir=workdir))
    with sandbox_process(latency_ms, rundir) as sandbox:
        database_url = f"sqlite:///{rundir / 'ledger.db'}"
        data = engine_settings(sandbox, database_url, 8, budget=budget, pos_path=rundir / "pos.db")
        pos = MemoryPos(rundir / "pos.db")
        for sku in sandbox.skus():
            pos.set_stock(sku, Decimal(POS_STOCK))
        asyncio.run(pos.aclose())
        settings_from_dict(data, source="bench settings")  # refuse bad settings here, not in the child
        config = rundir / "m2pos.toml"
        config.write_text(_toml(data), encoding="utf-8")
        command = run_command(config)
        output = (rundir / "m2pos-run.out").open("w")
        runner = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, env=_clean_environment()
        )
        try:
            _wait_for_first_cycle(rundir / "m2pos-run.out", runner)
            sandbox.reset_counters()
            eligible: list[str] = []
            waiting = 0
            deadline = time.monotonic() + duration
            while True:
                pause = rng.expovariate(rate)
                if time.monotonic() + pause > deadline:
                    break
                time.sleep(pause)
                roll = rng.random()
                payment = "checkmo" if roll < 0.03 else "free" if roll < 0.18 else "authorised"
                order = sandbox.place(
                    rng.choices(KINDS, WEIGHTS)[0], payment, rng.random() < 0.4, rng.randint(1, 200)
                )
                if payment == "checkmo":
                    waiting += 1
                else:
                    eligible.append(order["increment_id"])
            time.sleep(max(0.0, deadline - time.monotonic()))
            time.sleep(10 + 5)  # one more poll interval and some, for the last arrivals
            requests = sandbox.counters()
        finally:
            runner.send_signal(signal.SIGTERM)
            try:
                runner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()
            output.close()
    ledger = Ledger.open(database_url)
    try:
        rows = {row.increment_id: row for row in ledger.list_orders(limit=1_000_000)}
    finally:
        ledger.close()
    delays, missing = [], []
    for number in eligible:
        row = rows.get(number)
        if row is None or row.transferred_at is None:
            missing.append(number)
            continue
        delays.append(row.transferred_at.timestamp() - sandbox.placed_at[number])
    cycles = _cycle_seconds(rundir / "m2pos-run.out")
    return LoopRun(
        latency_ms,
        duration,
        10,
        delays,
        len(eligible),
        waiting,
        missing,
        cycles,
        requests,
        command,
        budget,
        rate,
    )


def _wait_for_first_cycle(path: Path, runner: subprocess.Popen[str], timeout: float = 60) -> None:
    """Orders are placed once the first (empty) cycle is done: migrations, settings history."""
    deadline = time.monotonic() + timeout
    while not _cycle_seconds(path):
        if runner.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"m2pos run did not complete a first cycle (see {path})")
        time.sleep(0.1)


def _cycle_seconds(path: Path) -> list[float]:
    """``cycle ok in 0.3s: …`` lines printed by ``m2pos run``."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("cycle ") and " in " in line:
            found.append(float(line.split(" in ", 1)[1].split("s:", 1)[0]))
    return found


# --- printing -------------------------------------------------------------------------------------

_EXPLAIN = {
    "GET /V1/orders": "order feed pages (searchCriteria updated_at ≥ cursor − overlap, 100 a page)",
    "GET /V1/invoices": "invoice pre-read: the order's invoices before the POST (exactly-once guard)",
    "POST /V1/order/{orderId}/invoice": "the invoice itself (auto-invoice mode)",
    "GET /V1/creditmemos": "credit-memo feed (one page per cycle when there are none)",
    "GET /V1/orders/{id}": "an order read by id (credit memo of an unseen order, invoice recovery)",
    "GET /V1/products": "stock sync: the stock-bearing SKUs (cached inventory.catalog_refresh_seconds)",
    "GET /V1/inventory/source-items": "stock sync: Magento's quantities of the SKUs the POS holds",
    "POST /V1/inventory/source-items": "stock sync: the quantities the POS changed, 20 SKUs a call",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[index]


def print_machine() -> None:
    print(f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), ", end="")
    print(f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def print_throughput(runs: list[ThroughputRun]) -> None:
    print("\n1. Throughput: one run_cycle() over a burst of orders, auto-invoice, memory POS")
    budget = runs[0].budget
    print(
        f"   magento.requests_per_second = {budget:,.0f} (default 20: at ~2 requests an order, the "
        "budget alone\n   would hold a burst to ~10 orders/s; raised so that it does not cap the figure)"
    )
    header = (
        f"   {'latency':>7} {'conc.':>5} {'orders':>6} {'waiting':>7} {'cycle s':>8} {'orders/s':>9}"
        f" {'CPU ms/order: engine':>21} {'sandbox':>8} {'other':>6}"
    )
    print(header)
    for run in runs:
        c = run.cycle
        n = max(1, run.transferred)
        print(
            f"   {run.latency_ms:>5}ms {run.concurrency:>5} {run.transferred:>6} {run.waiting:>7}"
            f" {c.seconds:>8.2f} {run.orders_per_second:>9.1f}"
            f" {1000 * c.cpu_seconds / n:>21.2f} {1000 * c.sandbox_cpu_seconds / n:>8.2f}"
            f" {1000 * c.other_cpu_seconds / n:>6.2f}"
        )
    print(
        "   (engine: the benchmark process, i.e. engine, ledger, memory POS and HTTP client; other: "
        "every other\n   process on the machine during the cycle, which should be close to 0 for "
        "clean figures)"
    )
    for run in runs:
        problems = run.cycle.report.errors + [r.message for r in run.cycle.report.failed]
        if run.transferred != run.eligible or run.pos_documents != run.eligible or problems:
            print(
                f"   ! {run.latency_ms}ms/c{run.concurrency}: {run.transferred} transferred, "
                f"{run.pos_documents} POS documents for {run.eligible} eligible; {problems[:3]}"
            )
    print("\n   Beside the cycle (same runs): the reconciliation pass and the next, quiet, cycle")
    print(
        f"   {'latency':>7} {'conc.':>5} {'reconcile s':>12} {'requests':>9}"
        f" {'quiet cycle s':>14} {'requests':>9}"
    )
    for run in runs:
        print(
            f"   {run.latency_ms:>5}ms {run.concurrency:>5} {run.reconcile.seconds:>12.2f}"
            f" {sum(run.reconcile.requests.values()):>9} {run.quiet.seconds:>14.2f}"
            f" {sum(run.quiet.requests.values()):>9}"
        )


def print_requests(run: ThroughputRun) -> None:
    n = max(1, run.transferred)
    total = run.eligible + run.waiting
    print(
        f"\n2. Magento requests per transferred order ({run.transferred} transferred, {run.waiting} "
        f"waiting; {run.latency_ms} ms, concurrency {run.concurrency})"
    )
    print(f"   {'route':<34} {'requests':>8} {'per order':>9}  what for")
    for key, count in sorted(run.cycle.requests.items(), key=lambda kv: -kv[1]):
        print(f"   {key:<34} {count:>8} {count / n:>9.3f}  {_EXPLAIN.get(key, '')}")
    requests = sum(run.cycle.requests.values())
    print(f"   {'cycle total':<34} {requests:>8} {requests / n:>9.3f}")
    pages = math.ceil(total / 100)
    print(
        f"   reconciliation pass (every 10 min): {sum(run.reconcile.requests.values())} requests "
        f"= {pages} pages of GET /V1/orders with fields= over {total} orders, nothing re-checked"
    )
    unchanged = run.quiet.report.count(Outcome.UNCHANGED)
    print(
        f"   the next cycle: {sum(run.quiet.requests.values())} requests, {unchanged} orders re-read "
        f"and judged unchanged\n   (updated_at within the {OVERLAP:g}s overlap) in "
        f"{run.quiet.seconds:.2f}s, {1000 * run.quiet.cpu_seconds / max(1, unchanged):.2f} ms of "
        "engine CPU per order re-read"
    )


def print_loop(run: LoopRun) -> None:
    d = run.delays
    print(
        f"\n3. Eligible → in the POS, `m2pos run` (poll_interval_seconds = {run.poll_seconds:g}, "
        f"magento.requests_per_second = {run.budget or MagentoSettings().requests_per_second:g}), "
        f"{run.latency_ms} ms sandbox latency,\n   orders placed at random moments for "
        f"{run.duration:g}s, {run.rate:g} a second on average"
    )
    print(
        f"   {run.placed} eligible orders (+{run.waiting} check orders that wait), {len(d)} measured, "
        f"{len(run.missing)} not in the POS"
    )
    if d:
        print(
            f"   delay p50 {_percentile(d, 0.5):.2f}s  p95 {_percentile(d, 0.95):.2f}s  max {max(d):.2f}s"
            f"  mean {statistics.fmean(d):.2f}s  (goal ≤ {run.poll_seconds + 2:g}s: "
            f"{'met' if max(d) <= run.poll_seconds + 2 else 'NOT met'})"
        )
    if run.cycles:
        busy = [c for c in run.cycles if c > 0]
        print(
            f"   {len(run.cycles)} cycles, {statistics.fmean(run.cycles):.2f}s on average "
            f"(max {max(busy or [0.0]):.2f}s); a cycle starts every poll interval"
        )
    total = sum(run.requests.values())
    print(
        f"   Magento requests during the run: {total} ({total / max(1, run.placed):.2f} per eligible order)"
    )
    for key, count in sorted(run.requests.items(), key=lambda kv: -kv[1]):
        print(f"     {key:<34} {count:>6}")
    print(f"   command: {' '.join(run.command).replace(sys.executable, 'python')}")
    print(
        "   settings file: [magento] base_url + the sandbox's OAuth 1.0a credentials (request budget "
        "as above);\n   [orders] mode = auto_invoice, poll_interval_seconds = 10, concurrency = 8, "
        "start_date = 1 h ago;\n   [pos] kind = memory, path = pos.db; [state] database_url = "
        "sqlite:///ledger.db"
    )


# --- main ---------------------------------------------------------------------------------------


async def _throughput(args: argparse.Namespace, workdir: Path) -> list[ThroughputRun]:
    runs = []
    for latency in args.latency_ms:
        for concurrency in args.concurrency:
            print(f"   … {args.orders} orders, {latency} ms, concurrency {concurrency}", flush=True)
            runs.append(
                await throughput_run(latency, concurrency, args.orders, workdir, args.seed, args.budget)
            )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2000, help="eligible orders per throughput run")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 20], help="sandbox latencies")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32], help="orders.concurrency")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of order arrivals (part 3)")
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second arriving (part 3)")
    parser.add_argument(
        "--loop-latency-ms", type=int, default=20, help="sandbox latency for part 3 (default 20)"
    )
    parser.add_argument("--budget", type=float, default=BUDGET, help="magento.requests_per_second for part 1")
    parser.add_argument(
        "--loop-budget", type=float, default=None, help="magento.requests_per_second for part 3 (default: 20)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args()

    print_machine()
    print(f"sandbox: {' '.join(sandbox_command(0)).replace(sys.executable, 'python')} (per run)")
    with tempfile.TemporaryDirectory(prefix="m2pos-bench-cycle-") as tmp:
        workdir = Path(tmp)
        if not args.skip_throughput:
            runs = asyncio.run(_throughput(args, workdir))
            print_throughput(runs)
            print_requests(runs[0])
        if not args.skip_loop:
            print(f"\n   … m2pos run for {args.duration:g}s of arrivals (+15s)", flush=True)
            print_loop(
                loop_run(args.loop_latency_ms, args.duration, args.rate, workdir, args.seed, args.loop_budget)
            )


if __name__ == "__main__":
    main()
