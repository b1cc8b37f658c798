"""Distributed mode: Celery workers run store cycles, schedulers queue them (docs/deploy.md).

The cycle a worker runs is ``SyncEngine.run_cycle``, the one ``m2pos run`` runs; only who decides
*when* differs: the store's run state in PostgreSQL (``m2pos.ledger.runs``)."""

from m2pos.worker._celery import CYCLE_TASK, deployment, make_celery
from m2pos.worker._cycle import CycleOutcome, run_store_cycle
from m2pos.worker._deployment import Deployment
from m2pos.worker._scheduler import run_scheduler, schedule_once

__all__ = [
    "CYCLE_TASK",
    "CycleOutcome",
    "Deployment",
    "deployment",
    "make_celery",
    "run_scheduler",
    "run_store_cycle",
    "schedule_once",
]
