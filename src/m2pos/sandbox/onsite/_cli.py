"""``m2pos sandbox onsite``: build the sandbox, say how to reach it, serve it (HTTPS with a generated
self-signed certificate, like a real OnSite server, or plain HTTP) until interrupted."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from m2pos.sandbox._serve import bind_socket, serve_forever
from m2pos.sandbox._tls import write_self_signed_certificate
from m2pos.sandbox.onsite._sandbox import OnSiteSandbox


def serve_onsite_main(
    host: str = "127.0.0.1",
    port: int = 9630,
    products: int = 50,
    seed: int = 1,
    http: bool = False,
    seats: int = 5,
    latency_ms: int = 0,
    db_path: Path | None = None,
) -> None:
    started = time.monotonic()
    sandbox = OnSiteSandbox(products=products, seed=seed, seats=seats, latency_ms=latency_ms, db_path=db_path)
    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    scheme = "http" if http else "https"
    base = f"{scheme}://{host}:{bound}"
    creds = sandbox.credentials
    counts = sandbox.control.info()["counts"]
    with tempfile.TemporaryDirectory(prefix="m2pos-onsite-tls-") as tmp:
        ssl: dict[str, str] = {}
        if not http:
            cert, key = write_self_signed_certificate(Path(tmp), (host,), "Lightspeed OnSite sandbox")
            ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        banner = [
            f"Lightspeed OnSite sandbox ready in {time.monotonic() - started:.1f}s"
            f" ({counts['products']} products, {counts['customers']} customers, seed {seed})",
            f"  Base URL:          {base}/api/",
            f"  User:              {creds.username} / {creds.password}",
            f"  App id:            {creds.app_id} (demo mode: any X-PAPPID is accepted)",
            f"  App private id:    {creds.app_private_id}",
            f"  Seats:             {sandbox.config.seats} sessions per user",
            f"  Control interface: {base}/_sandbox/",
        ]
        if not http:
            banner.append(
                "  TLS:               self-signed certificate (clients must set verify_tls = false)"
            )
        serve_forever(sandbox.app, sock, banner, uvicorn_options=ssl, close=sandbox.close)
