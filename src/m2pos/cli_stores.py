"""``m2pos stores``: the stores of a deployment (distributed mode), kept in its database.

Each store's settings come from a TOML file with the store's own sections (``[magento]``, ``[pos]``,
``[orders]``, …; see docs/deploy.md); ``--config`` (m2pos.toml) is the deployment's file, whose
``[state] database_url`` holds the directory."""

from __future__ import annotations

import getpass
import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from m2pos.ledger import create_ledger_engine, migrate
from m2pos.ledger.runs import StoreRuns, store_overview
from m2pos.ledger.stores import StoreDirectory
from m2pos.secretbox import SecretBox
from m2pos.settings import SettingsError, merge, read_layers

stores_app = typer.Typer(
    help="Add, list, show, disable and remove the stores of a deployment.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

StoreId = Annotated[str, typer.Argument(help="The store's id, e.g. shop-eu.")]
StoreFile = Annotated[
    Path,
    typer.Option("--file", "-f", help="TOML file with the store's [magento], [pos], [orders], … sections."),
]
By = Annotated[str, typer.Option(help="Who makes the change, for the store's change log.")]


def _who() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "m2pos stores"


@contextmanager
def _directory(ctx: typer.Context) -> Iterator[tuple[StoreDirectory, StoreRuns]]:
    config = getattr(ctx.obj, "config", None)
    try:
        layers = read_layers(config)
        settings = layers.resolve()
        engine = create_ledger_engine(settings.state.database_url)
        migrate(engine)
        box = SecretBox(Path(settings.state.secret_key_file))
        yield StoreDirectory(engine, box, merge(layers.file, layers.environment)), StoreRuns(engine)
    except SettingsError as error:
        errors.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML ({error})") from None


def _fail(error: SettingsError) -> typer.Exit:
    errors.print(f"[red]{error}[/red]", highlight=False)
    return typer.Exit(2)


@stores_app.command("add")
def add(
    ctx: typer.Context,
    store: StoreId,
    file: StoreFile,
    name: Annotated[str, typer.Option(help="A name for people (default: the id).")] = "",
    by: By = "",
) -> None:
    """Add a store; its settings are checked first, and nothing is saved if they cannot be used."""
    with _directory(ctx) as (directory, _runs):
        try:
            record = directory.add(store, _read(file), by or _who(), name=name)
        except SettingsError as error:
            raise _fail(error) from None
    console.print(
        f"store {record.store} added ({record.pos_kind}, {record.magento_url}); its first cycle is due now"
    )


@stores_app.command("update")
def update(ctx: typer.Context, store: StoreId, file: StoreFile, by: By = "") -> None:
    """Replace a store's settings with the file's; in force from its next cycle."""
    with _directory(ctx) as (directory, _runs):
        try:
            changed = directory.update(store, _read(file), by or _who())
        except SettingsError as error:
            raise _fail(error) from None
    console.print(f"store {store}: {', '.join(changed) if changed else 'nothing'} changed")


@stores_app.command("list")
def list_stores(ctx: typer.Context) -> None:
    """Every store with its POS, state and last cycle."""
    print_stores(ctx, with_counts=False)


def print_stores(ctx: typer.Context, *, with_counts: bool) -> None:
    """The stores' table (``stores list``; ``status --all`` adds their orders by status)."""
    with _directory(ctx) as (directory, _runs):
        lines = store_overview(directory.engine, with_orders=with_counts)
    columns = ["store", "name", "POS", "Magento", "state", "last cycle", "next due"]
    table = Table(*columns, *(["orders"] if with_counts else []))
    for line in lines:
        store = line.summary
        row = [store.store, store.name, store.pos_kind, store.magento_url, line.state, line.last_cycle]
        row += [line.next_due, *([line.orders_text] if with_counts else [])]
        table.add_row(*row)
    console.print(table if lines else "no stores yet: m2pos stores add <id> --file store.toml")


@stores_app.command("show")
def show(ctx: typer.Context, store: StoreId) -> None:
    """A store's settings (secrets masked), its run state and its recent changes."""
    with _directory(ctx) as (directory, runs):
        try:
            record = directory.get(store)
        except SettingsError as error:
            raise _fail(error) from None
        state, changes = runs.state(store), directory.changes(store)
    console.print(
        f"[bold]{record.store}[/bold] {record.name} ({'enabled' if record.enabled else 'disabled'})"
    )
    console.print_json(json.dumps(record.masked()))
    if state is not None:
        console.print(
            f"cycles {state.cycles}, last {state.last_outcome or '-'} at {state.last_finished_at or '-'}, "
            f"next due {state.next_due_at}, lease {state.lease_holder or 'free'}"
        )
    for change in changes:
        keys = f": {', '.join(change.keys)}" if change.keys else ""
        console.print(
            f"{change.at:%Y-%m-%d %H:%M:%S} {change.action} by {change.changed_by}{keys}", highlight=False
        )


@stores_app.command("disable")
def disable(ctx: typer.Context, store: StoreId, by: By = "") -> None:
    """Stop a store's cycles (a cycle running now finishes); its settings and ledger are kept."""
    _set_enabled(ctx, store, False, by)


@stores_app.command("enable")
def enable(ctx: typer.Context, store: StoreId, by: By = "") -> None:
    """Let a disabled store's cycles run again."""
    _set_enabled(ctx, store, True, by)


def _set_enabled(ctx: typer.Context, store: str, enabled: bool, by: str) -> None:
    with _directory(ctx) as (directory, _runs):
        try:
            directory.set_enabled(store, enabled, by or _who())
        except SettingsError as error:
            raise _fail(error) from None
    console.print(f"store {store} {'enabled' if enabled else 'disabled'}")


@stores_app.command("remove")
def remove(
    ctx: typer.Context,
    store: StoreId,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    by: By = "",
) -> None:
    """Remove a store from the deployment. What it transferred stays in the ledger, so adding it
    again later never sends an order twice."""
    if not yes and not typer.confirm(f"Remove store {store}? Its cycles stop; its ledger is kept."):
        raise typer.Exit(1)
    with _directory(ctx) as (directory, _runs):
        try:
            directory.remove(store, by or _who())
        except SettingsError as error:
            raise _fail(error) from None
    console.print(f"store {store} removed (its ledger rows are kept)")


__all__ = ["stores_app"]
