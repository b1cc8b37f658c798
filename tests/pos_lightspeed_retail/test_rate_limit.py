"""The leaky bucket: the client reads ``X-LS-API-Bucket-Level`` and waits for room itself, so a
burst never draws a 429 it could have avoided, and still goes as fast as the drip allows."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from m2pos.magento.models import Order
from m2pos.pos.lightspeed_retail import LightspeedRetail, retail_settings
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_retail import RetailSandbox
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.settings import settings_from_dict


def _adapter(sandbox: RetailSandbox, base: str, directory: Path) -> LightspeedRetail:
    oauth = sandbox.oauth
    pos = {
        "kind": "lightspeed_retail",
        "base_url": f"{base}/API/V3/",
        "token_url": f"{base}/auth/oauth/token",
        "account_id": sandbox.store.account_id,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "refresh_token": oauth.initial_refresh_token,
        "token_file": str(directory / "tokens.json"),
        "requests_per_second": 1000,
    }
    return LightspeedRetail(retail_settings(settings_from_dict({"pos": pos}).pos))


async def test_a_burst_of_orders_draws_no_429_and_goes_at_the_drip_rate(
    magento: MagentoSandbox, tmp_path: Path
) -> None:
    drip, size, count = 200.0, 90.0, 60
    sandbox = RetailSandbox(products=5, seed=1, bucket_size=size, drip_rate=drip)
    orders = [
        Order.model_validate(
            magento.control.place_order("simple", payment="captured", guest=False, customer_index=3)
        )
        for _ in range(count)
    ]
    with serve_in_thread(sandbox.app) as base:
        pos = _adapter(sandbox, base, tmp_path)
        await pos.check()
        started = time.monotonic()
        documents = await asyncio.gather(*(pos.create_document(o, o.increment_id or "") for o in orders))
        elapsed = time.monotonic() - started
        await pos.aclose()
    assert len({d.id for d in documents}) == count
    statuses = sandbox.control.statuses()
    assert not any("429" in per for per in statuses.values()), statuses
    assert sandbox.control.refused_by_bucket() == 0
    # 10 units per sale; what the bucket held beforehand is free, the rest drips.
    ideal = max(0.0, (count * 10 - size) / drip)
    assert elapsed < ideal * 1.5 + 0.5, (elapsed, ideal)
    assert elapsed > ideal * 0.7
