"""Lightspeed OnSite as m2pos registers it (``m2pos.pos.registry``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from m2pos.pos.kind import DemoPos, PosKind, SandboxCommand
from m2pos.pos.lightspeed_onsite._adapter import LightspeedOnSite
from m2pos.pos.lightspeed_onsite._console import CONNECTION_SECTION, ORDER_SECTION
from m2pos.pos.lightspeed_onsite._settings import onsite_settings


def sandbox(
    port: Annotated[int, typer.Option(help="TCP port to listen on (OnSite's default is 9630).")] = 9630,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    http: Annotated[bool, typer.Option("--http", help="Serve plain HTTP instead of HTTPS.")] = False,
    products: Annotated[int, typer.Option(help="Generated products on top of the demo catalogue.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the demo data generator.")] = 1,
    seats: Annotated[int, typer.Option(help="Concurrent API sessions allowed per user.")] = 5,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every API route.")] = 0,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to keep the data in (default: in memory).")
    ] = None,
) -> None:
    """Run the Lightspeed OnSite sandbox (HTTPS, self-signed certificate) and print how to reach it."""
    from m2pos.sandbox.onsite import serve_onsite_main

    serve_onsite_main(
        host=host,
        port=port,
        products=products,
        seed=seed,
        http=http,
        seats=seats,
        latency_ms=latency_ms,
        db_path=db,
    )


def demo(stack: contextlib.ExitStack, workdir: Path) -> DemoPos:
    """Downloads as Orders with reserved inventory and deposits: the richest OnSite set-up."""
    from m2pos.sandbox._serve import serve_in_thread
    from m2pos.sandbox.onsite import OnSiteSandbox, demo_pos_settings

    onsite = OnSiteSandbox(products=50, seed=1)
    url = stack.enter_context(serve_in_thread(onsite.app, tls=True))
    return DemoPos(
        demo_pos_settings(url, workdir),
        f"Lightspeed OnSite sandbox at {url}/api/ (Orders, reserved, deposits)",
    )


KIND = PosKind(
    kind="lightspeed_onsite",
    title="Lightspeed OnSite",
    open=LightspeedOnSite.from_settings,
    check=onsite_settings,
    order_section=ORDER_SECTION,
    connection_section=CONNECTION_SECTION,
    sandbox=SandboxCommand("onsite", sandbox),
    demo=demo,
)
