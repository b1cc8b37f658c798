"""The Celery application: one task, ``m2pos.cycle(store)``, acknowledged late (a worker that dies
mid-cycle leaves the message to another) and safe to run again (the store's lease, and the ledger's
exactly-once path, make a second delivery harmless)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from celery import Celery, Task

from m2pos.worker._cycle import CycleOutcome, run_store_cycle
from m2pos.worker._deployment import Deployment

CYCLE_TASK = "m2pos.cycle"
_deployment: Deployment | None = None


def deployment() -> Deployment:
    """This process's deployment, opened at first use (after Celery forked the worker process)."""
    global _deployment
    if _deployment is None:
        config = os.environ.get("M2POS_CONFIG")
        _deployment = Deployment.open(Path(config) if config else None)
    return _deployment


def make_celery(broker_url: str, lease_seconds: float = 120.0, queue: str = "m2pos") -> Celery:
    app = Celery("m2pos", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,  # a killed worker's message goes back to the queue
        worker_prefetch_multiplier=1,  # a worker holds only the cycle it runs: fair between stores
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Redis re-delivers an unacknowledged message after this long; a cycle still running then
        # holds its lease, so the second delivery finds the store busy and waits.
        broker_transport_options={"visibility_timeout": max(60.0, 3 * lease_seconds)},
        task_default_queue=queue,
    )

    @app.task(name=CYCLE_TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
    def cycle(self: Task, store: str) -> str:
        here = deployment()
        holder = f"{socket.gethostname()}:{os.getpid()}:{self.request.id}"
        outcome = asyncio.run(run_store_cycle(here, store, holder))
        if outcome == CycleOutcome.BUSY:
            raise self.retry(countdown=here.settings.worker.busy_retry_seconds)
        return outcome.value

    return app
