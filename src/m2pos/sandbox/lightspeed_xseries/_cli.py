"""``m2pos sandbox lightspeed-xseries``: build the sandbox, say how to reach it, serve it."""

from __future__ import annotations

from m2pos.sandbox._serve import bind_socket, serve_forever
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
    serve_forever(
        sandbox.app,
        sock,
        [
            f"Lightspeed X-Series sandbox ready ({info['counts']['products']} products, seed {seed})",
            f"  Base URL:          {base}/api/",
            f"  Token:             {sandbox.token} (Authorization: Bearer …)",
            f"  Register:          {info['registers'][0]['id']}",
            f"  Request window:    {sandbox.window.limit} requests per {window_seconds:g} s",
            f"  Control interface: {base}/_sandbox/info",
        ],
        close=sandbox.close,
    )
