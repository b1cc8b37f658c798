"""A soak run: orders arrive steadily while m2pos is killed at random moments and both sides
misbehave (``faulty_phase``); then no faults, no kills, cycles until nothing is left (``quiet_phase``).

The shop acts between kills (``act``): it cancels unpaid orders, invoices orders in Wait for
Invoice, cancels the orders whose invoice Magento refused once they are in the POS, and refunds.
Half-way through a run the shop may switch to Wait for Invoice (``switch_at``): the settings file is
rewritten under the running m2pos, and orders wait until m2pos has recorded the change, so that
each order's mode is known. A subclass adds what one POS's staff do (``counter_action``).
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.ledger import OrderStatus
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox
from m2pos.sandbox.magento._store import CREDITMEMOS
from tests.engine.conftest import LONG_AGO, Store
from tests.engine.stores import CliProcess, start_cli
from tests.pos_suite.target import PosUnderTest, SeenDocument
from tests.soak.processes import FAULTS, TIMING, InvoiceGate, Real, write_settings
from tests.soak.workload import WAIT_FOR_INVOICE, Planned

ORDERS_SETTINGS: dict[str, Any] = {
    "start_date": LONG_AGO,
    "poll_interval_seconds": 1,
    "overlap_seconds": 5,
    "retry_base_seconds": 0.2,
    "retry_max_seconds": 1,
    "max_attempts": 100,
}


@dataclass
class SoakShop:
    store: Store  # the settings file, ledger and Magento side (tests/engine/conftest.py)
    magento: MagentoSandbox
    pos: PosUnderTest
    gate: InvoiceGate

    @property
    def mc(self) -> Any:
        return self.magento.control


@contextmanager
def open_magento(directory: Path) -> Iterator[tuple[Store, MagentoSandbox, InvoiceGate]]:
    """The Magento sandbox behind the invoice gate, over HTTP, and a settings file for it."""
    directory.mkdir(parents=True, exist_ok=True)
    magento = MagentoSandbox(orders=0)
    gate = InvoiceGate(magento.app)
    try:
        with serve_in_thread(gate) as url:
            store = Store(sandbox=magento, url=url, directory=directory)
            store.settings["magento"] = {
                "base_url": url,
                "consumer_key": DEMO_CREDENTIALS.consumer_key,
                "consumer_secret": DEMO_CREDENTIALS.consumer_secret,
                "access_token": DEMO_CREDENTIALS.access_token,
                "access_token_secret": DEMO_CREDENTIALS.access_token_secret,
                "requests_per_second": 1000,
                "timeout_seconds": 2,
            }
            store.settings["orders"] = dict(ORDERS_SETTINGS)
            store.settings["state"] = {"database_url": f"sqlite:///{directory / 'ledger.db'}"}
            yield store, magento, gate
    finally:
        magento.close()


def live(documents: list[SeenDocument]) -> list[SeenDocument]:
    return [d for d in documents if not d.cancelled]


@dataclass
class Run:
    shop: SoakShop
    rng: random.Random
    plan: list[Planned]
    seed: int
    switch_at: int | None = None  # the shop switches to Wait for Invoice before this order
    placed: int = 0
    started: int = 0
    kills: int = 0
    switched: bool = False
    exits: Counter[int] = field(default_factory=Counter)
    with_faults: str = ""

    # --- the shop -----------------------------------------------------------------------------------

    def place(self, count: int) -> None:
        end = min(len(self.plan), self.placed + count)
        if self.switch_at is not None and not self.switched:
            end = min(end, self.switch_at)
        mc = self.shop.mc
        for p in self.plan[self.placed : end]:
            order = mc.place_order(
                p.kind if p.kind in ("simple", "configurable", "bundle", "mixed", "virtual") else "simple",
                items=p.items,
                payment=p.payment,
                guest=p.guest,
                customer_index=p.customer_index,
                coupon_percent=p.coupon,
            )
            p.entity_id, p.number = int(order["entity_id"]), str(order["increment_id"])
            if p.cancel_after_download:
                self.shop.gate.held.add(p.entity_id)
        self.placed = end
        if self.placed == self.switch_at and not self.switched:
            self._switch()

    def _switch(self) -> None:
        """Wait for Invoice from now on: once m2pos has recorded it, later orders are judged by it."""
        if self.shop.store.settings["orders"].get("mode") != WAIT_FOR_INVOICE:
            time.sleep(1.1)  # Magento stamps whole seconds: the last order's second is over
            write_settings(self.shop.store, orders={"mode": WAIT_FOR_INVOICE})
        ledger = self.shop.store.ledger()
        try:
            history = ledger.settings_history()
        finally:
            ledger.close()
        self.switched = bool(history) and history[-1].settings.mode == WAIT_FOR_INVOICE

    def act(self) -> None:
        """What the shop does between two kills, for the orders where the time has come."""
        if self.switch_at is not None and not self.switched and self.placed == self.switch_at:
            self._switch()
        mc = self.shop.mc
        for p in self.plan[: self.placed]:
            if not p.pending:
                continue
            if p.cancel_before_download and not p.cancelled:
                p.cancelled = bool(mc.cancel(p.entity_id))
                assert p.cancelled, f"order {p.number} could not be cancelled"
                continue
            if p.shop_invoices and not p.shop_invoiced:
                mc.invoice(p.entity_id, capture=p.payment == "authorised")
                p.shop_invoiced = True
                continue
            document = self.document_made(p)
            if p.cancel_after_download and not p.cancelled and document is not None:
                p.cancelled = bool(mc.cancel(p.entity_id))
                assert p.cancelled, f"order {p.number} could not be cancelled"
                continue
            invoiced = p.eligible and Decimal(str(mc.get_order(p.entity_id).get("total_invoiced") or 0)) > 0
            if self.counter_action(p, document, invoiced):
                continue
            downloaded = p.eligible and invoiced and document is not None
            if p.refund is not None and p.memo_id is None and (downloaded or p.payment == "captured"):
                if p.convert and not p.converted:
                    continue
                self._refund(p)

    def document_made(self, p: Planned) -> Any | None:
        """The order's document in the POS, once m2pos has made it (None: not yet)."""
        found = live(self.shop.pos.documents(p.number))
        return found[0] if found else None

    def counter_action(self, p: Planned, document: Any | None, invoiced: bool) -> bool:
        """What the POS's staff do with the order (True: done something, refund later)."""
        return False

    def _refund(self, p: Planned) -> None:
        mc = self.shop.mc
        order = mc.get_order(p.entity_id)
        items: list[dict[str, Any]] = []
        shipping: float | None = None
        if p.refund == "partial":
            rows = [
                r
                for r in order["items"]
                if r.get("parent_item_id") is None and r["product_type"] != "bundle" and r["qty_ordered"] > 1
            ]
            if rows:
                items, shipping = [{"order_item_id": rows[0]["item_id"], "qty": 1}], 0.0
            else:
                p.refund = "full"  # nothing to refund in part: one of everything
        p.memo_id = mc.refund(
            p.entity_id, items=items, return_to_stock=p.return_to_stock, shipping_amount=shipping
        )
        memo = self.shop.magento.backend.get_document(CREDITMEMOS, p.memo_id)
        p.memo_number = str(memo["increment_id"])

    # --- m2pos --------------------------------------------------------------------------------------

    def start(self, args: tuple[str, ...]) -> CliProcess | Real:
        self.started += 1
        if self.started == 1:
            return Real(self.shop.store, *args)
        return start_cli(self.shop.store, *args)

    def finish(self, process: CliProcess | Real, *, kill: bool) -> None:
        if kill and process.alive:
            process.kill()
            self.kills += 1
        # Long enough for a POS's rate-limit wait (the soak's X-Series window is 30 s, soak.py) and a
        # cycle's retries.
        code = process.wait(timeout=420)
        self.exits[code] += 1
        assert code in (0, 1, -signal.SIGKILL), f"m2pos ended with {code}:\n{process.output()[-3000:]}"

    def faulty_phase(self, seconds: float) -> None:
        """Orders arrive steadily (all of them within the first two thirds of the phase) while m2pos is
        killed at random moments and both sides misbehave."""
        shop = self.shop
        shop.mc.set_faults(**FAULTS["magento"], **TIMING, seed=self.seed * 10 + 1)
        shop.pos.switches.set_faults(**FAULTS["pos"], **TIMING, seed=self.seed * 10 + 2)
        started = time.monotonic()
        deadline = started + seconds
        process: CliProcess | Real | None = None
        while time.monotonic() < deadline:
            due = len(self.plan) * (time.monotonic() - started) / (seconds * 2 / 3)
            self.place(max(0, min(len(self.plan), round(due) + 1) - self.placed))
            self.act()
            if process is None:
                process = self.start(("run",) if self.rng.random() < 0.7 else ("sync", "--once"))
            # Mostly short lives (killed within the first cycle), sometimes a few cycles.
            time.sleep(self.rng.uniform(0.2, 3.0) if self.rng.random() < 0.7 else self.rng.uniform(3.0, 8.0))
            if not process.alive:
                self.finish(process, kill=False)
                process = None
            elif self.rng.random() < 0.8:
                self.finish(process, kill=True)
                process = None
            if self.placed == len(self.plan) and not any(p.pending for p in self.plan):
                break
        if process is not None:
            self.finish(process, kill=True)
        shop.mc.reset_faults()
        shop.pos.switches.reset_faults()
        self.with_faults = self.progress()

    def progress(self) -> str:
        """What m2pos got done so far."""
        ledger = self.shop.store.ledger()
        try:
            orders = ledger.order_counts().get(OrderStatus.TRANSFERRED, 0)
            memos = ledger.credit_memo_counts().get(OrderStatus.TRANSFERRED, 0)
        finally:
            ledger.close()
        pushes = self.shop.mc.count("POST /V1/inventory/source-items")
        return f"{orders} orders and {memos} credit memos carried, {pushes} stock writes to Magento"

    def quiet_phase(self, cycles: int = 20) -> int:
        """No faults, no kills: cycles until nothing is left to do, then one more for the stock."""
        for n in range(1, cycles + 1):
            self.place(len(self.plan))
            self.act()
            self.finish(self.start(("sync", "--once")), kill=False)
            if self.placed == len(self.plan) and not any(p.pending for p in self.plan) and self._settled():
                self.finish(self.start(("sync", "--once")), kill=False)  # the quiet cycle
                return n + 1
        raise AssertionError(
            f"not settled after {cycles} quiet cycles (seed {self.seed}):\n{self._unsettled()}"
        )

    def _settled(self) -> bool:
        return not self._unsettled()

    def _unsettled(self) -> str:
        ledger = self.shop.store.ledger()
        try:
            orders = ledger.order_counts()
            memos = ledger.credit_memo_counts()
            intents = ledger.open_intents()
        finally:
            ledger.close()
        # An order needing attention is final (the checks name it), except while the shop has yet to
        # cancel it (an order whose invoice Magento refused, see InvoiceGate).
        busy = (OrderStatus.PENDING, OrderStatus.FAILED)
        left = {k: v for k, v in orders.items() if k in busy}
        memos_left = {k: v for k, v in memos.items() if k in (*busy, OrderStatus.WAITING)}
        pending = sum(p.pending for p in self.plan)
        if not left and not memos_left and not intents and self.placed == len(self.plan) and not pending:
            return ""
        return (
            f"orders {left}, credit memos {memos_left}, open intents {len(intents)}, "
            f"placed {self.placed}/{len(self.plan)}, shop actions pending {pending}"
        )
