"""The settings file: defaults, environment overrides, and errors that name the key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from m2pos.settings import SettingsError, load_settings, secret_values

EXAMPLE = """
[magento]
base_url = "https://shop.example.com/"
store_code = "default"
consumer_key = "ck"
consumer_secret = "cs-secret"
access_token = "at"
access_token_secret = "ats-secret"

[orders]
download_orders = true
download_credit_memos = true
mode = "auto_invoice"
start_date = "2026-11-01T00:00:00Z"
poll_interval_seconds = 10

[pos]
kind = "memory"

[state]
database_url = "sqlite:///m2pos.db"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m2pos.toml"
    path.write_text(text)
    return path


def test_the_documented_example_loads(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, EXAMPLE), environ={})
    assert settings.magento.base_url == "https://shop.example.com"
    assert settings.orders.start_date == datetime(2026, 11, 1, tzinfo=UTC)
    assert settings.orders.mode == "auto_invoice"
    assert settings.magento.consumer_secret is not None
    assert "cs-secret" not in repr(settings)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    environ = {
        "M2POS_ORDERS__MODE": "wait_for_invoice",
        "M2POS_ORDERS__POLL_INTERVAL_SECONDS": "30",
        "M2POS_MAGENTO__STORE_IDS": "[1, 2]",
        "M2POS_MAGENTO__CONSUMER_KEY": "12345",  # numeric-looking secrets stay text
    }
    settings = load_settings(write(tmp_path, EXAMPLE), environ=environ)
    assert settings.orders.mode == "wait_for_invoice"
    assert settings.orders.poll_interval_seconds == 30
    assert settings.magento.store_ids == (1, 2)
    assert settings.magento.consumer_key is not None
    assert settings.magento.consumer_key.get_secret_value() == "12345"


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"orders\.download_order: unknown key"):
        load_settings(write(tmp_path, EXAMPLE.replace("download_orders", "download_order")), environ={})


def test_a_wrong_type_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"orders\.poll_interval_seconds"):
        load_settings(write(tmp_path, EXAMPLE.replace("= 10", '= "often"')), environ={})


def test_a_wrong_mode_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"orders\.mode.*auto_invoice.*wait_for_invoice.*got 'auto'"):
        load_settings(write(tmp_path, EXAMPLE.replace('"auto_invoice"', '"auto"')), environ={})


def test_contradictory_credentials_are_refused(tmp_path: Path) -> None:
    text = EXAMPLE.replace('store_code = "default"', 'store_code = "default"\nbearer_token = "tok"')
    with pytest.raises(SettingsError, match=r"magento: .*either the four OAuth 1.0a credentials"):
        load_settings(write(tmp_path, text), environ={})


def test_incomplete_oauth_credentials_name_what_is_missing(tmp_path: Path) -> None:
    text = EXAMPLE.replace('access_token_secret = "ats-secret"\n', "")
    with pytest.raises(SettingsError, match="missing: access_token_secret"):
        load_settings(write(tmp_path, text), environ={})


def test_unknown_pos_kind(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"pos\.kind: unknown POS 'square'"):
        load_settings(write(tmp_path, EXAMPLE.replace('kind = "memory"', 'kind = "square"')), environ={})


def test_a_missing_file_given_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such settings file"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[orders\nmode = 1"), environ={})


def test_secret_values_lists_every_secret(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, EXAMPLE), environ={"M2POS_POS__PASSWORD": "pos-pass"})
    secrets = secret_values(settings)
    assert {"cs-secret", "ats-secret", "pos-pass"} <= set(secrets)


def test_pos_secrets_never_show_in_the_settings_repr(tmp_path: Path) -> None:
    text = EXAMPLE.replace(
        'kind = "memory"', 'kind = "memory"\npassword = "pos-pass-123"\napp_private_id = "uuid-secret"'
    )
    settings = load_settings(write(tmp_path, text), environ={})
    shown = repr(settings)
    assert "pos-pass-123" not in shown
    assert "uuid-secret" not in shown
    assert "cs-secret" not in shown
