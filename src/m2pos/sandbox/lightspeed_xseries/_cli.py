"""``m2pos sandbox lightspeed-xseries``: build the sandbox, say how to reach it, serve it."""

from __future__ import annotations

import uvicorn

from m2pos.sandbox._serve import bind_socket
from m2pos.sandbox.lightspeed_xseries._sandbox import XSeriesSandbox


def serve_xseries_main(
    host: str = "127.0.0.1",
    port: int = 9650,
    products: int = 50,
    seed: int = 1,
    registers: int = 1,
    window_seconds: float = 300.0,
    latency_ms: int = 0,
) -> None:
    sandbox = XSeriesSandbox(
        products=products,
        seed=seed,
        registers=registers,
        window_seconds=window_seconds,
        latency_ms=latency_ms,
    )
    sock = bind_socket(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    info = sandbox.control.info()
    print(f"Lightspeed X-Series sandbox ready ({info['counts']['products']} products, seed {seed})")
    print(f"  Base URL:          {base}/api/")
    print(f"  Token:             {sandbox.token} (Authorization: Bearer …)")
    print(f"  Register:          {info['registers'][0]['id']}")
    print(f"  Request window:    {sandbox.window.limit} requests per {window_seconds:g} s")
    print(f"  Control interface: {base}/_sandbox/info")
    print("Press Ctrl+C to stop.", flush=True)
    config = uvicorn.Config(sandbox.app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
