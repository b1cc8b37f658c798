"""The sync loop (``m2pos run``, the demo): a cycle every poll interval until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from m2pos.engine.bootstrap import apply_settings
from m2pos.engine.cycle import CycleReport, SyncEngine
from m2pos.logs import mask_more_secrets
from m2pos.pos import validate_pos_settings
from m2pos.settings import Settings, SettingsError, secret_values

log = logging.getLogger("m2pos.engine")


async def run_loop(
    engine: SyncEngine,
    interval: float,
    on_report: Callable[[CycleReport], None],
    reload: Callable[[], Settings] | None = None,
) -> None:
    """Start a cycle every ``interval`` seconds (at once if the last one took longer).

    ``reload`` reads the settings again before each cycle (the file, and what the web console
    saved), so that a change takes effect at the next cycle; the poll interval follows it.
    A cycle in progress always finishes: ``engine.stop`` only keeps new items and cycles from
    starting, so the items in hand are recorded before the loop returns.
    """
    while not engine.stop.is_set():
        started = time.monotonic()
        if reload is not None:
            interval = await _take_new_settings(engine, reload, interval)
        report = await engine.run_cycle()
        on_report(report)
        remaining = interval - (time.monotonic() - started)
        if remaining > 0 and not report.backlog:  # a backlog's next slice starts at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(engine.stop.wait(), timeout=remaining)


async def _take_new_settings(engine: SyncEngine, reload: Callable[[], Settings], interval: float) -> float:
    try:
        settings = reload()
        validate_pos_settings(settings.pos)
    except SettingsError as error:
        # Saving validates, so this is a file edited by hand (or a lost key): keep what works.
        log.error("the settings cannot be used; the previous ones stay in force", extra={"error": str(error)})
        return interval
    if await apply_settings(engine.ctx, settings):
        mask_more_secrets(secret_values(settings))
        log.info("settings changed; in force from this cycle")
    return settings.orders.poll_interval_seconds
