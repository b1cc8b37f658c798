"""``m2pos sandbox lightspeed-retail``: build the sandbox, print how to reach it, serve it (plain HTTP)."""

from __future__ import annotations

import time

from m2pos.sandbox._serve import bind_socket, serve_forever
from m2pos.sandbox.lightspeed_retail._sandbox import RetailSandbox


def serve_retail_main(
    host: str = "127.0.0.1",
    port: int = 8690,
    products: int = 50,
    seed: int = 1,
    drip_rate: float = 1.0,
    bucket_size: float = 90.0,
    latency_ms: int = 0,
) -> None:
    started = time.monotonic()
    sandbox = RetailSandbox(
        products=products, seed=seed, drip_rate=drip_rate, bucket_size=bucket_size, latency_ms=latency_ms
    )
    sock = bind_socket(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    app = sandbox.oauth
    serve_forever(
        sandbox.app,
        sock,
        [
            f"Lightspeed Retail (R-Series) sandbox ready in {time.monotonic() - started:.1f}s"
            f" ({len(sandbox.store.items)} items, seed {seed})",
            f"  API base URL:      {base}/API/V3/",
            f"  Account id:        {sandbox.store.account_id}",
            f"  Token URL:         {base}/auth/oauth/token",
            f"  Client id:         {app.client_id}",
            f"  Client secret:     {app.client_secret}",
            f"  Refresh token:     {app.initial_refresh_token}"
            " (single use: m2pos keeps the rotated pair in pos.token_file)",
            f"  Rate limit:        bucket {bucket_size:g} units, drip {drip_rate:g}/s (GET 1, writes 10)",
            f"  Control interface: {base}/_sandbox/",
        ],
        close=sandbox.close,
    )
