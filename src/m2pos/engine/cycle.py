"""One sync cycle for one store: read what changed in Magento, carry what qualifies, move the cursors.

Cursor rule (dlt's incremental cursor with a lag window): each cycle reads the orders whose
``updated_at`` is at or after the cursor minus ``orders.overlap_seconds`` (Magento stamps
``updated_at`` before its transaction commits, so a late commit can carry an older stamp). The
cursor moves only past items whose fate is recorded in the ledger; a failing item is recorded with
its retry time, so it never holds the others back. If the read stops early (an error, a shutdown),
the cursor stays where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from m2pos.engine.context import StoreContext
from m2pos.engine.crash import crash_point
from m2pos.engine.health import record_magento_health
from m2pos.engine.items import (
    ItemResult,
    Outcome,
    fail_credit_memo,
    handle_credit_memo,
    handle_order,
    handle_unreadable,
    resend_order,
)
from m2pos.engine.stock import CatalogCache, StockReport, sync_stock
from m2pos.magento import InvalidDocument, SearchCriteria
from m2pos.magento.models import CreditMemo, Order
from m2pos.notify import maybe_send_digest

log = logging.getLogger("m2pos.engine")

ORDERS = "orders"
CREDIT_MEMOS = "credit_memos"
READ_MARKER = "read:{stream}"  # the start of the last cycle that read the whole feed (the console)
_ID_CHUNK = 100  # entity_id "in" filters per request
# Only these fields are read by the reconciliation pass, to keep it cheap.
_RECONCILE_FIELDS = "items[entity_id,increment_id,state,updated_at,created_at,total_invoiced]"

T = TypeVar("T")


@dataclass
class CycleReport:
    started_at: datetime
    finished_at: datetime | None = None
    results: list[ItemResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems that stopped a whole read
    reconciled: bool = False
    stock: StockReport | None = None
    backlog: bool = False  # the orders feed stopped at max_orders_per_cycle: more are waiting

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.outcome == Outcome.FAILED]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed


class SyncEngine:
    def __init__(self, ctx: StoreContext, stop: asyncio.Event | None = None) -> None:
        self.ctx = ctx
        self.stop = stop or asyncio.Event()
        self.catalog = CatalogCache()

    async def run_cycle(self) -> CycleReport:
        ctx = self.ctx
        ctx.refresh_rules()
        report = CycleReport(started_at=ctx.clock())
        ctx.ledger.set_marker("cycle_started", report.started_at)
        await self._orders_feed(report)
        await self._orders_due(report)
        await self._fetch_and_handle_orders(ctx.ledger.resends_due(ctx.clock()), report, handle=self._resend)
        # Before the credit memos: the stock read is what tells whether Magento restocked them.
        await self._stock(report)
        await self._credit_memos_feed(report)
        await self._credit_memos_due(report)
        # With a backlog left, the next slices read those orders anyway: reconcile once caught up.
        if not self.stop.is_set() and not report.backlog and self._reconcile_due(report.started_at):
            await self.reconcile(report)
        report.finished_at = ctx.clock()
        record_magento_health(ctx.ledger, report.errors, ctx.clock)
        if report.ok:
            ctx.ledger.set_marker("last_success", report.finished_at)
        ctx.ledger.set_marker("last_cycle", report.finished_at, "ok" if report.ok else "failed")
        try:
            await maybe_send_digest(
                ctx.ledger, ctx.settings.notifications, ctx.settings.orders, report.finished_at
            )
        except OSError as error:  # an unreachable mail server must not stop the sync
            report.errors.append(f"the notification e-mail could not be sent: {error}")
        return report

    async def backfill(
        self, since: datetime, progress: Callable[[int, int], None] | None = None
    ) -> CycleReport:
        """Judge every order created since ``since`` by the current settings (explicit backfill)."""
        ctx = self.ctx
        ctx.refresh_rules()
        report = CycleReport(started_at=ctx.clock())
        criteria = self._store_filter(SearchCriteria().where("created_at", "gteq", since))
        paginator = ctx.magento.orders(criteria, on_invalid="yield")
        done = 0

        async def handle(order: Order | InvalidDocument) -> ItemResult:
            nonlocal done
            result = await self._order(order, backfill=True)
            done += 1
            if progress is not None:
                progress(done, paginator.total_count or done)
            return result

        try:
            await self._each(aiter(paginator), handle, report)
        except Exception as error:  # noqa: BLE001 - reported in the cycle; the cursor stays
            report.errors.append(f"reading orders from Magento failed: {error}")
        report.finished_at = ctx.clock()
        return report

    # --- orders -------------------------------------------------------------------------------

    async def _orders_feed(self, report: CycleReport) -> None:
        ctx = self.ctx
        cursor = ctx.ledger.cursor(ORDERS) or ctx.rules.start_date or report.started_at
        since = cursor - ctx.overlap
        criteria = self._store_filter(SearchCriteria().where("updated_at", "gteq", since))
        limit = ctx.settings.orders.max_orders_per_cycle
        if limit:
            # A slice must be the oldest changes, so that the cursor can move to its end.
            criteria = criteria.order_by("updated_at")
        seen: list[Order] = []

        async def handle(order: Order | InvalidDocument) -> ItemResult:
            if isinstance(order, Order):
                seen.append(order)
            return await self._order(order)

        try:
            complete = await self._each(
                aiter(ctx.magento.orders(criteria, on_invalid="yield")),
                handle,
                report,
                limit=limit,
                counts=self._new_to_the_ledger,
            )
        except Exception as error:  # noqa: BLE001 - reported in the cycle; the cursor stays
            report.errors.append(f"reading orders from Magento failed: {error}")
            log.error("orders feed failed", extra={"error": str(error)})
            return
        report.backlog = bool(limit) and complete is None
        if complete or report.backlog:
            crash_point("before_cursor")
            self._advance(ORDERS, cursor, [o.updated_at for o in seen], report.started_at)
        if complete:
            ctx.ledger.set_marker(READ_MARKER.format(stream=ORDERS), report.started_at)

    async def _orders_due(self, report: CycleReport) -> None:
        """Failed orders whose retry time came, and transfers a crash left unfinished."""
        ctx = self.ctx
        due = [
            i for i in ctx.ledger.orders_due(ctx.clock()) if i not in {r.entity_id for r in report.results}
        ]
        await self._fetch_and_handle_orders(due, report)

    async def _fetch_and_handle_orders(
        self,
        entity_ids: Sequence[int],
        report: CycleReport,
        *,
        force: bool = False,
        handle: Callable[[Order | InvalidDocument], Awaitable[ItemResult]] | None = None,
    ) -> None:
        """Read these orders from Magento and handle each (by default: judge and carry it)."""
        ctx = self.ctx
        each = handle or (lambda o: self._order(o, force=force))
        for start in range(0, len(entity_ids), _ID_CHUNK):
            chunk = list(entity_ids[start : start + _ID_CHUNK])
            try:
                orders = ctx.magento.orders(
                    SearchCriteria().where("entity_id", "in", chunk), on_invalid="yield"
                )
                await self._each(aiter(orders), each, report)
            except Exception as error:  # noqa: BLE001 - reported in the cycle; the cursor stays
                report.errors.append(f"reading orders {chunk[0]}…{chunk[-1]} from Magento failed: {error}")
                return

    # --- credit memos -------------------------------------------------------------------------

    async def _credit_memos_feed(self, report: CycleReport) -> None:
        ctx = self.ctx
        cursor = ctx.ledger.cursor(CREDIT_MEMOS) or ctx.rules.start_date or report.started_at
        since = cursor - ctx.overlap
        seen: list[CreditMemo] = []
        orders: dict[int, Order] = {}

        async def handle(memo: CreditMemo | InvalidDocument) -> ItemResult:
            if isinstance(memo, CreditMemo):
                seen.append(memo)
            return await self._handle_memo(memo, orders, report)

        try:
            memos = ctx.magento.credit_memos(
                SearchCriteria().where("updated_at", "gteq", since), on_invalid="yield"
            )
            complete = await self._each(aiter(memos), handle, report, concurrent=False)
        except Exception as error:  # noqa: BLE001 - reported in the cycle; the cursor stays
            report.errors.append(f"reading credit memos from Magento failed: {error}")
            return
        if complete:
            self._advance(
                CREDIT_MEMOS, cursor, [m.updated_at or m.created_at for m in seen], report.started_at
            )
            ctx.ledger.set_marker(READ_MARKER.format(stream=CREDIT_MEMOS), report.started_at)

    async def _credit_memos_due(self, report: CycleReport) -> None:
        ctx = self.ctx
        handled = {r.entity_id for r in report.results if r.kind == "credit_memo"}
        due = [i for i in ctx.ledger.credit_memos_due(ctx.clock()) if i not in handled]
        await self._fetch_and_handle_memos(due, report)

    async def _fetch_and_handle_memos(
        self, entity_ids: Sequence[int], report: CycleReport, *, force: bool = False
    ) -> None:
        ctx = self.ctx
        orders: dict[int, Order] = {}
        for start in range(0, len(entity_ids), _ID_CHUNK):
            chunk = list(entity_ids[start : start + _ID_CHUNK])
            try:
                memos = ctx.magento.credit_memos(
                    SearchCriteria().where("entity_id", "in", chunk), on_invalid="yield"
                )
                await self._each(
                    aiter(memos),
                    lambda m: self._handle_memo(m, orders, report, force=force),
                    report,
                    concurrent=False,
                )
            except Exception as error:  # noqa: BLE001 - reported in the cycle; the cursor stays
                report.errors.append(f"reading credit memos from Magento failed: {error}")
                return

    async def _order(
        self, order: Order | InvalidDocument, *, backfill: bool = False, force: bool = False
    ) -> ItemResult:
        if isinstance(order, InvalidDocument):
            return handle_unreadable(self.ctx, order)
        return await handle_order(self.ctx, order, backfill=backfill, force=force)

    async def _handle_memo(
        self,
        memo: CreditMemo | InvalidDocument,
        orders: dict[int, Order],
        report: CycleReport,
        *,
        force: bool = False,
    ) -> ItemResult:
        """The memo's order is read (once per cycle) and, if m2pos never saw it, judged first."""
        ctx = self.ctx
        if isinstance(memo, InvalidDocument):
            return handle_unreadable(ctx, memo)
        order: Order | None = None
        if memo.order_id is not None:
            if memo.order_id not in orders:
                try:
                    orders[memo.order_id] = await ctx.magento.get_order(memo.order_id)
                except Exception as error:  # noqa: BLE001 - this memo waits; the others go on
                    return fail_credit_memo(ctx, memo, f"its order could not be read from Magento: {error}")
                if ctx.ledger.order(memo.order_id) is None:
                    report.results.append(await handle_order(ctx, orders[memo.order_id]))
            order = orders[memo.order_id]
        return await handle_credit_memo(ctx, memo, order, force=force)

    # --- stock --------------------------------------------------------------------------------

    async def _stock(self, report: CycleReport) -> None:
        if self.stop.is_set():
            return
        try:
            report.stock = await sync_stock(self.ctx, self.catalog)
        except Exception as error:  # noqa: BLE001 - reported in the cycle; orders are not held back
            report.errors.append(f"the stock sync failed: {error}")
            log.error("stock sync failed", extra={"error": str(error)})

    # --- reconciliation -------------------------------------------------------------------------

    def _reconcile_due(self, now: datetime) -> bool:
        last = self.ctx.ledger.marker("last_reconcile")
        return last is None or now - last.at >= timedelta(
            seconds=self.ctx.settings.orders.reconcile_every_seconds
        )

    async def reconcile(self, report: CycleReport) -> None:
        """Re-check recent orders for eligible ones the feed missed (no ledger entry, or changed)."""
        ctx = self.ctx
        now = ctx.clock()
        since = now - timedelta(hours=ctx.settings.orders.reconcile_window_hours)
        if ctx.rules.start_date is not None:
            since = max(since, ctx.rules.start_date)
        criteria = self._store_filter(SearchCriteria().where("created_at", "gteq", since))
        stale: list[int] = []
        try:
            async for page in ctx.magento.orders(criteria, fields=_RECONCILE_FIELDS).pages():
                ids = [o.entity_id for o in page if o.entity_id is not None]
                rows = {row.magento_entity_id: row for row in ctx.ledger.orders_by_ids(ids)}
                for order in page:
                    row = rows.get(order.entity_id) if order.entity_id is not None else None
                    if row is None or (
                        row.pos_document_id is None
                        and (row.updated_at != order.updated_at or row.magento_state != order.state)
                    ):
                        stale.append(order.entity_id)  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - reported in the cycle; the cursor stays
            report.errors.append(f"reconciliation could not read orders from Magento: {error}")
            return
        if stale:
            log.info("reconciliation found orders to re-check", extra={"count": len(stale)})
            ctx.ledger.add_event("store", 0, "reconciled", f"{len(stale)} orders re-checked")
        await self._fetch_and_handle_orders(stale, report)
        ctx.ledger.set_marker("last_reconcile", now, f"{len(stale)} orders re-checked")
        report.reconciled = True

    # --- manual actions -------------------------------------------------------------------------

    async def retry_order(self, entity_id: int) -> CycleReport:
        """Retry one order now (a person asked), whatever its retry schedule."""
        self.ctx.refresh_rules()
        report = CycleReport(started_at=self.ctx.clock())
        self.ctx.ledger.reset_order_for_retry(entity_id)
        await self._fetch_and_handle_orders([entity_id], report, force=True)
        report.finished_at = self.ctx.clock()
        return report

    async def resend_order(self, entity_id: int, requested_by: str) -> CycleReport:
        """Resend one order now (``m2pos resend``), as the next cycle would after a request."""
        self.ctx.refresh_rules()
        report = CycleReport(started_at=self.ctx.clock())
        self.ctx.ledger.request_resend(entity_id, requested_by)
        await self._fetch_and_handle_orders([entity_id], report, handle=self._resend)
        report.finished_at = self.ctx.clock()
        return report

    async def _resend(self, order: Order | InvalidDocument) -> ItemResult:
        if isinstance(order, InvalidDocument):
            return handle_unreadable(self.ctx, order)
        return await resend_order(self.ctx, order)

    async def retry_credit_memo(self, entity_id: int) -> CycleReport:
        self.ctx.refresh_rules()
        report = CycleReport(started_at=self.ctx.clock())
        self.ctx.ledger.reset_credit_memo_for_retry(entity_id)
        await self._fetch_and_handle_memos([entity_id], report, force=True)
        report.finished_at = self.ctx.clock()
        return report

    # --- plumbing -------------------------------------------------------------------------------

    def _store_filter(self, criteria: SearchCriteria) -> SearchCriteria:
        store_ids = self.ctx.rules.store_ids
        return criteria.where("store_id", "in", list(store_ids)) if store_ids is not None else criteria

    def _new_to_the_ledger(self, order: Order | InvalidDocument) -> bool:
        """Whether an order read is work for this slice: not one the ledger has seen unchanged (the
        cursor's overlap re-reads those; counting them, a slice could be nothing but them)."""
        if not isinstance(order, Order) or order.entity_id is None:
            return True
        row = self.ctx.ledger.order(order.entity_id)
        return row is None or row.updated_at != order.updated_at

    def _advance(
        self, stream: str, cursor: datetime, stamps: Sequence[datetime | None], started: datetime
    ) -> None:
        """Move the cursor to the newest stamp read, never past the cycle's start (late commits)."""
        newest = max((s for s in stamps if s is not None), default=None)
        if newest is None:
            return
        self.ctx.ledger.set_cursor(stream, min(max(cursor, newest), started))

    async def _each(
        self,
        items: AsyncIterator[T],
        handle: Callable[[T], Awaitable[ItemResult]],
        report: CycleReport,
        *,
        concurrent: bool = True,
        limit: int = 0,
        counts: Callable[[T], bool] | None = None,
    ) -> bool | None:
        """Handle every item, at most ``orders.concurrency`` at a time; False if stopped early, None
        if ``limit`` items were read with more left (the rest is for the next cycle). Only items
        ``counts`` accepts count toward ``limit`` (all, without it)."""
        slots = asyncio.Semaphore(self.ctx.settings.orders.concurrency if concurrent else 1)

        async def run(item: T) -> None:
            try:
                report.results.append(await handle(item))
            finally:
                slots.release()

        read_error: Exception | None = None
        read, cut = 0, False
        async with asyncio.TaskGroup() as group:
            try:
                async for item in items:
                    if self.stop.is_set():
                        break
                    if limit and read == limit:
                        cut = True
                        break
                    if counts is None or counts(item):
                        read += 1
                    await slots.acquire()
                    group.create_task(run(item))
            except Exception as error:  # noqa: BLE001 - re-raised once the items in hand are done
                # Raised inside the group, it would cancel the transfers in flight (between a POS
                # write and its ledger entry) and reach the report as an anonymous exception group.
                read_error = error
        if read_error is not None:
            raise read_error
        if self.stop.is_set():
            return False
        return None if cut else True
