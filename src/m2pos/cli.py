"""The ``m2pos`` command line. Commands stay thin: they parse options and call the packages."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from m2pos import cli_worker
from m2pos.cli_stores import stores_app
from m2pos.logs import LogFormat, configure_logging
from m2pos.pos import validate_pos_settings
from m2pos.settings import Settings, SettingsError, read_layers, secret_values
from m2pos.settings_store import load_effective_settings, reloader

if TYPE_CHECKING:
    from m2pos.engine import CycleReport

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
app.add_typer(stores_app, name="stores")
app.command("worker")(cli_worker.worker)
app.command("scheduler")(cli_worker.scheduler)
console = Console()
errors = Console(stderr=True)
_json_logs = False  # set from --log-format by _settings()


@dataclass
class CliOptions:
    config: Path | None
    log_format: LogFormat
    log_level: str


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="M2POS_CONFIG", help="Settings file (default: ./m2pos.toml)."),
    ] = None,
    log_format: Annotated[str, typer.Option(help="Log lines as text or json.")] = "text",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Global options; every command reads its settings from --config and M2POS_* variables."""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--log-format")
    ctx.obj = CliOptions(config, "json" if log_format == "json" else "text", log_level)


def _settings(ctx: typer.Context) -> Settings:
    options: CliOptions = ctx.obj or CliOptions(None, "text", "info")
    try:
        settings = load_effective_settings(options.config)
        validate_pos_settings(settings.pos, str(options.config or "m2pos.toml"))
    except SettingsError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    configure_logging(options.log_format, options.log_level, secret_values(settings))
    global _json_logs
    _json_logs = options.log_format == "json"
    return settings


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


def _register_pos_sandboxes() -> None:
    """``m2pos sandbox <name>`` for every POS that has a sandbox (``m2pos.pos.registry``)."""
    from m2pos.pos.registry import POS_KINDS

    for pos in POS_KINDS.values():
        if pos.sandbox is not None:
            sandbox_app.command(pos.sandbox.name)(pos.sandbox.run)


_register_pos_sandboxes()


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


def _demo_kinds() -> list[str]:
    from m2pos.pos.registry import POS_KINDS

    return [kind for kind, pos in POS_KINDS.items() if pos.demo is not None]


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option(help="Port of the Magento sandbox (0: any free port).")] = 8081,
    orders: Annotated[int, typer.Option(help="Demo orders generated in the sandbox.")] = 200,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    pos: Annotated[
        str,
        typer.Option(help=f"The embedded POS (its sandbox): {', '.join(_demo_kinds())}."),
    ] = "lightspeed_onsite",
    web_port: Annotated[int, typer.Option(help="Port of the web console (0: any free port).")] = 8080,
) -> None:
    """Everything on the embedded defaults: Magento and POS sandboxes (Lightspeed OnSite unless
    --pos says otherwise), SQLite ledger, the sync loop, the web console and live shop traffic,
    printing what moves."""
    from m2pos.demo import run_demo

    if pos not in _demo_kinds():
        raise typer.BadParameter(f"must be one of {', '.join(_demo_kinds())}", param_hint="--pos")
    configure_logging("text", "warning")
    asyncio.run(run_demo(port, orders, duration, pos_kind=pos, web_port=web_port))


# --- the sync ----------------------------------------------------------------------------------


def _say(text: str) -> None:
    """A line for the person watching: printed, or logged as JSON with --log-format json."""
    if _json_logs:
        logging.getLogger("m2pos").info(text)
    else:
        console.print(text, highlight=False)


def _print_report(report: CycleReport) -> None:
    from m2pos.engine import Outcome

    if _json_logs:
        # Machine-readable runs get the summary as one more JSON log line, not a table on stdout.
        logging.getLogger("m2pos.cycle").info(
            "cycle finished",
            extra={
                "ok": report.ok,
                **{o.value: report.count(o) for o in Outcome},
                "failures": [r.message for r in report.failed],
                "errors": report.errors,
            },
        )
        return

    took = (report.finished_at or report.started_at) - report.started_at
    counts = ", ".join(
        f"{report.count(o)} {o.value}"
        for o in (Outcome.TRANSFERRED, Outcome.SKIPPED, Outcome.WAITING, Outcome.FAILED)
    )
    colour = "green" if report.ok else "red"
    verdict = "ok" if report.ok else "with problems"
    console.print(f"[{colour}]cycle {verdict}[/{colour}] in {took.total_seconds():.1f}s: {counts}")
    for result in report.results:
        if result.outcome in (Outcome.TRANSFERRED, Outcome.FAILED):
            console.print(f"  {result.outcome.value:<11} {result.message}", highlight=False)
    for error in report.errors:
        console.print(f"  [red]error[/red] {error}", highlight=False)


