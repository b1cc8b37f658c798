"""The smaller commands: ``status``, ``orders --status``, ``explain`` and ``retry`` of unknown numbers,
settings errors, and ``--help`` on every command."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
import typer
from typer.testing import CliRunner

from m2pos.cli import app
from tests.engine.conftest import Store

BAD_SKU = "24-MB01"


def _lines_with(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def test_status_before_and_after_a_cycle(store: Store) -> None:
    before = store.cli("status")
    assert before.exit_code == 0, before.output
    assert "Last successful cycle: never" in before.output
    assert "Cursor orders: not started" in before.output
    assert "Orders: none" in before.output

    control = store.sandbox.control
    control.place_order("simple", payment="authorised")
    control.place_order("simple", payment="authorised")
    control.place_order("simple", payment="checkmo")  # waits for payment
    paid = control.place_order("simple", payment="authorised")
    assert store.cli("sync", "--once").exit_code == 0
    control.refund(paid["entity_id"])
    assert store.cli("sync", "--once").exit_code == 0

    after = store.cli("status")
    assert after.exit_code == 0, after.output
    assert "Last successful cycle: never" not in after.output
    assert "Last cycle:" in after.output and "(ok)" in after.output
    assert "Cursor orders: not started" not in after.output
    assert "Orders: 3 transferred, 1 waiting" in after.output
    assert "Credit memos: 1 transferred" in after.output
    assert "POS: memory; mode: auto_invoice" in after.output
    assert "interrupted" not in after.output


def test_status_shows_a_failed_last_cycle(store: Store) -> None:
    store.configure(pos={"reject_skus": [BAD_SKU]})
    store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": BAD_SKU, "qty": 1}])
    assert store.cli("sync", "--once").exit_code == 1
    output = store.cli("status").output
    assert "Last successful cycle: never" in output
    assert "(failed)" in output
    assert "1 needs_attention" in output


def test_orders_filtered_by_status(store: Store) -> None:
    control = store.sandbox.control
    store.configure(pos={"reject_skus": [BAD_SKU]})
    moved = control.place_order("simple", payment="authorised", items=[{"sku": "24-UG06", "qty": 1}])
    waiting = control.place_order("simple", payment="checkmo")
    skipped = control.place_order("simple", payment="captured")
    refused = control.place_order("simple", payment="authorised", items=[{"sku": BAD_SKU, "qty": 1}])
    store.cli("sync", "--once")
    numbers = {
        "transferred": moved["increment_id"],
        "waiting": waiting["increment_id"],
        "skipped": skipped["increment_id"],
        "needs_attention": refused["increment_id"],
    }
    for status, number in numbers.items():
        result = store.cli("orders", "--status", status)
        assert result.exit_code == 0, result.output
        assert _lines_with(result.output, number), f"{number} not listed as {status}:\n{result.output}"
        for other in set(numbers.values()) - {number}:
            assert not _lines_with(result.output, other), f"{other} listed as {status}"
    assert BAD_SKU in store.cli("orders", "--status", "needs_attention").output
    listed = store.cli("orders").output
    assert all(_lines_with(listed, n) for n in numbers.values())
    assert store.cli("orders", "--status", "failed").exit_code == 0


def test_orders_refuses_an_unknown_status(store: Store) -> None:
    result = store.cli("orders", "--status", "lost")
    assert result.exit_code == 2
    assert "needs_attention" in result.output  # the valid values are listed


def test_explain_an_unknown_number(store: Store) -> None:
    result = store.cli("explain", "999000999")
    assert result.exit_code == 2
    assert "Magento has no order 999000999" in result.output


def test_retry_an_unknown_number(store: Store) -> None:
    result = store.cli("retry", "999000999")
    assert result.exit_code == 2
    assert "No order or credit memo 999000999 in the ledger" in result.output
    assert "m2pos explain 999000999" in result.output


@pytest.mark.parametrize(
    ("section", "values", "named"),
    [
        ("orders", {"colour": "blue"}, "orders.colour: unknown key"),
        ("orders", {"concurrency": "many"}, "orders.concurrency"),
        ("orders", {"mode": "invoice_whenever"}, "orders.mode"),
        ("magento", {"base_url": "shop.example.com"}, "magento.base_url"),
        ("notifications", {"enabled": True, "recipients": []}, "notifications"),
        ("orders", {"retry_base_seconds": 60, "retry_max_seconds": 10}, "retry_max_seconds"),
    ],
)
def test_settings_errors_exit_2_naming_the_key(
    store: Store, section: str, values: dict[str, object], named: str
) -> None:
    store.configure(**{section: values})
    for command in (["sync", "--once"], ["status"], ["orders"]):
        result = store.cli(*command)
        assert result.exit_code == 2, result.output
        assert named in result.output, result.output


def test_a_settings_error_from_the_environment_names_the_key(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2POS_ORDERS__POLL_INTERVAL_SECONDS", "0")
    result = store.cli("status")
    assert result.exit_code == 2
    assert "orders.poll_interval_seconds" in result.output


def test_a_missing_settings_file(store: Store) -> None:
    store.config_path.unlink()
    result = store.cli("status")
    assert result.exit_code == 2
    assert "no such settings file" in result.output


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = sorted(_commands(typer.main.get_command(app)))  # type: ignore[arg-type]


def test_the_expected_commands_exist() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"sync", "run", "explain", "orders", "retry", "backfill", "status"} <= names


@pytest.mark.parametrize("command", [(), *COMMANDS], ids=lambda c: " ".join(c) or "m2pos")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert f"m2pos {' '.join(command)}".strip() in result.output
