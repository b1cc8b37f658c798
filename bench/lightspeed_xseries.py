"""Lightspeed X-Series: a burst of orders against the 5-minute request window.

Issue "More POS targets", X-Series evidence: a burst of 500 orders never draws a 429 that the client
could have avoided, and still finishes as fast as the limit allows. The X-Series sandbox allows
X-Series' ``300 × registers + 50`` requests per window, but the window lasts ``--window`` seconds
instead of 300, so that the run takes a minute rather than half an hour; the figures scale by the
window.

N orders (simple, configurable, bundle baskets by ``--customers`` customers, some new to X-Series)
go through ``create_document`` all at once. Measured: the wall time, the requests the sandbox
counted, the time the limit allows — a full window for each window's worth of requests but the last
(the window opens with the first request after the last one closed) — and the 429s answered (there
must be none: the client paces itself from ``X-RateLimit-Remaining``). Correctness: every order is
in X-Series exactly once, with its payment. Anything off is printed on a line starting with "!".

    .venv/bin/python bench/lightspeed_xseries.py                 # as in BENCHMARKS.md
    .venv/bin/python bench/lightspeed_xseries.py --orders 100 --window 5
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time

from m2pos.magento.models import Order
from m2pos.pos.lightspeed_xseries import LightspeedXSeries, xseries_settings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_xseries import XSeriesSandbox, demo_pos_settings
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import settings_from_dict

KINDS = ("simple", "simple", "configurable", "bundle")
REAL_WINDOW = 300.0


def place(magento: MagentoSandbox, count: int, customers: int) -> list[Order]:
    out = []
    for n in range(count):
        raw = magento.control.place_order(
            KINDS[n % len(KINDS)], payment="captured", guest=False, customer_index=1 + n % customers
        )
        out.append(Order.model_validate(raw))
    return out


async def run(orders: int, window: float, registers: int, customers: int) -> int:
    magento = MagentoSandbox(orders=0)
    placed = place(magento, orders, customers)
    sandbox = XSeriesSandbox(products=50, seed=1, registers=registers, window_seconds=window)
    limit = sandbox.window.limit
    problems = 0
    with serve_in_thread(sandbox.app) as url:
        table = demo_pos_settings(sandbox, url)
        table.update(requests_per_second=100_000, rate_limit_window_seconds=window)
        pos = LightspeedXSeries(xseries_settings(settings_from_dict({"pos": table}).pos))
        await pos.check()
        # a fresh window for the burst, as for a store whose last requests were minutes ago
        await asyncio.sleep(window)
        sandbox.counters.reset()
        started = time.monotonic()
        results = await asyncio.gather(
            *(pos.create_document(o, o.increment_id or "") for o in placed), return_exceptions=True
        )
        elapsed = time.monotonic() - started
        waits, refused = pos.client.pacer.waits, pos.client.refused
        await pos.aclose()
    failed = [r for r in results if isinstance(r, BaseException)]
    snapshot = sandbox.counters.snapshot()
    requests = sum(count for key, count in snapshot["counters"].items() if "/api/" in key)
    windows = math.ceil(requests / limit)
    ideal = (windows - 1) * window
    sales = [s for s in sandbox.control.sales() if s["source"] == "Magento"]
    per_reference: dict[str, int] = {}
    for sale in sales:
        per_reference[sale["source_id"]] = per_reference.get(sale["source_id"], 0) + 1
    unpaid = [s["source_id"] for s in sales if not s["payments"]]
    print(
        f"orders {orders}, {limit} requests per {window:g} s window ({registers} register(s)),"
        f" customers {customers}"
    )
    print(f"  wall time            {elapsed:8.1f} s")
    efficiency = ideal / elapsed if elapsed else 1.0
    print(
        f"  the limit allows     {ideal:8.1f} s  ({requests} requests = {windows} windows;"
        f" efficiency {efficiency:.0%})"
    )
    real = (windows - 1) * REAL_WINDOW / 60
    print(f"  at X-Series' window  {real:8.1f} min  ({windows} x 5 min windows, the last one partly used)")
    print(f"  requests             {requests:8d}  ({requests / orders:.2f} per order)")
    print(f"  429 answers          {sandbox.window.refused:8d}  (the client saw {refused})")
    print(f"  window waits         {waits:8d}")
    if sandbox.window.refused:
        print("! the client drew 429s it could have avoided")
        problems += 1
    if failed:
        print(f"! {len(failed)} orders failed, e.g. {failed[0]}")
        problems += 1
    if len(per_reference) != orders - len(failed) or any(v != 1 for v in per_reference.values()):
        print("! not every order is in X-Series exactly once")
        problems += 1
    if unpaid:
        print(f"! sales without their payment: {unpaid[:5]}")
        problems += 1
    magento.close()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--window", type=float, default=10.0, help="window length in seconds (X-Series: 300)")
    parser.add_argument("--registers", type=int, default=1, help="the limit is 300 x registers + 50")
    parser.add_argument("--customers", type=int, default=60)
    args = parser.parse_args()
    raise SystemExit(1 if asyncio.run(run(args.orders, args.window, args.registers, args.customers)) else 0)


if __name__ == "__main__":
    main()
