"""Serve an ASGI app over real HTTP(S) on a background thread (tests, demo, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import uvicorn


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 lets the OS pick a free one.

    The protocol must be named: asyncio sets TCP_NODELAY only on accepted sockets whose ``proto``
    is IPPROTO_TCP, and without it every response waits ~40 ms (Nagle against delayed ACKs).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


@contextmanager
def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl_certfile: Path | str | None = None,
    ssl_keyfile: Path | str | None = None,
    tls: bool = False,
) -> Iterator[str]:
    """Run ``app`` with uvicorn until the block exits; yields its base URL (``http://host:port``).

    With ``ssl_certfile``/``ssl_keyfile`` it serves HTTPS and yields ``https://host:port``;
    ``tls=True`` alone does the same with a self-signed certificate made for the block (clients
    must not verify it, as with a real Lightspeed OnSite server).
    """
    with ExitStack() as stack:
        if tls and ssl_certfile is None:
            from m2pos.sandbox._tls import temporary_certificate

            ssl_certfile, ssl_keyfile = stack.enter_context(temporary_certificate((host,)))
        yield stack.enter_context(_serve(app, host, port, ssl_certfile, ssl_keyfile))


@contextmanager
def _serve(
    app: Any, host: str, port: int, ssl_certfile: Path | str | None, ssl_keyfile: Path | str | None
) -> Iterator[str]:
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    tls = ssl_certfile is not None
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=str(ssl_certfile) if ssl_certfile is not None else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile is not None else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if tls else 'http'}://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve_forever(
    app: Any,
    sock: socket.socket,
    banner: list[str],
    *,
    uvicorn_options: dict[str, Any] | None = None,
    close: Any = None,
) -> None:
    """``m2pos sandbox …``: print how to reach the sandbox, then serve on ``sock`` until Ctrl-C.

    ``close`` (the sandbox's own ``close``) runs once serving stops."""
    for line in banner:
        print(line)
    print("Press Ctrl+C to stop.", flush=True)
    options = {"log_level": "warning", "access_log": False, "lifespan": "off", **(uvicorn_options or {})}
    try:
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
    finally:
        sock.close()
        if close is not None:
            close()
