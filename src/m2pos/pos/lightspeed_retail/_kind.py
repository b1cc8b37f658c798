"""Lightspeed Retail (R-Series) as m2pos registers it (``m2pos.pos.registry``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from m2pos.pos.kind import DemoPos, PosKind, SandboxCommand
from m2pos.pos.lightspeed_retail._adapter import LightspeedRetail
from m2pos.pos.lightspeed_retail._console import CONNECTION_SECTION, ORDER_SECTION
from m2pos.pos.lightspeed_retail._settings import retail_settings


def sandbox(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8690,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    products: Annotated[int, typer.Option(help="Generated items on top of the demo catalogue.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the demo data generator.")] = 1,
    drip_rate: Annotated[float, typer.Option(help="Bucket units drained per second (R-Series: 1).")] = 1.0,
    bucket_size: Annotated[float, typer.Option(help="Bucket size in units (R-Series: 90).")] = 90.0,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every API route.")] = 0,
) -> None:
    """Run the Lightspeed Retail (R-Series) sandbox (OAuth with rotating tokens, leaky bucket)."""
    from m2pos.sandbox.lightspeed_retail import serve_retail_main

    serve_retail_main(
        host=host,
        port=port,
        products=products,
        seed=seed,
        drip_rate=drip_rate,
        bucket_size=bucket_size,
        latency_ms=latency_ms,
    )


def demo(stack: contextlib.ExitStack, workdir: Path) -> DemoPos:
    from m2pos.sandbox._serve import serve_in_thread
    from m2pos.sandbox.lightspeed_retail import RetailSandbox, demo_pos_settings

    retail = RetailSandbox(products=50, seed=1, drip_rate=10)  # 10x R-Series' drip: a brisk demo
    url = stack.enter_context(serve_in_thread(retail.app))
    return DemoPos(
        demo_pos_settings(retail, url, workdir),
        f"Lightspeed Retail (R-Series) sandbox at {url}/API/V3/ (Sales)",
    )


KIND = PosKind(
    kind="lightspeed_retail",
    title="Lightspeed Retail (R-Series)",
    open=LightspeedRetail.from_settings,
    check=retail_settings,
    order_section=ORDER_SECTION,
    connection_section=CONNECTION_SECTION,
    sandbox=SandboxCommand("lightspeed-retail", sandbox),
    demo=demo,
)
