"""``m2pos stores`` on a deployment's PostgreSQL database: add, list, show, update, disable, enable
and remove, secrets never printed, bad store files refused naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from m2pos.cli import app

SECRET = "cs_never_printed_42"

STORE = f"""
[magento]
base_url = "https://shop-eu.example"
consumer_key = "ck_1"
consumer_secret = "{SECRET}"
access_token = "at_1"
access_token_secret = "ats_1"

[pos]
kind = "memory"

[orders]
mode = "wait_for_invoice"
"""


@pytest.fixture
def deployment(postgres_url: str, tmp_path: Path) -> Path:
    config = tmp_path / "m2pos.toml"
    key = tmp_path / "secret.key"
    config.write_text(f'[state]\ndatabase_url = "{postgres_url}"\nsecret_key_file = "{key}"\n')
    (tmp_path / "shop-eu.toml").write_text(STORE)
    return config


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--config", str(config), "stores", *args])
    assert SECRET not in result.output  # whatever the command, a secret is never printed
    return result.exit_code, result.output


def test_the_store_lifecycle(deployment: Path) -> None:
    store_file = str(deployment.parent / "shop-eu.toml")
    code, out = _run(deployment, "add", "shop-eu", "--file", store_file, "--name", "Shop EU", "--by", "alice")
    assert code == 0 and "store shop-eu added" in out, out
    code, out = _run(deployment, "list")
    assert code == 0 and "shop-eu" in out and "Shop EU" in out and "memory" in out and "idle" in out
    code, out = _run(deployment, "show", "shop-eu")
    assert code == 0 and "https://shop-eu.example" in out and "**********" in out
    assert "added by alice" in out
    (deployment.parent / "shop-eu.toml").write_text(STORE.replace("wait_for_invoice", "auto_invoice"))
    code, out = _run(deployment, "update", "shop-eu", "--file", store_file, "--by", "bob")
    assert code == 0 and "orders.mode changed" in out
    assert _run(deployment, "disable", "shop-eu")[0] == 0
    assert "disabled" in _run(deployment, "list")[1]
    assert _run(deployment, "enable", "shop-eu")[0] == 0
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--config", str(deployment), "status", "--all"])
    assert result.exit_code == 0 and "shop-eu" in result.output and "orders" in result.output
    assert "none" in result.output and SECRET not in result.output  # no orders carried yet
    code, out = _run(deployment, "remove", "shop-eu", "--yes")
    assert code == 0 and "ledger rows are kept" in out
    code, out = _run(deployment, "show", "shop-eu")
    assert code == 2 and "no store 'shop-eu'" in out


def test_a_bad_store_file_is_refused_naming_the_key(deployment: Path) -> None:
    bad = deployment.parent / "bad.toml"
    bad.write_text(STORE.replace('kind = "memory"', 'kind = "lightspeed_retail"'))
    code, out = _run(deployment, "add", "shop-us", "--file", str(bad))
    assert code == 2 and "store shop-us" in out and "pos.account_id" in out
    assert SECRET not in out
    code, out = _run(deployment, "add", "shop-us", "--file", str(deployment.parent / "missing.toml"))
    assert code == 2 and "no such file" in out
    assert "no stores yet" in _run(deployment, "list")[1]
