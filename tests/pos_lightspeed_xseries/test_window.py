"""The client against the sandbox's request window over real HTTP: a burst larger than the window
draws no 429 and waits only for the window's end; a token refused is not retried."""

from __future__ import annotations

import asyncio
import time

import pytest

from m2pos.pos.lightspeed_xseries import LightspeedXSeries, xseries_settings
from m2pos.pos.port import PosError
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_xseries import XSeriesSandbox
from m2pos.settings import settings_from_dict


def _adapter(url: str, token: str, window: float, **options: object) -> LightspeedXSeries:
    pos = {
        "kind": "lightspeed_xseries",
        "base_url": f"{url}/api/",
        "token": token,
        "requests_per_second": 1000,
        "rate_limit_window_seconds": window,
        "lightspeed_xseries": options,
    }
    return LightspeedXSeries(xseries_settings(settings_from_dict({"pos": pos}).pos))


async def test_a_burst_beyond_the_window_draws_no_429() -> None:
    sandbox = XSeriesSandbox(products=2, limit=20, window_seconds=1.0)
    with serve_in_thread(sandbox.app) as url:
        adapter = _adapter(url, sandbox.token, 1.0)
        started = time.monotonic()
        await asyncio.gather(*(adapter.client.get("2.0/outlets") for _ in range(50)))
        elapsed = time.monotonic() - started
        await adapter.aclose()
    assert sandbox.window.refused == 0
    assert adapter.client.refused == 0
    assert elapsed < 4.5  # 50 requests at 20 per second-long window: two waits (plus the estimate's slack)


async def test_a_refused_token_is_not_retried_and_not_shown() -> None:
    sandbox = XSeriesSandbox(products=2)
    with serve_in_thread(sandbox.app) as url:
        adapter = _adapter(url, "wrong-token-123", 300.0)
        with pytest.raises(PosError) as raised:
            await adapter.client.get("2.0/outlets")
        await adapter.aclose()
    assert not raised.value.retryable
    assert "wrong-token-123" not in str(raised.value) and "wrong-token-123" not in repr(adapter.settings)
    assert sandbox.control.count("GET /api/2.0/outlets") == 1
