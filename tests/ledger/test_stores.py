"""The store directory on SQLite and PostgreSQL: a store's settings are validated before anything is
saved, secrets are encrypted at rest and masked for people, every change is logged with who made
it, the download rules go to the store's own settings history, and removing a store keeps its
ledger rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from m2pos.ledger import Ledger, create_ledger_engine, migrate
from m2pos.ledger.stores import MASK, StoreDirectory, StoreNotFound
from m2pos.secretbox import SecretBox
from m2pos.settings import SettingsError

SECRET = "cs_7a1f-secret-value"


def _data(**pos: Any) -> dict[str, Any]:
    return {
        "magento": {
            "base_url": "https://shop-eu.example",
            "consumer_key": "ck_visible_only_encrypted",
            "consumer_secret": SECRET,
            "access_token": "at_1",
            "access_token_secret": "ats_1",
        },
        "pos": {"kind": "memory", **pos},
        "orders": {"mode": "wait_for_invoice"},
    }


@pytest.fixture
def directory(database_url: str, tmp_path: Path) -> StoreDirectory:
    engine = create_ledger_engine(database_url)
    migrate(engine)
    box = SecretBox(tmp_path / "key", environ={})
    base = {
        "state": {"database_url": database_url},
        "orders": {"mode": "auto_invoice", "poll_interval_seconds": 7},  # every store's defaults
        "pos": {"kind": "lightspeed_onsite"},  # a connection: never a store's default
    }
    return StoreDirectory(engine, box, base=base)


def test_a_store_is_added_with_its_secrets_encrypted_and_masked(directory: StoreDirectory) -> None:
    record = directory.add("shop-eu", _data(), "ops@agency", name="Shop EU")
    assert record.name == "Shop EU" and record.enabled and record.pos_kind == "memory"
    assert directory.get("shop-eu").data["magento"]["consumer_secret"] == SECRET
    with directory.engine.connect() as connection:
        raw = connection.execute(text("SELECT settings_json FROM stores")).scalar_one()
    assert SECRET not in raw and "ck_visible_only_encrypted" not in raw
    assert json.loads(raw)["magento.base_url"] == "https://shop-eu.example"  # not a secret: readable
    masked = record.masked()
    assert masked["magento"]["consumer_secret"] == MASK and masked["magento"]["consumer_key"] == MASK
    assert SECRET not in repr(masked)
    settings = directory.settings("shop-eu")
    assert settings.orders.mode == "wait_for_invoice"  # the store's section wins over the file
    assert settings.orders.poll_interval_seconds == 7  # the file's default where the store is silent
    assert settings.pos.kind == "memory"
    assert settings.magento.consumer_secret is not None
    assert settings.magento.consumer_secret.get_secret_value() == SECRET


def test_the_download_rules_go_to_the_store_own_history(directory: StoreDirectory) -> None:
    directory.add("shop-eu", _data(), "ops@agency")
    directory.add("shop-us", {**_data(), "orders": {"mode": "auto_invoice"}}, "ops@agency")
    eu, us = Ledger(directory.engine, "shop-eu"), Ledger(directory.engine, "shop-us")
    (eu_rules,) = eu.settings_history()
    (us_rules,) = us.settings_history()
    assert eu_rules.settings.mode == "wait_for_invoice" and us_rules.settings.mode == "auto_invoice"
    with directory.engine.connect() as connection:
        who = connection.execute(text("SELECT store, changed_by FROM settings_history ORDER BY store")).all()
    assert [tuple(row) for row in who] == [("shop-eu", "ops@agency"), ("shop-us", "ops@agency")]


def test_bad_settings_name_the_store_and_the_key_and_save_nothing(directory: StoreDirectory) -> None:
    with pytest.raises(SettingsError) as raised:
        directory.add("shop-eu", {**_data(), "orders": {"mode": "sometimes"}}, "ops")
    assert "store shop-eu" in str(raised.value) and "orders.mode" in str(raised.value)
    with pytest.raises(SettingsError) as foreign:
        directory.add("shop-eu", {**_data(), "state": {"database_url": "sqlite:///x.db"}}, "ops")
    assert "[state]" in str(foreign.value) and "deployment" in str(foreign.value)
    with pytest.raises(SettingsError) as bad_id:
        directory.add("Shop EU!", _data(), "ops")
    assert "store id" in str(bad_id.value)
    assert directory.all() == []


def test_changes_are_logged_with_who_and_what(directory: StoreDirectory) -> None:
    directory.add("shop-eu", _data(), "alice")
    changed = directory.update("shop-eu", {**_data(), "orders": {"mode": "auto_invoice"}}, "bob")
    assert changed == ["orders.mode"]
    directory.set_enabled("shop-eu", False, "carol")
    assert not directory.get("shop-eu").enabled and directory.ids() == []
    actions = [(c.action, c.changed_by, c.keys) for c in directory.changes("shop-eu")]
    assert actions[0] == ("disabled", "carol", [])
    assert actions[1] == ("updated", "bob", ["orders.mode"])
    assert actions[2][0:2] == ("added", "alice")
    with pytest.raises(SettingsError):
        directory.add("shop-eu", _data(), "alice")  # exists already


def test_removing_a_store_keeps_its_ledger(directory: StoreDirectory) -> None:
    directory.add("shop-eu", _data(), "ops")
    directory.remove("shop-eu", "ops")
    with pytest.raises(StoreNotFound) as raised:
        directory.get("shop-eu")
    assert "m2pos stores list" in str(raised.value)
    assert Ledger(directory.engine, "shop-eu").settings_history()  # the history is still there
    assert [c.action for c in directory.changes("shop-eu")][:1] == ["removed"]


def test_secrets_cannot_be_read_with_another_key(directory: StoreDirectory, tmp_path: Path) -> None:
    directory.add("shop-eu", _data(), "ops")
    other = StoreDirectory(
        directory.engine, SecretBox(tmp_path / "other-key", environ={"M2POS_SECRET_KEY": ""})
    )
    (tmp_path / "other-key").write_bytes(b"3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    with pytest.raises(SettingsError) as raised:
        other.get("shop-eu")
    assert "store shop-eu" in str(raised.value) and SECRET not in str(raised.value)
