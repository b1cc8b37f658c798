"""Lightspeed OnSite: orders per second into OnSite, and OnSite requests per order.

Issue "Lightspeed OnSite": customer and product look-ups cached within a cycle, no request that the
result does not need. For each mode (``invoice``; ``order`` reserving stock, with deposits) and each
OnSite latency (``--latency-ms``):

1. cycle 1: N eligible orders (``cycle.place_mix``: simple, configurable, bundle and mixed baskets,
   authorised or free, by customers 1–200, 40% as guests) plus N/50 check orders that wait, then one
   ``SyncEngine.run_cycle()`` in auto-invoice mode (each order goes to OnSite and is invoiced in
   Magento);
2. cycle 2: N/5 more orders (+ N/250 waiting) by customers who ordered in cycle 1, and one more
   cycle. The adapter keeps look-ups ``cache_seconds`` (300 s), so this cycle should need no
   customer or product look-up at all.

Both sandboxes run in their own processes (``m2pos sandbox magento`` at 0 ms, ``m2pos sandbox
onsite --latency-ms L``, HTTPS with a self-signed certificate); the engine, the SQLite ledger and the
OnSite adapter run here. Request budgets are raised so that they do not cap the figures. Requests are
counted twice: by the OnSite sandbox (per route, reset before each cycle) and by a recording
transport inside the adapter, which also sees each look-up's filter (which e-mail, which SKUs) and
whether the stock sync sent it; the two counts must agree. Each request is put down to what it is
for: the document's own (create, LOCK, lines, deposit, UNLOCK), look-ups (customer by e-mail, the
customer's record, SKUs), the stock sync, customers created or updated, the once-per-process set-up
(helper products, tax codes), or nothing known ("unexplained"). SKUs looked up are compared with the
SKUs the documents' lines are made of.

Correctness, after the runs: every eligible order is in OnSite exactly once, no waiting order is,
no cycle failed, and OnSite's reservations match its open order lines (``/_sandbox/inventory/check``).
Anything off is printed on a line starting with "!".

    .venv/bin/python bench/onsite.py                       # as in BENCHMARKS.md
    .venv/bin/python bench/onsite.py --orders 100 --latency-ms 0 --modes invoice
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from cycle import (
    BUDGET,
    Phase,
    Sandbox,
    _measure,
    _toml,
    engine_settings,
    place_mix,
    print_machine,
    process_cpu_seconds,
    sandbox_command,
    sandbox_process,
    spawned,
)
from m2pos.engine import Outcome, SyncEngine
from m2pos.engine.bootstrap import open_store
from m2pos.pos.lightspeed_onsite import LightspeedOnSite, onsite_settings
from m2pos.settings import Settings, settings_from_dict

MODES: dict[str, dict[str, Any]] = {
    "invoice": {"download_orders_as": "invoice"},
    "order": {"download_orders_as": "order", "reserve_order_inventory": True, "create_order_deposits": True},
}
ONSITE_BUDGET = 100_000.0  # pos.requests_per_second: not the bottleneck (the default is 20)
BATCH = 100  # SKUs per product look-up (the adapter's batch)
BUSY_MS_PER_ORDER = 2.0  # CPU of other processes per order (≈ 7% of an order's) that flags the timings
HELPER_CODES = frozenset({"NO-PRODUCT-FOUND", "SHIPPING", "REFUND", "MAGENTO-TAX"})  # the defaults


# --- the OnSite sandbox in its own process -----------------------------------------------------------


@dataclass
class OnSite:
    process: subprocess.Popen[str]
    base_url: str  # https://127.0.0.1:<port>/api/
    login: dict[str, str]  # username, password, app_id, app_private_id
    control: httpx.Client

    def counters(self) -> dict[str, int]:
        return dict(self.control.get("/counters").json()["counters"])

    def reset_counters(self) -> None:
        self.control.post("/counters/reset").raise_for_status()

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def documents(self, kind: str) -> list[dict[str, Any]]:
        """Every Order or Invoice, in full (``kind``: ``order`` or ``invoice``)."""
        return list(self.control.get(f"/{kind}s").json())

    def inventory_problems(self) -> list[str]:
        return list(self.control.get("/inventory/check").json())

    def customer_emails(self) -> set[str]:
        return {str(c.get("email") or "").casefold() for c in self.control.get("/customers").json()}


def onsite_command(latency_ms: int) -> list[str]:
    latency = ["--latency-ms", str(latency_ms)]
    return [sys.executable, "-m", "m2pos.cli", "sandbox", "onsite", "--port", "0", *latency]


def _parse_onsite_banner(lines: Iterator[str]) -> tuple[str, dict[str, str], str]:
    """(API base URL, login, control URL) from the banner ``m2pos sandbox onsite`` prints."""
    base_url, control, login = "", "", {}
    for line in lines:
        label, _, value = line.strip().partition(":")
        value = value.strip()
        if label == "Base URL":
            base_url = value
        elif label == "User":
            login["username"], _, login["password"] = (part.strip() for part in value.partition("/"))
        elif label == "App id":
            login["app_id"] = value.split()[0]
        elif label == "App private id":
            login["app_private_id"] = value
        elif label == "Control interface":
            control = value.rstrip("/")
        elif line.startswith("Press Ctrl+C"):
            break
    return base_url, login, control


@contextmanager
def onsite_process(latency_ms: int, workdir: Path) -> Iterator[OnSite]:
    errors = workdir / f"onsite-{latency_ms}ms.stderr"
    with spawned(onsite_command(latency_ms), errors) as process:
        assert process.stdout is not None
        base_url, login, control_url = _parse_onsite_banner(iter(process.stdout))
        if not base_url or not control_url or len(login) != 4:
            raise RuntimeError(f"the OnSite sandbox did not start (see {errors})")
        # Its control interface is served over the same self-signed HTTPS as the API.
        with httpx.Client(base_url=control_url, timeout=60, verify=False) as control:
            yield OnSite(process, base_url, login, control)


# --- what the adapter sends, request by request ------------------------------------------------------

# Set while the engine's stock sync asks the adapter (pos.stock_levels): its product look-ups go to
# the same route as the orders' ones, so only the caller tells them apart.
_PHASE: ContextVar[str] = ContextVar("onsite_bench_phase", default="orders")
_NUMERIC_NAMES = {"lineitems": "{lid}", "payments": "{pid}"}
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def route_key(method: str, path: str) -> str:
    """The sandbox's counter key: ``/api/invoices/7/lineitems/`` → ``/api/invoices/{id}/lineitems/``."""
    parts = path.split("/")
    named = [
        _NUMERIC_NAMES.get(parts[i - 1], "{id}") if part.isdigit() else part for i, part in enumerate(parts)
    ]
    return f"{method} {'/'.join(named)}"


