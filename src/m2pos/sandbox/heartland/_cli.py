"""``m2pos sandbox heartland``: build the sandbox, say how to reach it, serve it until interrupted."""

from __future__ import annotations

import time

from m2pos.sandbox._serve import bind_socket, serve_forever
from m2pos.sandbox.heartland._sandbox import HeartlandSandbox


def serve_heartland_main(
    host: str = "127.0.0.1",
    port: int = 9640,
    products: int = 50,
    seed: int = 1,
    latency_ms: int = 0,
    rate_limit_per_second: int = 0,
) -> None:
    started = time.monotonic()
    sandbox = HeartlandSandbox(
        products=products, seed=seed, latency_ms=latency_ms, rate_limit_per_second=rate_limit_per_second
    )
    sock = bind_socket(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    b = sandbox.backend
    serve_forever(
        sandbox.app,
        sock,
        [
            f"Heartland Retail sandbox ready in {time.monotonic() - started:.1f}s"
            f" ({len(b.s.items)} items, {len(b.s.customers)} customers, seed {seed})",
            f"  Base URL:          {base}/api/",
            f"  API token:         {sandbox.token} (Authorization: Bearer <token>)",
            "  Order source:      location 1 (Online); shipping method 1; payment type 4 (Magento)",
            f"  Control interface: {base}/_sandbox/ (faults, counters, stock)",
        ],
        close=sandbox.close,
    )
