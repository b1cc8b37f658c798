"""``m2pos sandbox magento``: build the sandbox, say how to reach it, serve it until interrupted."""

from __future__ import annotations

import time
from pathlib import Path

import uvicorn

from m2pos.sandbox._serve import bind_socket
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
    print(f"Magento 2 sandbox ready in {time.monotonic() - started:.1f}s ({total} demo orders, seed {seed})")
    print(f"  Base URL:            {base}/rest/default/V1   (store codes: {', '.join(sandbox.store_codes)})")
    print(f"  Consumer key:        {creds.consumer_key}")
    print(f"  Consumer secret:     {creds.consumer_secret}")
    print(f"  Access token:        {creds.access_token}")
    print(f"  Access token secret: {creds.access_token_secret}")
    print(f"  Admin user:          {creds.admin_username} / {creds.admin_password} (2FA on: use OAuth)")
    print(f"  Control interface:   {base}/_sandbox/")
    print("Sign requests with OAuth 1.0a (HMAC-SHA256). Press Ctrl+C to stop.", flush=True)
    config = uvicorn.Config(
        sandbox.app, log_level="warning", access_log=False, lifespan="off", date_header=False
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        sandbox.close()