@dataclass(frozen=True)
class Call:
    key: str
    phase: str  # "orders" or "stock"
    filter: str  # the listing's filter= (empty for other requests)

    def quoted(self) -> list[str]:
        """The string values of the filter: the e-mail, or the SKUs of an ``IN {…}`` batch."""
        return [re.sub(r"\\(.)", r"\1", value) for value in _QUOTED.findall(self.filter)]


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[Call] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        flt = request.url.params.get("filter", "")
        self.calls.append(Call(route_key(request.method, request.url.path), _PHASE.get(), flt))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def tag_stock_sync(pos: LightspeedOnSite) -> None:
    """Mark the requests ``stock_levels`` sends (the instance's method is wrapped, nothing else)."""
    inner: Callable[[Sequence[str]], Awaitable[dict[str, Decimal]]] = pos.stock_levels

    async def stock_levels(skus: Sequence[str]) -> dict[str, Decimal]:
        token = _PHASE.set("stock")
        try:
            return await inner(skus)
        finally:
            _PHASE.reset(token)

    pos.stock_levels = stock_levels  # type: ignore[method-assign]


# --- what each request is for ------------------------------------------------------------------------

DOCUMENT, LOOKUP, STOCK, CUSTOMER_WRITE, SETUP, UNEXPLAINED = (
    "document's own",
    "look-up",
    "stock sync",
    "customer write",
    "set-up",
    "unexplained",
)
_DOCUMENT_ROUTES = re.compile(
    r"^(POST /api/(orders|invoices)/|(LOCK|UNLOCK) /api/(orders|invoices)/\{id\}/"
    r"|POST /api/(orders|invoices)/\{id\}/(lineitems|payments)/)$"
)
_CUSTOMER_WRITES = {
    "POST /api/customers/",
    "LOCK /api/customers/{id}/",
    "PUT /api/customers/{id}/",
    "UNLOCK /api/customers/{id}/",
}
_SETUP_ROUTES = {
    "GET /api/products/{id}/",
    "POST /api/products/",
    "GET /api/tax_codes/",
    "GET /api/payment_methods/",
}


