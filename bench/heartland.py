"""Orders per second into the Heartland sandbox and Heartland requests per order (sequential,
in-process over HTTP, 0 ms latency): open sales orders, and auto-invoiced ones. A mix of simple,
configurable and bundle orders from ten returning customers. ``python bench/heartland.py [N]``."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from m2pos.magento.models import Order
from m2pos.pos.heartland import Heartland, heartland_settings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.heartland import DEMO_TOKEN, HeartlandSandbox
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import settings_from_dict

KINDS = ("simple", "configurable", "bundle")


async def run(options: dict[str, Any], n: int) -> None:
    magento = MagentoSandbox(orders=0)
    sandbox = HeartlandSandbox(products=5, seed=1)
    orders = [
        Order.model_validate(
            magento.control.place_order(
                KINDS[i % 3], payment="captured", guest=False, customer_index=1 + 2 * (i % 10)
            )
        )
        for i in range(n)
    ]
    with serve_in_thread(sandbox.app) as url:
        pos_table = {
            "kind": "heartland",
            "base_url": f"{url}/api/",
            "api_token": DEMO_TOKEN,
            "requests_per_second": 100_000,
            "heartland": options,
        }
        pos = Heartland(heartland_settings(settings_from_dict({"pos": pos_table}).pos))
        await pos.check()  # helpers and reference data: once per process, not per order
        sandbox.counters.reset()
        started = time.perf_counter()
        for order in orders:
            await pos.create_document(order, order.increment_id or "")
        elapsed = time.perf_counter() - started
        snapshot = sandbox.counters.snapshot()
        await pos.aclose()
    lines = sum(len(o["lines"]) for o in sandbox.control.orders())
    print(
        f"{options or 'open sales orders'}: {n / elapsed:.0f} orders/s, "
        f"{snapshot['total'] / n:.2f} requests/order, {lines / n:.2f} lines/order"
    )
    for key, count in snapshot["counters"].items():
        print(f"  {count:5d}  {key}")
    magento.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    for options in ({}, {"auto_invoice": True}):
        asyncio.run(run(options, n))


if __name__ == "__main__":
    main()
