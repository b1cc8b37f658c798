"""The sync loop (``m2pos run``, the demo): a cycle every poll interval until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from m2pos.engine.cycle import CycleReport, SyncEngine


async def run_loop(engine: SyncEngine, interval: float, on_report: Callable[[CycleReport], None]) -> None:
    """Start a cycle every ``interval`` seconds (at once if the last one took longer).

    A cycle in progress always finishes: ``engine.stop`` only keeps new items and cycles from
    starting, so the items in hand are recorded before the loop returns.
    """
    while not engine.stop.is_set():
        started = time.monotonic()
        on_report(await engine.run_cycle())
        remaining = interval - (time.monotonic() - started)
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(engine.stop.wait(), timeout=remaining)
