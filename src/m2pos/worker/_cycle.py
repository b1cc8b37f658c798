"""One cycle of one store, as a worker runs it: the very cycle ``m2pos run`` runs
(``SyncEngine.run_cycle``), inside the store's lease.

The lease is taken first (another cycle of the store running means "busy": the task tries again
later), renewed while the cycle runs, and released with the outcome and the next due time. A lease
lost meanwhile (this worker stalled past its expiry) stops the cycle: the items in hand finish,
nothing new starts; the exactly-once path (intents, lookups by reference) covers the overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import timedelta
from enum import StrEnum

from m2pos.engine.bootstrap import open_store
from m2pos.engine.cycle import SyncEngine
from m2pos.engine.ratelimit import RateLimiter
from m2pos.ledger import Ledger, utcnow
from m2pos.settings import SettingsError
from m2pos.worker._deployment import Deployment

log = logging.getLogger("m2pos.worker")


class CycleOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"  # the cycle ran and reported errors (they are in the store's ledger)
    BUSY = "busy"  # another cycle of the store holds the lease
    UNUSABLE = "unusable"  # the store's settings cannot be used
    SKIPPED = "skipped"  # the store was disabled or removed after the cycle was queued
    LOST_LEASE = "lost_lease"


async def run_store_cycle(deployment: Deployment, store: str, holder: str) -> CycleOutcome:
    runs, lease = deployment.runs, deployment.settings.worker.lease_seconds
    if store not in deployment.directory.ids(enabled_only=True):
        runs.drop_queue(store)
        return CycleOutcome.SKIPPED
    if not runs.take_lease(store, holder, lease):
        return CycleOutcome.BUSY
    outcome, interval = CycleOutcome.FAILED, 60.0
    counts: dict[str, dict[str, int]] | None = None
    try:
        try:
            settings = deployment.directory.settings(store)
        except SettingsError as error:
            log.error("store settings cannot be used", extra={"store": store, "error": str(error)})
            outcome = CycleOutcome.UNUSABLE
            return outcome
        interval = settings.orders.poll_interval_seconds
        stop = asyncio.Event()
        budgets = deployment.budgets()
        spent: dict[str, RateLimiter] = {}  # by system: what this cycle sent, for the metrics

        def limiters(system: str, rate: float) -> RateLimiter:
            limiter = budgets.limiter(store, system, rate) if budgets else RateLimiter(rate)
            spent[system] = limiter
            return limiter

        async with open_store(settings, ledger=Ledger(deployment.engine, store), limiters=limiters) as ctx:
            engine = SyncEngine(ctx, stop)
            keeper = asyncio.create_task(_keep_lease(deployment, store, holder, lease, stop))
            try:
                report = await engine.run_cycle()
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                if budgets is not None:
                    await budgets.aclose()
        if keeper.done() and not keeper.cancelled() and keeper.result() is False:
            outcome = CycleOutcome.LOST_LEASE
        else:
            outcome = CycleOutcome.OK if report.ok else CycleOutcome.FAILED
        if report.backlog:
            interval = 0.0  # due again at once, queued behind the stores already waiting
        counts = {
            "items": dict(Counter(result.outcome.value for result in report.results)),
            "requests": {system: limiter.acquired for system, limiter in spent.items()},
            "errors": {system: limiter.errors for system, limiter in spent.items()},
        }
        log.info("store cycle finished", extra={"store": store, "outcome": outcome.value})
        return outcome
    finally:
        runs.release(store, holder, outcome.value, utcnow() + timedelta(seconds=interval), counts=counts)


async def _keep_lease(
    deployment: Deployment, store: str, holder: str, lease: float, stop: asyncio.Event
) -> bool:
    """Renew the lease every third of its length; False (and ``stop`` set) once it is lost."""
    while True:
        await asyncio.sleep(lease / 3)
        if not await asyncio.to_thread(deployment.runs.renew, store, holder, lease):
            log.error("store lease lost; stopping its cycle", extra={"store": store, "holder": holder})
            stop.set()
            return False