def is_helper_listing(call: Call) -> bool:
    """The helper-product check's listings (by helper code, or by description for renamed ones)."""
    if call.filter.startswith("description"):
        return True
    return call.filter.startswith("code IN") and set(call.quoted()) <= HELPER_CODES


def purpose(call: Call) -> str:
    if _DOCUMENT_ROUTES.match(call.key):
        return DOCUMENT
    if call.phase == "stock" and call.key in ("GET /api/products/", "GET /api/product_inventory/"):
        return STOCK
    if call.key in ("GET /api/customers/", "GET /api/customers/{id}/"):
        return LOOKUP
    if call.key == "GET /api/products/":
        return SETUP if is_helper_listing(call) else LOOKUP
    if call.key in _CUSTOMER_WRITES:
        return CUSTOMER_WRITE
    if call.key in _SETUP_ROUTES:
        return SETUP
    return UNEXPLAINED


_WHAT_FOR = {
    "POST /api/invoices/": "the Invoice (customer, import_id, notes)",
    "POST /api/orders/": "the Order (customer, web_order_number, notes)",
    "LOCK /api/invoices/{id}/": "lock the new document for its lines",
    "UNLOCK /api/invoices/{id}/": "unlock it",
    "LOCK /api/orders/{id}/": "lock the new document for its lines and deposit",
    "UNLOCK /api/orders/{id}/": "unlock it",
    "POST /api/invoices/{id}/lineitems/": "one per line: products, bundle components, shipping",
    "POST /api/orders/{id}/lineitems/": "one per line (product lines reserve their quantity), shipping",
    "POST /api/orders/{id}/payments/": "the deposit: what was paid online (none for free orders)",
    "GET /api/customers/": "customer look-up by e-mail (first order of an e-mail in cache_seconds)",
    "GET /api/customers/{id}/": "the matched customer in full: a listing lacks the addresses",
    "POST /api/customers/": "a customer OnSite lacks (new e-mail)",
    "LOCK /api/customers/{id}/": "address update: lock the customer",
    "PUT /api/customers/{id}/": "address update: the order's addresses",
    "UNLOCK /api/customers/{id}/": "address update: unlock",
    "GET /api/products/": "SKU look-ups, 100 a request (orders, stock sync); the helper check",
    "GET /api/product_inventory/": "stock sync: on hand and reserved, 100 products a request",
    "GET /api/products/{id}/": "helper check, first document of the process: each helper in full",
    "POST /api/products/": "helper products OnSite lacks, created at the first document",
    "GET /api/tax_codes/": "tax codes, read once per cache_seconds",
    "GET /api/orders/": "find_document: recovery after an interrupted write",
    "GET /api/invoices/": "find_document: recovery after an interrupted write",
}


# --- one cycle, measured --------------------------------------------------------------------------


@dataclass
class Burst:
    eligible: list[dict[str, Any]]  # the orders as placed in Magento
    waiting: int

    @property
    def emails(self) -> set[str]:
        return {str(o["customer_email"]).casefold() for o in self.eligible}

    @property
    def skus(self) -> set[str]:
        """The SKUs the documents' lines are made of: every item's, except a bundle row that has
        components (its SKU is Magento's composite of the components'; each component is a line)."""
        out = set()
        for order in self.eligible:
            parents = {item.get("parent_item_id") for item in order["items"]}
            for item in order["items"]:
                if not (item["product_type"] == "bundle" and item.get("item_id") in parents):
                    out.add(str(item["sku"]))
        return out


