"""Heartland Retail as m2pos registers it (``m2pos.pos.registry``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from m2pos.pos.heartland._adapter import Heartland
from m2pos.pos.heartland._console import CONNECTION_SECTION, ORDER_SECTION
from m2pos.pos.heartland._settings import heartland_settings
from m2pos.pos.kind import DemoPos, PosKind, SandboxCommand


def sandbox(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 9640,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    products: Annotated[int, typer.Option(help="Generated items on top of the demo catalogue.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the demo data generator.")] = 1,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every API route.")] = 0,
    rate_limit: Annotated[int, typer.Option(help="API requests allowed per second (0: no limit).")] = 0,
) -> None:
    """Run the Heartland Retail sandbox (Bearer token, sales orders, inventory values) over HTTP."""
    from m2pos.sandbox.heartland import serve_heartland_main

    serve_heartland_main(
        host=host,
        port=port,
        products=products,
        seed=seed,
        latency_ms=latency_ms,
        rate_limit_per_second=rate_limit,
    )


def demo(stack: contextlib.ExitStack, workdir: Path) -> DemoPos:
    from m2pos.sandbox._serve import serve_in_thread
    from m2pos.sandbox.heartland import HeartlandSandbox, demo_pos_settings

    heartland = HeartlandSandbox(products=50, seed=1)
    url = stack.enter_context(serve_in_thread(heartland.app))
    return DemoPos(
        demo_pos_settings(heartland, url),
        f"Heartland Retail sandbox at {url}/api/ (sales orders, auto-invoiced)",
    )


KIND = PosKind(
    kind="heartland",
    title="Heartland Retail",
    open=Heartland.from_settings,
    check=heartland_settings,
    order_section=ORDER_SECTION,
    connection_section=CONNECTION_SECTION,
    sandbox=SandboxCommand("heartland", sandbox),
    demo=demo,
)
