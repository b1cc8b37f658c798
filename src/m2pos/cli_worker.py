"""``m2pos worker`` and ``m2pos scheduler``: distributed mode's two processes (docs/deploy.md).

Both read the deployment's file (``--config``): ``[state] database_url`` (PostgreSQL) and
``[worker] broker_url`` (Redis or RabbitMQ)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from m2pos.settings import SettingsError, read_layers

errors = Console(stderr=True)


def _config(ctx: typer.Context) -> Path | None:
    config: Path | None = getattr(ctx.obj, "config", None)
    if config is not None:
        os.environ["M2POS_CONFIG"] = str(config.resolve())  # the worker's processes open it again
    return config


def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option(help="Cycles run at once by this worker (processes).")] = 2,
) -> None:
    """Run a worker: it takes store cycles from the broker, one store per process at a time.
    SIGTERM lets the cycles in hand finish; a worker killed mid-cycle leaves them to another."""
    from m2pos.worker import make_celery

    try:
        settings = read_layers(_config(ctx)).resolve()
    except SettingsError as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(2) from None
    worker_settings = settings.worker
    app = make_celery(worker_settings.broker_url, worker_settings.lease_seconds, worker_settings.queue)
    name = f"--hostname=m2pos-{os.getpid()}@%h"
    queue = f"--queues={worker_settings.queue}"
    app.worker_main(["worker", f"--concurrency={concurrency}", "--loglevel=INFO", queue, name])


def scheduler(ctx: typer.Context) -> None:
    """Run a scheduler: it queues each store's cycle when due. Several may run (each store is
    queued by one of them); Ctrl-C or SIGTERM stops it."""
    from m2pos.worker import Deployment, make_celery, run_scheduler

    try:
        deployment = Deployment.open(_config(ctx))
    except SettingsError as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(2) from None
    worker_settings = deployment.settings.worker
    app = make_celery(worker_settings.broker_url, worker_settings.lease_seconds, worker_settings.queue)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        run_scheduler(deployment, app, stop)
    finally:
        deployment.close()
