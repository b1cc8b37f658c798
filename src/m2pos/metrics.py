"""Prometheus metrics of a deployment, read from its database when scraped (``/metrics`` of
``m2pos web``): every worker writes its cycles' counts to the store's run state, so one scrape sees
them all, whichever worker ran what.

* ``m2pos_stores{state}``: stores enabled and disabled.
* ``m2pos_store_cycles_total{store}``; ``m2pos_store_running{store}``, ``m2pos_store_queued{store}``.
* ``m2pos_store_items_total{store,outcome}``: orders and credit memos handled, by outcome.
* ``m2pos_api_requests_total{store,system}``, ``m2pos_api_errors_total{store,system}``: requests to
  Magento and the POS, and those answered with an error or not answered.
* ``m2pos_store_lag_seconds{store}``: how long the oldest order that must be carried has waited
  (first seen, still pending or failed); 0 when nothing waits.
* ``m2pos_store_seconds_since_cycle{store}``: since the store's last cycle finished.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from m2pos.ledger import OrderRow, OrderStatus, utcnow
from m2pos.ledger.runs import StoreRuns
from m2pos.ledger.stores import StoreRow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Deployment(Collector):
    def __init__(self, engine: Engine, now: datetime) -> None:
        self._engine, self._now = engine, now

    def collect(self) -> Iterator[Metric]:
        now = self._now
        with self._engine.connect() as connection:
            rows = connection.execute(select(StoreRow.store, StoreRow.enabled)).all()
            enabled: dict[str, bool] = {store: on for store, on in rows}
            waiting = connection.execute(
                select(OrderRow.store, func.min(OrderRow.first_seen_at))
                .where(OrderRow.status.in_((OrderStatus.PENDING, OrderStatus.FAILED)))
                .group_by(OrderRow.store)
            ).all()
            oldest: dict[str, datetime] = {store: at for store, at in waiting}
        states = StoreRuns(self._engine).states()
        stores = GaugeMetricFamily("m2pos_stores", "Stores of the deployment", labels=["state"])
        stores.add_metric(["enabled"], sum(1 for on in enabled.values() if on))
        stores.add_metric(["disabled"], sum(1 for on in enabled.values() if not on))
        yield stores
        cycles = CounterMetricFamily("m2pos_store_cycles", "Cycles run", labels=["store"])
        running = GaugeMetricFamily("m2pos_store_running", "A cycle holds the lease", labels=["store"])
        queued = GaugeMetricFamily("m2pos_store_queued", "A cycle waits in the queue", labels=["store"])
        items = CounterMetricFamily("m2pos_store_items", "Items handled", labels=["store", "outcome"])
        requests = CounterMetricFamily("m2pos_api_requests", "API requests", labels=["store", "system"])
        errors = CounterMetricFamily("m2pos_api_errors", "API requests failed", labels=["store", "system"])
        lag = GaugeMetricFamily(
            "m2pos_store_lag_seconds", "Wait of the oldest order to carry", labels=["store"]
        )
        since = GaugeMetricFamily(
            "m2pos_store_seconds_since_cycle", "Since the last cycle finished", labels=["store"]
        )
        for store in sorted(enabled):
            state = states.get(store)
            if state is None:
                continue
            cycles.add_metric([store], state.cycles)
            running.add_metric([store], 1 if state.running(now) else 0)
            queued.add_metric([store], 1 if state.queued_at is not None else 0)
            totals = state.totals
            for outcome, n in sorted(totals.get("items", {}).items()):
                items.add_metric([store, outcome], n)
            for system, n in sorted(totals.get("requests", {}).items()):
                requests.add_metric([store, system], n)
            for system, n in sorted(totals.get("errors", {}).items()):
                errors.add_metric([store, system], n)
            first_seen = oldest.get(store)
            lag.add_metric([store], max(0.0, (now - first_seen).total_seconds()) if first_seen else 0.0)
            if state.last_finished_at is not None:
                since.add_metric([store], max(0.0, (now - state.last_finished_at).total_seconds()))
        yield from (cycles, running, queued, items, requests, errors, lag, since)


def render_metrics(engine: Engine, now: datetime | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Deployment(engine, now or utcnow()))
    return generate_latest(registry)
