"""Independent orders are processed concurrently, never more than ``orders.concurrency`` at a time,
and Magento never sees more than ``magento.requests_per_second`` (bursts up to the same number).

The rate limiter itself is tested on a fake clock; the integration tests watch the requests arrive
at the sandbox through an ASGI middleware.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from m2pos.engine import CycleReport, ItemResult, Outcome, SyncEngine
from m2pos.engine.ratelimit import RateLimitedTransport, RateLimiter
from m2pos.settings import OrderSettings, Settings
from tests.engine import invariants
from tests.engine.conftest import Store, open_store
from tests.engine.invariants import Expectation

# --- the token bucket on a fake clock -----------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


def _max_in_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_a_burst_is_served_at_once_then_the_rate_holds() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep)
    stamps = []
    for _ in range(30):
        await limiter.acquire()
        stamps.append(fake.now)
    assert stamps[:10] == [0.0] * 10  # the burst (= rate by default)
    assert stamps[-1] == pytest.approx(2.0)  # the other 20 at 10 per second
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(stamps[10:]))
    assert _max_in_window(stamps, 1.0) <= 10 + 10
    assert limiter.acquired == 30


async def test_concurrent_waiters_share_the_budget_in_arrival_order() -> None:
    fake = FakeTime()
    limiter = RateLimiter(5, burst=2, clock=fake.clock, sleep=fake.sleep)
    served: list[tuple[int, float]] = []

    async def worker(n: int) -> None:
        await limiter.acquire()
        served.append((n, fake.now))

    await asyncio.gather(*(worker(n) for n in range(12)))
    assert [n for n, _ in served] == list(range(12))
    times = [t for _, t in served]
    assert times[:2] == [0.0, 0.0]
    assert times[-1] == pytest.approx(2.0)  # (12 - 2) / 5
    assert _max_in_window(times, 1.0) <= 2 + 5


async def test_an_idle_limiter_saves_up_no_more_than_the_burst() -> None:
    fake = FakeTime()
    limiter = RateLimiter(4, burst=3, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        await limiter.acquire()
    fake.now += 3600  # an hour idle
    start = fake.now
    stamps = []
    for _ in range(5):
        await limiter.acquire()
        stamps.append(fake.now - start)
    assert stamps == pytest.approx([0, 0, 0, 0.25, 0.5])


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(0)


async def test_the_transport_spends_one_token_per_request() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2, burst=1, clock=fake.clock, sleep=fake.sleep)
    arrivals: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        arrivals.append(fake.now)
        return httpx.Response(200, json={})

    transport = RateLimitedTransport(httpx.MockTransport(answer), limiter)
    async with httpx.AsyncClient(transport=transport) as client:
        await asyncio.gather(*(client.get("http://magento.test/rest/V1/orders") for _ in range(5)))
    assert limiter.acquired == 5
    assert sorted(arrivals) == pytest.approx([0, 0.5, 1.0, 1.5, 2.0])


# --- against the sandbox ------------------------------------------------------------------------


class Meter:
    """ASGI middleware: when Magento requests arrive and how many are in flight at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.item_in_flight = 0  # requests one order's transfer makes (its invoices, the invoice POST)
        self.max_item_in_flight = 0

    def reset(self) -> None:
        with self._lock:
            self.arrivals.clear()
            self.max_in_flight = self.max_item_in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if "/rest/" not in path:
            await self.app(scope, receive, send)
            return
        item = "/V1/invoices" in path or "/V1/order/" in path
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if item:
                self.item_in_flight += 1
                self.max_item_in_flight = max(self.max_item_in_flight, self.item_in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.in_flight -= 1
                if item:
                    self.item_in_flight -= 1


@pytest.fixture
def metered(tmp_path: Path) -> Iterator[tuple[Store, Meter]]:
    meters: list[Meter] = []

    def wrap(app: Any) -> Meter:
        meters.append(Meter(app))
        return meters[0]

    with open_store(tmp_path, wrap=wrap) as shop:
        yield shop, meters[0]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_orders_are_processed_concurrently_within_the_bound(
    metered: tuple[Store, Meter], concurrency: int
) -> None:
    store, meter = metered
    store.configure(orders={"concurrency": concurrency}, magento={"requests_per_second": 1000})
    expected = Expectation()
    for _ in range(12):
        expected.add_order(store.sandbox.control.place_order("simple", payment="authorised"))
    store.sandbox.control.set_faults(latency_ms=50)
    meter.reset()
    result = store.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    store.sandbox.control.set_faults(latency_ms=0)
    assert meter.max_item_in_flight <= concurrency
    if concurrency > 1:
        assert meter.max_item_in_flight > 1
    # The orders' own requests plus, at most, the next page of the feed being read.
    assert meter.max_in_flight <= concurrency + 1
    invariants.check(store, expected)


def test_magento_never_sees_more_than_the_request_budget(metered: tuple[Store, Meter]) -> None:
    store, meter = metered
    rate = 10
    store.configure(orders={"concurrency": 8}, magento={"requests_per_second": rate})
    expected = Expectation()
    # One invoice request per order plus the feeds: enough requests to last well past the burst.
    for _ in range(30):
        expected.add_order(store.sandbox.control.place_order("simple", payment="authorised"))
    meter.reset()
    result = store.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    stamps = list(meter.arrivals)
    total = len(stamps)
    assert total > 2 * rate, f"only {total} requests: too few to see the budget"
    tolerance = 2  # arrival times at the server jitter (a busy machine can bunch a few together)
    # A token bucket allows `burst` (= rate) at once and `rate` per second after that.
    assert _max_in_window(stamps, 1.0) <= 2 * rate + tolerance
    assert _max_in_window(stamps, 2.0) <= 3 * rate + tolerance
    took = stamps[-1] - stamps[0]
    assert took >= (total - rate) / rate - 0.2, f"{total} requests in {took:.2f}s"
    invariants.check(store, expected)


# --- the item runner when the read fails half-way -------------------------------------------------


def _engine(concurrency: int) -> SyncEngine:
    settings = Settings(orders=OrderSettings(concurrency=concurrency))
    return SyncEngine(SimpleNamespace(settings=settings))  # type: ignore[arg-type]


async def test_a_failing_read_lets_the_items_in_hand_finish_and_reports_its_own_error() -> None:
    """Page 2 of the feed fails while page 1's orders are being transferred: those transfers finish
    (they are not cancelled half-way, between a POS write and its ledger entry), and the error that
    reaches the cycle report is Magento's, not an anonymous exception group."""
    finished: list[int] = []

    async def feed() -> AsyncIterator[int]:
        for n in range(3):
            yield n
        await asyncio.sleep(0)
        raise RuntimeError("Magento server error (HTTP 500) reading page 2")

    async def handle(n: int) -> ItemResult:
        await asyncio.sleep(0.05)
        finished.append(n)
        return ItemResult("order", n, str(n), Outcome.TRANSFERRED, "")

    report = CycleReport(started_at=datetime.now(UTC))
    with pytest.raises(RuntimeError, match="HTTP 500"):
        await _engine(concurrency=8)._each(feed(), handle, report)
    assert sorted(finished) == [0, 1, 2]
    assert len(report.results) == 3


async def test_the_item_runner_never_exceeds_its_bound() -> None:
    running = peak = 0

    async def feed() -> AsyncIterator[int]:
        for n in range(20):
            yield n

    async def handle(n: int) -> ItemResult:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return ItemResult("order", n, str(n), Outcome.TRANSFERRED, "")

    report = CycleReport(started_at=datetime.now(UTC))
    assert await _engine(concurrency=3)._each(feed(), handle, report)
    assert peak == 3
    assert len(report.results) == 20
