"""``m2pos run`` as its own process: the loop picks new orders up within the poll interval, stops
cleanly on SIGTERM/SIGINT after finishing the items in hand, and logs one JSON object per line
without ever writing a secret.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from m2pos.sandbox.magento import DEMO_CREDENTIALS
from tests.engine import invariants
from tests.engine.conftest import Store
from tests.engine.invariants import Expectation

POLL_SECONDS = 1.0
INVOICE_POST = "POST /V1/order/{orderId}/invoice"


@dataclass
class Running:
    process: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll ``condition``; the seconds it took. Fails if the process died or time ran out."""
        started = time.monotonic()
        while not condition():
            assert self.process.poll() is None, f"m2pos run exited while waiting for {what}:\n{self.output()}"
            assert time.monotonic() - started < timeout, f"no {what} after {timeout}s:\n{self.output()}"
            time.sleep(0.02)
        return time.monotonic() - started

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code


def _read(stream: object, into: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.append(line)


@pytest.fixture
def run_m2pos(store: Store) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(*global_options: str) -> Running:
        process = subprocess.Popen(
            [sys.executable, "-m", "m2pos.cli", "--config", str(store.config_path), *global_options, "run"],
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running = Running(process)
        for stream, into in ((process.stdout, running.stdout), (process.stderr, running.stderr)):
            reader = threading.Thread(target=_read, args=(stream, into), daemon=True)
            reader.start()
            running._readers.append(reader)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=10)


def _cycles_done(running: Running) -> int:
    """Cycle summaries: a line on stdout, or a "cycle finished" record with --log-format json."""
    text = sum(1 for line in running.stdout if line.startswith("cycle "))
    return text + sum(1 for line in running.stderr if '"message": "cycle finished"' in line)


def test_orders_placed_while_running_reach_the_pos_within_the_poll_interval(
    store: Store, run_m2pos: Callable[..., Running]
) -> None:
    store.configure(orders={"poll_interval_seconds": POLL_SECONDS})
    running = run_m2pos()
    running.wait_for(lambda: _cycles_done(running) >= 1, 30, "first cycle")
    expected = Expectation()
    for pause in (0.0, 0.6):  # land at different moments of the poll interval
        time.sleep(pause)
        order = store.sandbox.control.place_order("simple", payment="authorised")
        expected.add_order(order)
        number = str(order["increment_id"])
        took = running.wait_for(lambda n=number: n in store.pos_references(), 10, f"order {number}")
        assert took <= POLL_SECONDS + 2, f"order {order['increment_id']} took {took:.2f}s to reach the POS"
    running.wait_for(lambda: store.sandbox.control.count(INVOICE_POST) == 2, 10, "the invoices")
    assert running.stop() == 0, running.output()
    invariants.check(store, expected)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_cycle_finishes_the_items_in_hand_and_exits_0(
    store: Store, run_m2pos: Callable[..., Running], sig: int
) -> None:
    store.configure(orders={"poll_interval_seconds": 30, "concurrency": 3})
    control = store.sandbox.control
    expected = Expectation()
    for _ in range(18):
        expected.add_order(control.place_order("simple", payment="authorised"))
    control.set_faults(latency_ms=80)
    running = run_m2pos()
    running.wait_for(lambda: control.count(INVOICE_POST) >= 2, 30, "the first invoices")
    signalled = time.monotonic()
    code = running.stop(sig)
    took = time.monotonic() - signalled
    assert code == 0, running.output()
    assert took < 3, f"took {took:.1f}s to stop"
    assert "m2pos stopped" in running.output()
    control.set_faults(latency_ms=0)

    ledger = store.ledger()
    try:
        assert ledger.open_intents() == []
        rows = ledger.list_orders(limit=1000)
        started = [r for r in rows if r.pos_document_id is not None]
        # Stopped early: some orders were left for the next run ...
        assert 0 < len(started) < len(expected.in_pos), [r.status for r in rows]
        # ... and every one it had begun is finished: in the POS and invoiced.
        assert all(r.invoice_id is not None and r.status == "transferred" for r in started)
    finally:
        ledger.close()
    result = store.cli("sync", "--once")
    assert result.exit_code == 0, result.output
    invariants.check(store, expected)


def test_json_logs_are_one_object_per_line_and_never_contain_a_secret(
    store: Store, run_m2pos: Callable[..., Running]
) -> None:
    bad_sku = "24-MB01"
    store.configure(orders={"poll_interval_seconds": POLL_SECONDS}, pos={"reject_skus": [bad_sku]})
    control = store.sandbox.control
    good = control.place_order("simple", payment="authorised", items=[{"sku": "24-UG06", "qty": 1}])
    bad = control.place_order("simple", payment="authorised", items=[{"sku": bad_sku, "qty": 1}])
    running = run_m2pos("--log-format", "json", "--log-level", "debug")
    running.wait_for(lambda: _cycles_done(running) >= 1, 30, "first cycle")
    memo = control.refund(good["entity_id"])
    running.wait_for(lambda: store.pos().documents("return") != [], 10, f"credit memo {memo}")
    assert running.stop() == 0, running.output()

    records = []
    for line in running.stderr:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message"} <= set(record), line
        records.append(record)
    messages = {(r["message"], r.get("order") or r.get("credit_memo")) for r in records}
    assert ("order transferred", good["increment_id"]) in messages
    assert ("order failed", bad["increment_id"]) in messages
    assert any(r["message"] == "credit memo carried" for r in records)
    assert running.stdout == []  # the cycle summaries are JSON records too
    assert any(r["message"] == "cycle finished" and r["failed"] == 1 for r in records)
    failed = next(r for r in records if r["message"] == "order failed")
    assert bad_sku in failed["error"] and failed["level"] == "warning"

    everything = running.output()
    for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        secret = getattr(DEMO_CREDENTIALS, name)
        assert secret not in everything, f"the {name} reached the output"