async def _with_engine(
    settings: Settings, action: str, stop: asyncio.Event | None = None, **kwargs: object
) -> CycleReport:
    from m2pos.engine import SyncEngine
    from m2pos.engine.bootstrap import open_store

    async with open_store(settings) as store:
        engine = SyncEngine(store, stop)
        method = getattr(engine, action)
        report: CycleReport = await method(**kwargs)
        return report


@app.command("sync")
def sync(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one full cycle and exit.")] = False,
) -> None:
    """Run one full sync cycle (exit code 0 only when no item failed); without --once, keep running."""
    if not once:
        run(ctx)
        return
    settings = _settings(ctx)
    report = asyncio.run(_with_engine(settings, "run_cycle"))
    _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


@app.command("run")
def run(ctx: typer.Context) -> None:
    """Sync in a loop every orders.poll_interval_seconds; SIGTERM/SIGINT finish the items in hand."""
    settings = _settings(ctx)
    options: CliOptions = ctx.obj or CliOptions(None, "text", "info")
    asyncio.run(_run_loop(settings, options.config))


async def _run_loop(settings: Settings, config: Path | None) -> None:
    from m2pos.engine import SyncEngine
    from m2pos.engine.bootstrap import open_store
    from m2pos.engine.loop import run_loop

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    _say(f"m2pos running: Magento {settings.magento.base_url} → POS {settings.pos.kind}; Ctrl-C stops")
    async with open_store(settings) as store:
        reload = reloader(lambda: read_layers(config), store.ledger)
        await run_loop(SyncEngine(store, stop), settings.orders.poll_interval_seconds, _print_report, reload)
    _say("m2pos stopped")


@app.command("web")
def web(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: web.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: web.port).")] = None,
) -> None:
    """Serve the web console: settings, connections, status, orders and credit memos."""
    import uvicorn

    from m2pos.ledger import Ledger
    from m2pos.web import console_app, first_run_lines

    settings = _settings(ctx)
    options: CliOptions = ctx.obj or CliOptions(None, "text", "info")
    host = host or settings.web.host
    port = settings.web.port if port is None else port
    ledger = Ledger.open(settings.state.database_url)
    try:
        app_, console_, code = console_app(lambda: read_layers(options.config), ledger)
        for line in first_run_lines(console_, f"http://{host}:{port}", code):
            _say(line)
        uvicorn.run(app_, host=host, port=port, log_level="warning", proxy_headers=True)
    finally:
        ledger.close()


