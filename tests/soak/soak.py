"""One soak run into one POS: set up, run with faults and kills, settle, check, print."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.pos_suite.targets import TARGETS
from tests.soak.checks import Report, check
from tests.soak.processes import faults_fired
from tests.soak.run import Run, SoakShop, open_magento
from tests.soak.workload import plan_orders

# One variant per POS whose document takes stock (so that stock is checked too).
VARIANTS = {
    "lightspeed_onsite": "invoice",
    "lightspeed_retail": "sale",
    "lightspeed_xseries": "dispatch",
    "heartland": "auto_invoice",
}
# X-Series allows 350 requests per 5-minute window: 1,000 orders would spend an hour waiting for it.
# The soak keeps the limit and shortens the window (m2pos is told, as it reads the window's length
# from its settings), so that the window is still spent and waited for, in seconds.
SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {"lightspeed_xseries": {"window_seconds": 30.0}}


@dataclass
class Outcome:
    summary: str
    report: Report


def soak(directory: Path, kind: str, orders: int, seconds: float, seed: int) -> Outcome:
    """``orders`` orders into ``kind``'s sandbox within ``seconds`` of faults and kills; the shop
    switches to Wait for Invoice half-way."""
    module = TARGETS[kind]
    variant = VARIANTS[kind]
    rng = random.Random(seed)
    started = time.monotonic()
    with (
        open_magento(directory) as (store, magento, gate),
        module.start(directory, module.VARIANTS[variant], **SANDBOX_OPTIONS.get(kind, {})) as pos,
    ):
        settings = {**pos.pos_settings(), "timeout_seconds": 2}
        tables = {f"pos.{k}": settings.pop(k) for k, v in list(settings.items()) if isinstance(v, dict)}
        store.configure(pos=settings, **tables)
        shop = SoakShop(store, magento, pos, gate)
        initial: dict[str, Decimal] = {}
        for sku in magento.control.info()["skus"]:
            level = pos.available(sku)
            if level is not None:
                initial[sku] = level
        plan = plan_orders(rng, orders, switch_at=orders // 2)
        run = Run(shop, rng, plan, seed, switch_at=orders // 2)
        run.faulty_phase(seconds)
        faulty = time.monotonic() - started
        magento_faults, pos_faults = faults_fired(magento.control), faults_fired(pos.switches)
        quiet = run.quiet_phase()
        report = check(shop, plan, initial)
        requests = pos.switches.counters()["total"]
    counts = json.dumps(dict(sorted(report.counts.items())))
    summary = (
        f"soak into {kind} ({variant}), seed {seed}: {orders} orders in {time.monotonic() - started:.1f}s "
        f"({faulty:.1f}s with faults and kills, then {quiet} quiet cycles)\n"
        f"  with faults and kills: {run.with_faults}\n"
        f"  m2pos processes {run.started}, SIGKILLs {run.kills}, exits {dict(run.exits)}\n"
        f"  faults fired: Magento {dict(magento_faults)}; POS {dict(pos_faults)}; POS requests {requests}\n"
        f"  {counts}"
    )
    for problem in report.problems:
        summary += f"\n  VIOLATION {problem}"
    return Outcome(summary, report)