def place_burst(
    magento: Sandbox, eligible: int, rng: random.Random, customers: Sequence[int] | None = None
) -> Burst:
    waiting = max(1, eligible // 50)
    numbers = place_mix(magento, eligible, waiting, rng, customers)
    orders = [magento.orders[n] for n in numbers]
    paid = [o for o in orders if o["payment"]["method"] != "checkmo"]
    return Burst(paid, len(orders) - len(paid))


@dataclass
class CycleRun:
    phase: Phase  # wall time, engine and Magento-sandbox CPU, Magento requests, the cycle's report
    onsite_cpu_seconds: float
    counters: dict[str, int]  # the OnSite sandbox's, per route
    calls: list[Call]  # the same requests as the adapter sent them
    burst: Burst
    known_emails: set[str]  # e-mails OnSite had before the cycle
    seen_emails: set[str] = field(default_factory=set)  # e-mails of earlier cycles
    seen_skus: set[str] = field(default_factory=set)

    @property
    def transferred(self) -> int:
        return self.phase.report.count(Outcome.TRANSFERRED)

    @property
    def requests(self) -> int:
        return sum(self.counters.values())

    def by_purpose(self) -> Counter[str]:
        return Counter(purpose(c) for c in self.calls)

    def calls_to(self, key: str, phase: str = "orders") -> list[Call]:
        return [c for c in self.calls if c.key == key and c.phase == phase]

    def sku_lookups(self, phase: str = "orders") -> list[Call]:
        return [c for c in self.calls_to("GET /api/products/", phase) if not is_helper_listing(c)]


async def measure_cycle(
    magento: Sandbox, onsite: OnSite, recorder: RecordingTransport, engine: SyncEngine, burst: Burst
) -> CycleRun:
    known = onsite.customer_emails()
    onsite.reset_counters()
    recorder.calls.clear()
    before = onsite.cpu_seconds()
    phase = await _measure(magento, engine.run_cycle)
    onsite_cpu = onsite.cpu_seconds() - before
    phase.other_cpu_seconds = max(0.0, phase.other_cpu_seconds - onsite_cpu)  # OnSite is not "other"
    return CycleRun(phase, onsite_cpu, onsite.counters(), list(recorder.calls), burst, known)


# --- one run: a mode at a latency, two cycles ------------------------------------------------------


@dataclass
class Run:
    mode: str
    latency_ms: int
    concurrency: int
    cycles: list[CycleRun]
    problems: list[str]


def run_settings(
    magento: Sandbox, onsite: OnSite, mode: str, rundir: Path, concurrency: int
) -> dict[str, Any]:
    data = engine_settings(
        magento, f"sqlite:///{rundir / 'ledger.db'}", concurrency, budget=BUDGET, pos_path=None
    )
    data["pos"] = {
        "kind": "lightspeed_onsite",
        "base_url": onsite.base_url,
        **onsite.login,
        "verify_tls": False,  # the sandbox's certificate is self-signed, like a real server's
        "session_file": str(rundir / "onsite-session"),
        "requests_per_second": ONSITE_BUDGET,
        "lightspeed_onsite": dict(MODES[mode]),
    }
    return data


async def onsite_run(mode: str, latency_ms: int, args: argparse.Namespace, workdir: Path) -> Run:
    rng = random.Random(args.seed)
    rundir = Path(tempfile.mkdtemp(prefix=f"onsite-{mode}-{latency_ms}ms-", dir=workdir))
    with (
        sandbox_process(args.magento_latency_ms, rundir) as magento,
        onsite_process(latency_ms, rundir) as onsite,
    ):
        first = place_burst(magento, args.orders, rng)
        data = run_settings(magento, onsite, mode, rundir, args.concurrency)
        settings: Settings = settings_from_dict(data, source="bench settings")
        # The adapter as open_store would open it, plus a transport that records each request.
        recorder = RecordingTransport(httpx.AsyncHTTPTransport(verify=False))
        pos = LightspeedOnSite(onsite_settings(settings.pos), transport=recorder)
        tag_stock_sync(pos)
        try:
            async with open_store(settings, pos=pos) as store:
                engine = SyncEngine(store)
                # Steady-state cycles: the reconciliation pass (every 10 minutes) is not folded in.
                store.ledger.set_marker("last_reconcile", store.clock())
                one = await measure_cycle(magento, onsite, recorder, engine, first)
                returning = sorted({magento.customers[o["increment_id"]] for o in first.eligible})
                second = place_burst(magento, max(1, args.orders // 5), rng, returning)
                two = await measure_cycle(magento, onsite, recorder, engine, second)
                two.seen_emails, two.seen_skus = first.emails, first.skus
        finally:
            await pos.aclose()
        problems = check_onsite(onsite, mode, [first, second], magento) + [
            f"cycle {i}: {p}" for i, c in enumerate((one, two), 1) for p in check_cycle(c)
        ]
    return Run(mode, latency_ms, args.concurrency, [one, two], problems)


# --- correctness --------------------------------------------------------------------------------


def check_cycle(cycle: CycleRun) -> list[str]:
    report = cycle.phase.report
    problems = list(report.errors) + [f"{r.number}: {r.message}" for r in report.failed]
    if cycle.transferred != len(cycle.burst.eligible):
        problems.append(f"{cycle.transferred} transferred for {len(cycle.burst.eligible)} eligible orders")
    recorded = Counter(c.key for c in cycle.calls)
    if recorded != Counter(cycle.counters):
        problems.append(f"the adapter sent {dict(recorded)}, the sandbox counted {cycle.counters}")
    other = 1000 * cycle.phase.other_cpu_seconds / max(1, cycle.transferred)
    if other > BUSY_MS_PER_ORDER:
        problems.append(f"other processes took {other:.1f} ms of CPU per order: the timings are not clean")
    return problems


def check_onsite(onsite: OnSite, mode: str, bursts: list[Burst], magento: Sandbox) -> list[str]:
    """Every eligible order in OnSite once, no waiting order, reservations that add up."""
    kind = MODES[mode]["download_orders_as"]
    reference = "web_order_number" if kind == "order" else "import_id"
    documents = Counter(str(d.get(reference)) for d in onsite.documents(kind))
    eligible = {str(o["increment_id"]) for b in bursts for o in b.eligible}
    problems = [f"order {n} is in OnSite {documents[n]} times" for n in sorted(eligible) if documents[n] != 1]
    extra = sorted(set(documents) - eligible)
    if extra:
        placed = set(magento.orders)
        waiting = [n for n in extra if n in placed]
        problems.append(f"{len(extra)} OnSite {kind}s for no eligible order ({len(waiting)} waiting ones)")
    problems += [f"inventory: {p}" for p in onsite.inventory_problems()]
    return problems


# --- the cache check ----------------------------------------------------------------------------


@dataclass
class CacheCheck:
    emails: int  # distinct e-mails among the cycle's eligible orders
    new_emails: int  # of those, e-mails OnSite did not have
    customer_listings: int  # GET /api/customers/
    emails_twice: int  # e-mails looked up more than once in the cycle
    seen_emails_looked_up: int  # e-mails of an earlier cycle looked up again
    customer_reads: int  # GET /api/customers/{id}/
    customers_created: int
    address_updates: int  # PUT /api/customers/{id}/
    skus: int  # distinct SKUs among the cycle's orders
    sku_lookups: int  # GET /api/products/ for orders
    skus_twice: int  # SKUs in more than one look-up of the cycle (orders and stock sync)
    unused_skus: list[str]  # SKUs the orders' look-ups asked for that no document line is made of
    seen_skus_looked_up: int
    stock_skus: int  # SKUs the stock sync looked up
    stock_lookups: int
    inventory_reads: int

    @property
    def sku_batches(self) -> int:
        return math.ceil(self.skus / BATCH)


def cache_check(cycle: CycleRun) -> CacheCheck:
    listings = cycle.calls_to("GET /api/customers/")
    looked_up = Counter(v.casefold() for c in listings for v in c.quoted())
    skus = Counter(v for c in cycle.sku_lookups() + cycle.sku_lookups("stock") for v in c.quoted())
    stock_skus = {v for c in cycle.sku_lookups("stock") for v in c.quoted()}
    emails = cycle.burst.emails
    return CacheCheck(
        emails=len(emails),
        new_emails=len(emails - cycle.known_emails),
        customer_listings=len(listings),
        emails_twice=sum(1 for n in looked_up.values() if n > 1),
        seen_emails_looked_up=len(set(looked_up) & cycle.seen_emails),
        customer_reads=len(cycle.calls_to("GET /api/customers/{id}/")),
        customers_created=len(cycle.calls_to("POST /api/customers/")),
        address_updates=len(cycle.calls_to("PUT /api/customers/{id}/")),
        skus=len(cycle.burst.skus),
        sku_lookups=len(cycle.sku_lookups()),
        skus_twice=sum(1 for n in skus.values() if n > 1),
        unused_skus=sorted({v for c in cycle.sku_lookups() for v in c.quoted()} - cycle.burst.skus),
        seen_skus_looked_up=len(set(skus) & cycle.seen_skus),
        stock_skus=len(stock_skus),
        stock_lookups=len(cycle.sku_lookups("stock")),
        inventory_reads=len(cycle.calls_to("GET /api/product_inventory/", "stock")),
    )


# --- goals ------------------------------------------------------------------------------------------


@dataclass
class Goal:
    text: str
    met: bool
    evidence: str

    def line(self) -> str:
        return f"{'✅' if self.met else '❌'} {self.text}: {self.evidence}"


def _label(run: Run, cycle: int | None = None) -> str:
    return f"{run.mode} {run.latency_ms} ms" + (f" cycle {cycle}" if cycle else "")


def goals(runs: list[Run]) -> list[Goal]:
    every = [(_label(r, i), cache_check(c)) for r in runs for i, c in enumerate(r.cycles, 1)]
    firsts = [(_label(r), cache_check(r.cycles[0])) for r in runs]
    seconds = [(_label(r), cache_check(r.cycles[1])) for r in runs]
    unexplained = [(_label(r), sum(c.by_purpose()[UNEXPLAINED] for c in r.cycles)) for r in runs]
    return [
        Goal(
            "customer look-ups at most once per distinct e-mail within a cycle",
            all(c.customer_listings <= c.emails and c.emails_twice == 0 for _, c in every),
            "; ".join(
                f"{name}: {c.customer_listings} for {c.emails} e-mails, {c.emails_twice} twice"
                for name, c in firsts
            ),
        ),
        Goal(
            "each SKU in at most one product look-up within a cycle (orders and stock sync)",
            all(c.skus_twice == 0 for _, c in every),
            "; ".join(f"{name}: {c.skus_twice} SKUs twice" for name, c in every),
        ),
        Goal(
            "no SKU looked up that no document line is made of",
            all(not c.unused_skus for _, c in every),
            "; ".join(
                f"{name}: {len(c.unused_skus)} ({', '.join(c.unused_skus) or '-'})" for name, c in firsts
            ),
        ),
        Goal(
            # The first order's batch goes alone (nobody waits for others); every order that queued
            # meanwhile shares the next one: one batch more than ⌈SKUs / batch size⌉ at most.
            f"product look-ups for the orders at most one more than one per {BATCH} distinct SKUs",
            all(c.sku_lookups <= c.sku_batches + 1 for _, c in every),
            "; ".join(
                f"{name}: {c.sku_lookups} for {c.skus} SKUs (⌈{c.skus}/{BATCH}⌉ + 1 = {c.sku_batches + 1})"
                for name, c in firsts
            ),
        ),
        Goal(
            "second cycle: no look-up for customers and SKUs already seen",
            all(
                c.customer_listings + c.customer_reads + c.sku_lookups + c.stock_lookups == 0
                for _, c in seconds
            ),
            "; ".join(
                f"{name}: {c.customer_listings + c.customer_reads} customer, "
                f"{c.sku_lookups + c.stock_lookups} product look-ups"
                for name, c in seconds
            ),
        ),
        Goal(
            "no unexplained OnSite request",
            all(n == 0 for _, n in unexplained),
            "; ".join(f"{name}: {n}" for name, n in unexplained),
        ),
    ]


# --- printing -------------------------------------------------------------------------------------


def _per(count: int, orders: int) -> str:
    return f"{count / max(1, orders):.3f}"


def print_run(run: Run) -> None:
    print(
        f"\n== {run.mode} ({describe_mode(run.mode)}), OnSite latency {run.latency_ms} ms, "
        f"concurrency {run.concurrency}"
    )
    print(
        f"   {'cycle':<18} {'orders':>6} {'waiting':>7} {'e-mails':>7} {'SKUs':>4} {'cycle s':>8}"
        f" {'orders/s':>8} {'OnSite req/order':>16} {'CPU ms/order: engine':>21} {'OnSite':>6} {'Magento':>7}"
        f" {'other':>6}"
    )
    for name, cycle in zip(("1: new burst", "2: returning"), run.cycles, strict=True):
        n = max(1, cycle.transferred)
        p = cycle.phase
        print(
            f"   {name:<18} {cycle.transferred:>6} {cycle.burst.waiting:>7} {len(cycle.burst.emails):>7}"
            f" {len(cycle.burst.skus):>4} {p.seconds:>8.2f} {cycle.transferred / p.seconds:>8.1f}"
            f" {_per(cycle.requests, n):>16} {1000 * p.cpu_seconds / n:>21.2f}"
            f" {1000 * cycle.onsite_cpu_seconds / n:>6.2f} {1000 * p.sandbox_cpu_seconds / n:>7.2f}"
            f" {1000 * p.other_cpu_seconds / n:>6.2f}"
        )
    print(
        "   (engine: this process, i.e. engine, ledger, OnSite adapter, HTTP clients; other: every other"
        " process on the\n   machine during the cycle, close to 0 for clean figures. Cycle 2 also re-reads"
        " the cycle-1 orders still\n   inside the overlap window and judges them unchanged.)"
    )
    print_routes(run)
    print_cache(run)
    print_beyond(run)
    for problem in run.problems:
        print(f"   ! {problem}")


def print_routes(run: Run) -> None:
    one, two = run.cycles
    keys = sorted(set(one.counters) | set(two.counters), key=lambda k: (-one.counters.get(k, 0), k))
    print(f"\n   {'OnSite route':<38} {'cycle 1':>7} {'/order':>6} {'cycle 2':>7} {'/order':>6}  what for")
    for key in keys:
        a, b = one.counters.get(key, 0), two.counters.get(key, 0)
        print(
            f"   {key:<38} {a:>7} {_per(a, one.transferred):>6} {b:>7} {_per(b, two.transferred):>6}"
            f"  {_WHAT_FOR.get(key, '?')}"
        )
    print(
        f"   {'total':<38} {one.requests:>7} {_per(one.requests, one.transferred):>6}"
        f" {two.requests:>7} {_per(two.requests, two.transferred):>6}"
    )


def print_cache(run: Run) -> None:
    print("\n   cache check                         cycle 1                   cycle 2")
    one, two = (cache_check(c) for c in run.cycles)

    def row(name: str, first: str, second: str) -> None:
        print(f"   {name:<35} {first:<25} {second}")

    row(
        "customer look-ups (listing)",
        f"{one.customer_listings} / {one.emails} e-mails",
        f"{two.customer_listings} / {two.emails} e-mails (all seen)",
    )
    row(
        "  e-mails looked up twice",
        str(one.emails_twice),
        f"{two.emails_twice}; seen again: {two.seen_emails_looked_up}",
    )
    row(
        "customer records read",
        f"{one.customer_reads} / {one.emails - one.new_emails} known",
        str(two.customer_reads),
    )
    row("customers created", f"{one.customers_created} / {one.new_emails} new", str(two.customers_created))
    row("customer address updates", str(one.address_updates), str(two.address_updates))
    row(
        "product look-ups (orders)",
        f"{one.sku_lookups} / {one.skus} SKUs (⌈/100⌉ {one.sku_batches})",
        f"{two.sku_lookups} / {two.skus} SKUs (all seen)",
    )
    row(
        "product look-ups (stock sync)",
        f"{one.stock_lookups} for {one.stock_skus} SKUs",
        f"{two.stock_lookups} for {two.stock_skus} SKUs",
    )
    row(
        "  SKUs looked up twice",
        str(one.skus_twice),
        f"{two.skus_twice}; seen again: {two.seen_skus_looked_up}",
    )
    row(
        "  SKUs looked up, in no line",
        str(len(one.unused_skus)),
        str(len(two.unused_skus)),
    )
    row("inventory reads (stock sync)", str(one.inventory_reads), str(two.inventory_reads))


def print_beyond(run: Run) -> None:
    print("\n   requests beyond the document's own (POST, LOCK, lines, deposit, UNLOCK), per order:")
    for index, cycle in enumerate(run.cycles, 1):
        purposes = cycle.by_purpose()
        n = cycle.transferred
        beyond = sum(purposes.values()) - purposes[DOCUMENT]
        other = purposes[CUSTOMER_WRITE] + purposes[SETUP] + purposes[UNEXPLAINED]
        print(
            f"   cycle {index}: document's own {_per(purposes[DOCUMENT], n)}; beyond {beyond}"
            f" ({_per(beyond, n)}): look-ups {purposes[LOOKUP]}, stock sync {purposes[STOCK]},"
            f" other {other} (customers created/updated {purposes[CUSTOMER_WRITE]},"
            f" set-up {purposes[SETUP]}, unexplained {purposes[UNEXPLAINED]})"
        )


def describe_mode(mode: str) -> str:
    return ", ".join(f"{k} = {str(v).lower()}" for k, v in MODES[mode].items())


def print_summary(runs: list[Run]) -> None:
    print("\nSummary")
    print(
        f"   {'mode':<8} {'latency':>7} {'cycle':>5} {'orders':>6} {'cycle s':>8} {'orders/s':>8}"
        f" {'req/order':>9} {'own':>6} {'look-ups':>8} {'stock':>6} {'other':>6}"
    )
    for run in runs:
        for index, cycle in enumerate(run.cycles, 1):
            purposes = cycle.by_purpose()
            n = cycle.transferred
            other = purposes[CUSTOMER_WRITE] + purposes[SETUP] + purposes[UNEXPLAINED]
            print(
                f"   {run.mode:<8} {run.latency_ms:>5}ms {index:>5} {n:>6} {cycle.phase.seconds:>8.2f}"
                f" {n / cycle.phase.seconds:>8.1f} {_per(cycle.requests, n):>9}"
                f" {_per(purposes[DOCUMENT], n):>6} {_per(purposes[LOOKUP], n):>8}"
                f" {_per(purposes[STOCK], n):>6} {_per(other, n):>6}"
            )


def print_settings(args: argparse.Namespace) -> None:
    shown = {
        "kind": "lightspeed_onsite",
        "base_url": "<the sandbox's Base URL>",
        "username": "lightspeed",
        "password": "…",
        "app_private_id": "…",
        "verify_tls": False,
        "requests_per_second": ONSITE_BUDGET,
        "lightspeed_onsite": {"download_orders_as": "invoice | order (see each run)"},
    }
    python = sys.executable
    print(f"magento sandbox: {' '.join(sandbox_command(args.magento_latency_ms)).replace(python, 'python')}")
    print(f"onsite sandbox:  {' '.join(onsite_command(0)).replace(python, 'python')} (0: each --latency-ms)")
    print(
        f"engine: orders.mode = auto_invoice, orders.concurrency = {args.concurrency}, "
        f"magento.requests_per_second = {BUDGET:g}"
    )
    print(_toml({"pos": shown}).rstrip())


# --- main ---------------------------------------------------------------------------------------


async def _runs(args: argparse.Namespace, workdir: Path) -> list[Run]:
    runs = []
    for mode in args.modes:
        for latency in args.latency_ms:
            print(f"   … {mode}, {args.orders} + {args.orders // 5} orders, OnSite {latency} ms", flush=True)
            runs.append(await onsite_run(mode, latency, args, workdir))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=500, help="eligible orders of cycle 1 (cycle 2: N/5)")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 20], help="OnSite sandbox latencies")
    parser.add_argument("--magento-latency-ms", type=int, default=0, help="Magento sandbox latency")
    parser.add_argument("--concurrency", type=int, default=8, help="orders.concurrency")
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=["invoice", "order"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"{date.today().isoformat()}  ", end="")
    print_machine()
    print_settings(args)
    with tempfile.TemporaryDirectory(prefix="m2pos-bench-onsite-") as tmp:
        runs = asyncio.run(_runs(args, Path(tmp)))
    for run in runs:
        print_run(run)
    print_summary(runs)
    print("\nGoals")
    for goal in goals(runs):
        print(f"   {goal.line()}")
    if any(run.problems for run in runs):
        print("   ! something is off: see the lines starting with ! above")
    else:
        print("   every eligible order is in OnSite once, none of the waiting ones; inventory check clean")


if __name__ == "__main__":
    main()
