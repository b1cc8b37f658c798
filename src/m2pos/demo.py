"""``m2pos demo``: the whole product on its embedded defaults, with live shop traffic.

The Magento sandbox (demo data) is served over HTTP on a thread and the chosen POS's sandbox on
another (each POS's ``PosKind.demo`` starts its own; by default Lightspeed OnSite over HTTPS,
downloading as Orders with reserved inventory and deposits). A SQLite ledger in a fresh temporary
folder records everything, and the sync loop runs as ``m2pos run`` would. A traffic task plays the
shop: customers order and pay, staff invoice check orders, refund and cancel, so that every rule
shows up in what moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from m2pos.engine import CycleReport, Outcome, SyncEngine
from m2pos.engine.bootstrap import open_store
from m2pos.engine.loop import run_loop
from m2pos.ledger import Ledger, OrderStatus
from m2pos.pos.registry import pos_kind as pos_kind_named
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import SettingsLayers
from m2pos.settings_store import reloader
from m2pos.web import console_app, first_run_lines

console = Console(highlight=False)

_KINDS = ("simple", "simple", "configurable", "bundle")
_PAYMENTS = ("authorised", "authorised", "checkmo", "free", "captured")


def demo_settings(
    base_url: str,
    sandbox: MagentoSandbox,
    workdir: Path,
    poll_seconds: float,
    pos: dict[str, object],
) -> SettingsLayers:
    """The demo's settings, as the one layer under what the console saves (no file, no environment)."""
    creds = sandbox.credentials
    data: dict[str, Any] = {
        "magento": {
            "base_url": base_url,
            "consumer_key": creds.consumer_key,
            "consumer_secret": creds.consumer_secret,
            "access_token": creds.access_token,
            "access_token_secret": creds.access_token_secret,
        },
        # The demo data spans the last days; take a week of it, as a backfill would.
        "orders": {
            "start_date": (datetime.now(UTC) - timedelta(days=7)).isoformat(),
            "poll_interval_seconds": poll_seconds,
        },
        "pos": pos,
        "state": {
            "database_url": f"sqlite:///{workdir / 'ledger.db'}",
            "secret_key_file": str(workdir / "secret.key"),
        },
    }
    layers = SettingsLayers(data, {}, "demo settings")
    layers.resolve()  # refuse bad settings here
    return layers


async def shop_traffic(sandbox: MagentoSandbox, ledger: Ledger, stop: asyncio.Event, seed: int = 7) -> None:
    """Customers and staff at work in Magento, a few actions a second."""
    rng = random.Random(seed)
    control = sandbox.control
    while not stop.is_set():
        action = rng.random()
        if action < 0.6:
            order = control.place_order(
                rng.choice(_KINDS), payment=rng.choice(_PAYMENTS), guest=rng.random() < 0.4
            )
            console.print(
                f"[dim]shop[/dim]  order {order['increment_id']} placed ({order['payment']['method']})"
            )
        elif action < 0.75:
            waiting = ledger.list_orders(OrderStatus.WAITING, limit=20)
            if waiting:
                row = rng.choice(waiting)
                with contextlib.suppress(Exception):
                    control.invoice(row.magento_entity_id)
                    console.print(f"[dim]shop[/dim]  staff invoiced order {row.increment_id}")
        elif action < 0.9:
            done = ledger.list_orders(OrderStatus.TRANSFERRED, limit=50)
            if done:
                row = rng.choice(done)
                with contextlib.suppress(Exception):
                    control.refund(row.magento_entity_id, return_to_stock=True)
                    console.print(f"[dim]shop[/dim]  order {row.increment_id} refunded")
        else:
            order = control.place_order("simple", payment="checkmo")
            control.cancel(order["entity_id"])
            console.print(f"[dim]shop[/dim]  order {order['increment_id']} placed and cancelled")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=rng.uniform(0.5, 1.5))


def print_cycle(report: CycleReport) -> None:
    moved = [r for r in report.results if r.outcome in (Outcome.TRANSFERRED, Outcome.FAILED)]
    for result in moved:
        colour = "green" if result.outcome == Outcome.TRANSFERRED else "red"
        console.print(f"[{colour}]m2pos[/{colour}] {result.message}")
    for error in report.errors:
        console.print(f"[red]m2pos[/red] {error}")
    quiet = sum(1 for r in report.results if r.outcome in (Outcome.SKIPPED, Outcome.WAITING))
    if quiet:
        console.print(
            f"[dim]m2pos {quiet} order(s) skipped or waiting (`m2pos explain <number>` says why)[/dim]"
        )


async def run_demo(
    port: int,
    orders: int,
    duration: float | None,
    poll_seconds: float = 2.0,
    pos_kind: str = "lightspeed_onsite",
    web_port: int = 8080,
) -> None:
    sandbox = MagentoSandbox(orders=orders, seed=1)
    workdir = Path(tempfile.mkdtemp(prefix="m2pos-demo-"))
    database_url = f"sqlite:///{workdir / 'ledger.db'}"
    with contextlib.ExitStack() as stack:
        base_url = stack.enter_context(serve_in_thread(sandbox.app, port=port))
        pos = pos_kind_named(pos_kind).demo
        if pos is None:
            raise ValueError(f"{pos_kind} has no demo sandbox")
        started = pos(stack, workdir)
        pos_settings, pos_line = started.settings, started.summary
        layers = demo_settings(base_url, sandbox, workdir, poll_seconds, pos_settings)
        settings = layers.resolve()
        rest = f"{base_url}/rest/default/V1"
        console.print(f"[bold]m2pos demo[/bold] — Magento sandbox with {orders} demo orders at {rest}")
        console.print(f"  POS: {pos_line}")
        console.print(f"  control interfaces {base_url}/_sandbox/ · ledger {workdir / 'ledger.db'}")
        console.print(f"  inspect with: M2POS_STATE__DATABASE_URL={database_url} m2pos orders")
        console.print("  Ctrl-C stops.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signame in ("SIGINT", "SIGTERM"):
            with contextlib.suppress(NotImplementedError, AttributeError):
                loop.add_signal_handler(getattr(signal, signame), stop.set)
        if duration is not None:
            loop.call_later(duration, stop.set)
        async with open_store(settings) as store:
            app, web_console, code = console_app(lambda: layers, store.ledger, environ={})
            web_url = stack.enter_context(serve_in_thread(app, port=web_port))
            for line in first_run_lines(web_console, web_url, code):
                console.print(f"  [bold]{line}[/bold]")
            console.print("")
            traffic = asyncio.create_task(shop_traffic(sandbox, store.ledger, stop))
            reload = reloader(lambda: layers, store.ledger)
            await run_loop(
                SyncEngine(store, stop), settings.orders.poll_interval_seconds, print_cycle, reload
            )
            await traffic
            counts = store.ledger.order_counts()
        console.print(f"\n[bold]demo stopped[/bold]; orders by status: {counts}")
