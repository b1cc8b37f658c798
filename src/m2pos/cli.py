"""The ``m2pos`` command line. Commands stay thin: they parse options and call the packages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="m2pos",
    help="Move Magento 2 web orders and credit memos into a point of sale, exactly once.",
    no_args_is_help=True,
    add_completion=False,
)
sandbox_app = typer.Typer(help="Run an emulator of a system m2pos talks to.", no_args_is_help=True)
check_app = typer.Typer(help="Test a connection and diagnose the known set-up traps.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(check_app, name="check")


@sandbox_app.command("magento")
def sandbox_magento(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8081,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    orders: Annotated[int, typer.Option(help="Number of demo orders to generate.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the demo data generator.")] = 1,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every Magento route.")] = 0,
    input_limits: Annotated[
        bool, typer.Option(help="Enforce Magento's web API input limits (pageSize ≤ 300, arrays ≤ 20).")
    ] = False,
    allow_integration_bearer: Annotated[
        bool, typer.Option(help="Accept integration access tokens as Bearer tokens (off since 2.4.4).")
    ] = False,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to keep the store in (default: in memory).")
    ] = None,
) -> None:
    """Run the Magento 2 REST sandbox with demo data, and print how to reach it."""
    from m2pos.sandbox.magento import serve_main

    serve_main(
        host=host,
        port=port,
        orders=orders,
        seed=seed,
        latency_ms=latency_ms,
        input_limits=input_limits,
        allow_integration_bearer=allow_integration_bearer,
        db_path=db,
    )


@check_app.command("magento")
def check_magento(
    base_url: Annotated[str, typer.Option(envvar="M2POS_MAGENTO__BASE_URL", help="Store URL.")],
    store_code: Annotated[str, typer.Option(envvar="M2POS_MAGENTO__STORE_CODE")] = "default",
    consumer_key: Annotated[str | None, typer.Option(envvar="M2POS_MAGENTO__CONSUMER_KEY")] = None,
    consumer_secret: Annotated[str | None, typer.Option(envvar="M2POS_MAGENTO__CONSUMER_SECRET")] = None,
    access_token: Annotated[str | None, typer.Option(envvar="M2POS_MAGENTO__ACCESS_TOKEN")] = None,
    access_token_secret: Annotated[
        str | None, typer.Option(envvar="M2POS_MAGENTO__ACCESS_TOKEN_SECRET")
    ] = None,
    bearer_token: Annotated[str | None, typer.Option(envvar="M2POS_MAGENTO__BEARER_TOKEN")] = None,
) -> None:
    """Connect to Magento 2 and report what works and what to change."""
    from m2pos.magento.check import run_check

    ok = asyncio.run(
        run_check(
            base_url=base_url,
            store_code=store_code,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            bearer_token=bearer_token,
        )
    )
    raise typer.Exit(0 if ok else 1)


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option(help="Port of the Magento sandbox.")] = 8081,
    orders: Annotated[int, typer.Option(help="Number of demo orders.")] = 200,
) -> None:
    """Start the Magento sandbox with demo data (the sync engine joins it in a later release)."""
    sandbox_magento(port=port, orders=orders)


if __name__ == "__main__":  # pragma: no cover
    app()
