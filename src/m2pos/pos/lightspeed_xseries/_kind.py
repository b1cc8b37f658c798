"""Lightspeed X-Series as m2pos registers it (``m2pos.pos.registry``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from m2pos.pos.kind import DemoPos, PosKind, SandboxCommand
from m2pos.pos.lightspeed_xseries._adapter import LightspeedXSeries
from m2pos.pos.lightspeed_xseries._console import CONNECTION_SECTION, ORDER_SECTION
from m2pos.pos.lightspeed_xseries._settings import xseries_settings


def sandbox(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 9650,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    products: Annotated[int, typer.Option(help="Generated products on top of the demo catalogue.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the demo data generator.")] = 1,
    registers: Annotated[int, typer.Option(help="Registers (the window is 300 x registers + 50).")] = 1,
    window_seconds: Annotated[float, typer.Option(help="Length of the request window.")] = 300.0,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every API route.")] = 0,
) -> None:
    """Run the Lightspeed X-Series sandbox (Bearer token, request window, sales) over HTTP."""
    from m2pos.sandbox.lightspeed_xseries import serve_xseries_main

    serve_xseries_main(
        host=host,
        port=port,
        products=products,
        seed=seed,
        registers=registers,
        window_seconds=window_seconds,
        latency_ms=latency_ms,
    )


def demo(stack: contextlib.ExitStack, workdir: Path) -> DemoPos:
    from m2pos.sandbox._serve import serve_in_thread
    from m2pos.sandbox.lightspeed_xseries import XSeriesSandbox, demo_pos_settings

    xseries = XSeriesSandbox(products=50, seed=1)
    url = stack.enter_context(serve_in_thread(xseries.app))
    return DemoPos(
        demo_pos_settings(xseries, url),
        f"Lightspeed X-Series sandbox at {url}/api/ (sales awaiting dispatch or pickup)",
    )


KIND = PosKind(
    kind="lightspeed_xseries",
    title="Lightspeed X-Series",
    open=LightspeedXSeries.from_settings,
    check=xseries_settings,
    order_section=ORDER_SECTION,
    connection_section=CONNECTION_SECTION,
    sandbox=SandboxCommand("lightspeed-xseries", sandbox),
    demo=demo,
)
