"""``m2pos sandbox magento``: build the sandbox, say how to reach it, serve it until interrupted."""

from __future__ import annotations

import time
from pathlib import Path

from m2pos.sandbox._serve import bind_socket, serve_forever
from m2pos.sandbox.magento._sandbox import MagentoSandbox


def serve_main(
    host: str = "127.0.0.1",
    port: int = 8081,
    orders: int = 100,
    seed: int = 1,
    latency_ms: int = 0,
    input_limits: bool = False,
    allow_integration_bearer: bool = False,
    db_path: Path | None = None,
) -> None:
    started = time.monotonic()
    sandbox = MagentoSandbox(
        orders=orders,
        seed=seed,
        latency_ms=latency_ms,
        input_limits=input_limits,
        allow_integration_bearer=allow_integration_bearer,
        db_path=db_path,
        always_date_header=True,  # the sandbox's (possibly skewed) clock owns the Date header
    )
    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    base = f"http://{host}:{bound}"
    creds = sandbox.credentials
    total = sandbox.order_count()
    serve_forever(
        sandbox.app,
        sock,
        [
            f"Magento 2 sandbox ready in {time.monotonic() - started:.1f}s"
            f" ({total} demo orders, seed {seed})",
            f"  Base URL:            {base}/rest/default/V1"
            f"   (store codes: {', '.join(sandbox.store_codes)})",
            f"  Consumer key:        {creds.consumer_key}",
            f"  Consumer secret:     {creds.consumer_secret}",
            f"  Access token:        {creds.access_token}",
            f"  Access token secret: {creds.access_token_secret}",
            f"  Admin user:          {creds.admin_username} / {creds.admin_password} (2FA on: use OAuth)",
            f"  Control interface:   {base}/_sandbox/",
            "Sign requests with OAuth 1.0a (HMAC-SHA256).",
        ],
        uvicorn_options={"date_header": False},
        close=sandbox.close,
    )
