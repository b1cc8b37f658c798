"""``m2pos scheduler``: queue a cycle for every store that is due. Any number may run: a store is
queued by whoever marks it first (``StoreRuns.queue``), so it never waits in the queue twice."""

from __future__ import annotations

import logging
import threading

from celery import Celery

from m2pos.worker._celery import CYCLE_TASK
from m2pos.worker._deployment import Deployment

log = logging.getLogger("m2pos.scheduler")


def schedule_once(deployment: Deployment, app: Celery) -> list[str]:
    """Queue every due store this scheduler wins; the stores queued."""
    worker = deployment.settings.worker
    queued = []
    for store in deployment.runs.due(stale_after=worker.stale_queue_seconds):
        if deployment.runs.queue(store, stale_after=worker.stale_queue_seconds):
            try:
                app.send_task(CYCLE_TASK, args=[store])
            except Exception as error:  # noqa: BLE001 - the broker is down: queued again once stale
                log.error("could not queue a cycle", extra={"store": store, "error": str(error)})
                continue
            queued.append(store)
    return queued


def run_scheduler(deployment: Deployment, app: Celery, stop: threading.Event) -> None:
    tick = deployment.settings.worker.scheduler_tick_seconds
    while not stop.is_set():
        try:
            schedule_once(deployment, app)
        except Exception as error:  # noqa: BLE001 - the database is away: try at the next tick
            log.error("scheduling failed", extra={"error": str(error)})
        stop.wait(tick)
