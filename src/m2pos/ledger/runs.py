"""When each store's cycle runs, in distributed mode: at most one cycle runs per store and at most one
more waits queued, whatever the number of schedulers and workers.

Every step is one conditional ``UPDATE`` of the store's ``store_runs`` row, atomic in PostgreSQL
(and SQLite): whoever's update matched the row won.

* A scheduler **queues** a due store only while none is queued (``queued_at`` empty); a queue mark
  older than ``stale_after`` is taken for a lost message and may be queued again.
* A worker **takes the lease** only when nobody holds it or it expired (a dead worker's lease
  runs out after ``ttl``); taking it clears the queue mark, so that one more may wait meanwhile.
* The holder **renews** the lease while the cycle runs; a renewal that matches nothing means the
  lease was lost (the worker stalled past its expiry and another took over): stop at once.
* The holder **releases** it with the cycle's outcome and the next due time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, Update, or_, select, update

from m2pos.ledger._ledger import utcnow
from m2pos.ledger.stores import StoreRow, StoreRunRow, StoreSummary, order_counts_by_store, store_summaries


@dataclass(frozen=True)
class RunState:
    store: str
    next_due_at: datetime
    queued_at: datetime | None
    lease_holder: str | None
    lease_expires_at: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: str | None
    cycles: int
    totals_json: str = "{}"

    @property
    def totals(self) -> dict[str, dict[str, int]]:
        loaded: dict[str, dict[str, int]] = json.loads(self.totals_json or "{}")
        return loaded

    def running(self, now: datetime) -> bool:
        return self.lease_holder is not None and (self.lease_expires_at or now) > now


class StoreRuns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, now: datetime | None = None, *, stale_after: float = 600.0, limit: int = 1000) -> list[str]:
        """Enabled stores due and not queued (or queued so long ago that the message was lost),
        the longest-waiting first. Only candidates: ``queue`` decides."""
        now = now or utcnow()
        query = (
            select(StoreRunRow.store)
            .join(StoreRow, StoreRow.store == StoreRunRow.store)
            .where(
                StoreRow.enabled.is_(True), StoreRunRow.next_due_at <= now, self._queueable(now, stale_after)
            )
            .order_by(StoreRunRow.next_due_at)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def queue(self, store: str, now: datetime | None = None, *, stale_after: float = 600.0) -> bool:
        """Mark ``store`` queued; True when this caller won and must send the task."""
        now = now or utcnow()
        statement = (
            update(StoreRunRow)
            .where(
                StoreRunRow.store == store, StoreRunRow.next_due_at <= now, self._queueable(now, stale_after)
            )
            .values(queued_at=now)
        )
        return self._won(statement)

    def drop_queue(self, store: str) -> None:
        """Forget a queued cycle that will not run (its store was disabled meanwhile)."""
        with self.engine.begin() as connection:
            connection.execute(update(StoreRunRow).where(StoreRunRow.store == store).values(queued_at=None))

    def take_lease(self, store: str, holder: str, ttl: float, now: datetime | None = None) -> bool:
        now = now or utcnow()
        statement = (
            update(StoreRunRow)
            .where(
                StoreRunRow.store == store,
                or_(StoreRunRow.lease_holder.is_(None), StoreRunRow.lease_expires_at < now),
            )
            .values(
                lease_holder=holder,
                lease_expires_at=now + timedelta(seconds=ttl),
                queued_at=None,
                last_started_at=now,
            )
        )
        return self._won(statement)

    def renew(self, store: str, holder: str, ttl: float, now: datetime | None = None) -> bool:
        """False: the lease is no longer ``holder``'s."""
        now = now or utcnow()
        statement = (
            update(StoreRunRow)
            .where(StoreRunRow.store == store, StoreRunRow.lease_holder == holder)
            .values(lease_expires_at=now + timedelta(seconds=ttl))
        )
        return self._won(statement)

    def release(
        self,
        store: str,
        holder: str,
        outcome: str,
        next_due_at: datetime,
        now: datetime | None = None,
        *,
        counts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> bool:
        """Give the lease back; ``counts`` (this cycle's items by outcome, requests and errors by
        system) are added to the store's totals. Only the holder writes them, so no update is lost."""
        now = now or utcnow()
        state = self.state(store) if counts else None
        totals = state.totals if state is not None else {}
        for group, added in (counts or {}).items():
            mine = totals.setdefault(group, {})
            for key, n in added.items():
                mine[key] = mine.get(key, 0) + n
        values: dict[str, object] = {"totals_json": json.dumps(totals, sort_keys=True)} if counts else {}
        statement = (
            update(StoreRunRow)
            .where(StoreRunRow.store == store, StoreRunRow.lease_holder == holder)
            .values(
                **values,
                lease_holder=None,
                lease_expires_at=None,
                last_finished_at=now,
                last_outcome=outcome,
                next_due_at=next_due_at,
                cycles=StoreRunRow.cycles + 1,
            )
        )
        return self._won(statement)

    def state(self, store: str) -> RunState | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(StoreRunRow.__table__).where(StoreRunRow.store == store)).first()
        return RunState(**row._mapping) if row is not None else None

    def states(self) -> dict[str, RunState]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(StoreRunRow.__table__)).all()
        return {row.store: RunState(**row._mapping) for row in rows}

    @staticmethod
    def _queueable(now: datetime, stale_after: float) -> ColumnElement[bool]:
        stale = now - timedelta(seconds=stale_after)
        return or_(StoreRunRow.queued_at.is_(None), StoreRunRow.queued_at < stale)

    def _won(self, statement: Update) -> bool:
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount == 1


@dataclass(frozen=True)
class StoreLine:
    """One store as ``m2pos status --all``, ``m2pos stores list`` and the console's Stores page show it."""

    summary: StoreSummary
    run: RunState | None
    state: str  # disabled, running, queued or idle
    orders: dict[str, int]  # by status; empty unless asked for

    @property
    def last_cycle(self) -> str:
        run = self.run
        if run is None or run.last_finished_at is None:
            return "never"
        return f"{run.last_finished_at:%Y-%m-%d %H:%M:%S} {run.last_outcome}"

    @property
    def next_due(self) -> str:
        return f"{self.run.next_due_at:%Y-%m-%d %H:%M:%S}" if self.run else "-"

    @property
    def orders_text(self) -> str:
        return ", ".join(f"{n} {status}" for status, n in sorted(self.orders.items())) or "none"


def store_overview(engine: Engine, *, with_orders: bool, now: datetime | None = None) -> list[StoreLine]:
    """Every store of the deployment with its state (read without decrypting any secret)."""
    now = now or utcnow()
    runs = StoreRuns(engine).states()
    orders = order_counts_by_store(engine) if with_orders else {}
    lines = []
    for summary in store_summaries(engine):
        run = runs.get(summary.store)
        if not summary.enabled:
            state = "disabled"
        elif run is not None and run.running(now):
            state = f"running ({run.lease_holder})"
        elif run is not None and run.queued_at is not None:
            state = "queued"
        else:
            state = "idle"
        lines.append(StoreLine(summary, run, state, orders.get(summary.store, {})))
    return lines
