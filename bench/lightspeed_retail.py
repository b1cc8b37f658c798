"""Lightspeed Retail (R-Series): a burst of orders against the leaky bucket.

Issue "More POS targets", R-Series evidence: a burst of 500 orders never draws a 429 that the client
could have avoided, and still finishes as fast as the limit allows. The R-Series sandbox runs with
R-Series' bucket size (90 units) and a drip ``--drip`` times R-Series' 1 unit/s, so that the run
takes a minute rather than an hour and a half; the figures scale by the drip.

N orders (simple, configurable, bundle baskets by ``--customers`` customers, some new to R-Series)
go through ``create_document`` all at once. Measured: the wall time, the bucket units the sandbox
charged (GET 1, write 10), the time the limit allows — ``(units − bucket size) / drip`` — and the
429s the sandbox answered (there must be none: every request was paced by the client). Correctness:
every order is in R-Series exactly once. Anything off is printed on a line starting with "!".

    .venv/bin/python bench/lightspeed_retail.py                  # as in BENCHMARKS.md
    .venv/bin/python bench/lightspeed_retail.py --orders 100 --drip 50
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from m2pos.magento.models import Order
from m2pos.pos.lightspeed_retail import LightspeedRetail, retail_settings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_retail import RetailSandbox, demo_pos_settings
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import settings_from_dict

KINDS = ("simple", "simple", "configurable", "bundle")


def place(magento: MagentoSandbox, count: int, customers: int) -> list[Order]:
    out = []
    for n in range(count):
        raw = magento.control.place_order(
            KINDS[n % len(KINDS)], payment="captured", guest=False, customer_index=1 + n % customers
        )
        out.append(Order.model_validate(raw))
    return out


async def run(orders: int, drip: float, size: float, customers: int) -> int:
    magento = MagentoSandbox(orders=0)
    placed = place(magento, orders, customers)
    sandbox = RetailSandbox(products=50, seed=1, bucket_size=size, drip_rate=drip)
    problems = 0
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(sandbox.app) as url:
        pos_table = demo_pos_settings(sandbox, url, Path(tmp))
        pos_table["requests_per_second"] = 100_000
        pos = LightspeedRetail(retail_settings(settings_from_dict({"pos": pos_table}).pos))
        await pos.check()
        sandbox.counters.reset()
        started = time.monotonic()
        results = await asyncio.gather(
            *(pos.create_document(o, o.increment_id or "") for o in placed), return_exceptions=True
        )
        elapsed = time.monotonic() - started
        waited = pos.client.gauge.waited
        await pos.aclose()
    failed = [r for r in results if isinstance(r, BaseException)]
    snapshot = sandbox.counters.snapshot()
    units = 0.0
    for key, count in snapshot["counters"].items():
        if "/API/" in key:
            units += count * (1.0 if key.startswith("GET ") else 10.0)
    too_many = sum(per.get("429", 0) for per in snapshot["statuses"].values())
    ideal = max(0.0, units - size) / drip
    sales = [s for s in sandbox.control.sales() if s["reference"]]
    per_reference: dict[str, int] = {}
    for sale in sales:
        per_reference[sale["reference"]] = per_reference.get(sale["reference"], 0) + 1
    print(
        f"orders {orders}, bucket {size:g} units, drip {drip:g}/s ({drip:g}x R-Series), customers {customers}"
    )
    print(f"  wall time            {elapsed:8.1f} s")
    efficiency = ideal / elapsed if elapsed else 1.0
    minutes = ideal * drip / 60
    print(f"  the limit allows     {ideal:8.1f} s  ({units:.0f} units charged; efficiency {efficiency:.0%})")
    print(f"  at R-Series' drip    {minutes:8.1f} min  ({orders / minutes:.1f} orders/min)")
    print(f"  requests             {snapshot['total']:8d}  ({snapshot['total'] / orders:.2f} per order)")
    print(f"  429 answers          {too_many:8d}  (bucket refusals {sandbox.control.refused_by_bucket()})")
    print(f"  client waited        {waited:8.1f} s  (summed over its waits for room)")
    if too_many or sandbox.control.refused_by_bucket():
        print("! the client drew 429s it could have avoided")
        problems += 1
    if failed:
        print(f"! {len(failed)} orders failed, e.g. {failed[0]}")
        problems += 1
    if len(per_reference) != orders - len(failed) or any(v != 1 for v in per_reference.values()):
        print("! not every order is in R-Series exactly once")
        problems += 1
    magento.close()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--drip", type=float, default=100.0, help="units per second (R-Series: 1)")
    parser.add_argument("--size", type=float, default=90.0, help="bucket size (R-Series: 90)")
    parser.add_argument("--customers", type=int, default=60)
    args = parser.parse_args()
    raise SystemExit(1 if asyncio.run(run(args.orders, args.drip, args.size, args.customers)) else 0)


if __name__ == "__main__":
    main()