@app.command("backfill")
def backfill(
    ctx: typer.Context,
    since: Annotated[datetime, typer.Option(help="Bring in orders created on or after this date (UTC).")],
) -> None:
    """Judge every order created since DATE by the current settings and carry the eligible ones."""
    from rich.progress import Progress

    settings = _settings(ctx)
    since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    with Progress(console=console) as progress:
        task = progress.add_task("backfill", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = asyncio.run(_with_engine(settings, "backfill", since=since, progress=advance))
    _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


@app.command("retry")
def retry(
    ctx: typer.Context, number: Annotated[str, typer.Argument(help="Magento order or credit memo number.")]
) -> None:
    """Retry a failed order or credit memo now, whatever its retry schedule."""
    from m2pos.ledger import Ledger

    settings = _settings(ctx)
    ledger = Ledger.open(settings.state.database_url)
    try:
        orders = ledger.orders_by_number(number)
        memos = ledger.credit_memos_by_number(number)
    finally:
        ledger.close()
    if not orders and not memos:
        errors.print(f"No order or credit memo {number} in the ledger. `m2pos explain {number}` shows why.")
        raise typer.Exit(2)
    ok = True
    for row in orders:
        report = asyncio.run(_with_engine(settings, "retry_order", entity_id=row.magento_entity_id))
        _print_report(report)
        ok = ok and report.ok
    for memo in memos:
        report = asyncio.run(_with_engine(settings, "retry_credit_memo", entity_id=memo.magento_entity_id))
        _print_report(report)
        ok = ok and report.ok
    raise typer.Exit(0 if ok else 1)


@app.command("resend")
def resend(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Magento order number (increment_id).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Send one order to the POS again: looked up there first, never doubled, never invoiced twice."""
    from m2pos.engine.items import describe_resend
    from m2pos.ledger import Ledger

    settings = _settings(ctx)
    ledger = Ledger.open(settings.state.database_url)
    try:
        rows = ledger.orders_by_number(number)
    finally:
        ledger.close()
    if not rows:
        errors.print(f"No order {number} in the ledger. `m2pos explain {number}` shows why.")
        raise typer.Exit(2)
    ok = True
    for row in rows:
        plan = describe_resend(row, at_once=True)
        console.print(plan.text, highlight=False)
        if not plan.allowed:
            raise typer.Exit(1)
        if not yes and not typer.confirm("Resend it now?"):
            raise typer.Exit(1)
        report = asyncio.run(
            _with_engine(
                settings, "resend_order", entity_id=row.magento_entity_id, requested_by="command line"
            )
        )
        for result in report.results:
            console.print(result.message, highlight=False)
        for error in report.errors:
            errors.print(f"[red]{error}[/red]")
        ok = ok and report.ok
    raise typer.Exit(0 if ok else 1)


# --- what happened ------------------------------------------------------------------------------


@app.command("explain")
def explain(
    ctx: typer.Context, number: Annotated[str, typer.Argument(help="Magento order number (increment_id).")]
) -> None:
    """Every rule checked for one order, with the values seen, and its timeline."""
    from m2pos.engine.explain import explain_order

    settings = _settings(ctx)
    explanations = asyncio.run(explain_order(settings, number))
    if not explanations:
        errors.print(f"Magento has no order {number} (searched by increment_id).")
        raise typer.Exit(2)
    for item in explanations:
        verdict = item.verdict
        console.print(
            f"[bold]Order {number}[/bold] (entity_id {item.entity_id}, store view {item.store_id}): "
            f"[bold]{verdict.decision.value}[/bold] — {verdict.message}",
            highlight=False,
        )
        table = Table("rule", "passed", "value seen")
        for check in verdict.checks:
            table.add_row(check.rule, "yes" if check.passed else "[red]no[/red]", check.seen)
        console.print(table)
        if item.status:
            console.print(
                f"Ledger status: {item.status}"
                + (f" — last error: {item.last_error}" if item.last_error else "")
            )
        for event in item.timeline:
            console.print(f"  {event.at:%Y-%m-%d %H:%M:%S} {event.step:<22} {event.detail}", highlight=False)


@app.command("orders")
def orders(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="waiting, skipped, pending, transferred, failed or needs_attention."),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """Orders m2pos has seen, with where each stands and why."""
    from m2pos.ledger import Ledger, OrderStatus

    if status is not None and status not in OrderStatus.ALL:
        raise typer.BadParameter(f"must be one of {', '.join(OrderStatus.ALL)}", param_hint="--status")
    settings = _settings(ctx)
    ledger = Ledger.open(settings.state.database_url)
    try:
        rows = ledger.list_orders(status, limit)
    finally:
        ledger.close()
    table = Table("order", "created (UTC)", "Magento state", "status", "POS document", "invoice", "why")
    for row in rows:
        table.add_row(
            row.increment_id,
            f"{row.created_at:%Y-%m-%d %H:%M}" if row.created_at else "",
            row.magento_state or "",
            row.status,
            row.pos_document_id or "",
            str(row.invoice_id or ""),
            row.last_error
            if row.status in (OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION)
            else (row.message or ""),
        )
    console.print(table)


@app.command("status")
def status(
    ctx: typer.Context,
    all_stores: Annotated[
        bool, typer.Option("--all", help="Every store of the deployment (distributed mode).")
    ] = False,
) -> None:
    """Last successful cycle, cursors, counts by status, and warnings; --all: every store."""
    from m2pos.ledger import Ledger
    from m2pos.notify import store_warnings

    if all_stores:
        from m2pos.cli_stores import print_stores

        print_stores(ctx, with_counts=True)
        return
    settings = _settings(ctx)
    ledger = Ledger.open(settings.state.database_url)
    try:
        now = datetime.now(UTC)
        last_success = ledger.marker("last_success")
        last_cycle = ledger.marker("last_cycle")
        console.print(f"Magento: {settings.magento.base_url} (store code {settings.magento.store_code})")
        console.print(f"POS: {settings.pos.kind}; mode: {settings.orders.mode}")
        console.print(
            f"Last successful cycle: {last_success.at:%Y-%m-%d %H:%M:%S} UTC"
            if last_success
            else "Last successful cycle: never"
        )
        if last_cycle:
            console.print(f"Last cycle: {last_cycle.at:%Y-%m-%d %H:%M:%S} UTC ({last_cycle.detail})")
        for stream in ("orders", "credit_memos"):
            cursor = ledger.cursor(stream)
            console.print(
                f"Cursor {stream}: {cursor:%Y-%m-%d %H:%M:%S} UTC"
                if cursor
                else f"Cursor {stream}: not started"
            )
        counts = ledger.order_counts()
        memo_counts = ledger.credit_memo_counts()
        console.print("Orders: " + (", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none"))
        console.print(
            "Credit memos: " + (", ".join(f"{v} {k}" for k, v in sorted(memo_counts.items())) or "none")
        )
        for warning in store_warnings(ledger, settings.orders, now):
            console.print(f"[yellow]Warning:[/yellow] {warning}")
        open_intents = ledger.open_intents()
        if open_intents:
            console.print(
                f"{len(open_intents)} writes were interrupted and will be checked before being repeated."
            )
    finally:
        ledger.close()


if __name__ == "__main__":  # pragma: no cover
    app()
