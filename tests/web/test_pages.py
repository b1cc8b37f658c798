"""The console's pages over real HTTP: connection tests against the Magento sandbox, the test e-mail
through a real SMTP server (aiosmtpd), status after real cycles, order search, settings layering."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from m2pos.ledger.stores import StoreDirectory
from m2pos.secretbox import SecretBox
from m2pos.settings import SettingsError, SettingsLayers
from m2pos.settings_store import SettingsStore
from tests.engine.test_notifications import Inbox, inbox  # noqa: F401 - the SMTP server fixture
from tests.web.conftest import USER, ConsoleSite


def test_test_connection_shows_the_magento_diagnosis_without_saving(site: ConsoleSite) -> None:
    site.add_user()
    client, csrf = site.logged_in_client()
    page = client.post("/connections/test/magento", data={"csrf_token": csrf})
    assert page.status_code == 200
    assert "Magento connection check" in page.text
    assert re.search(
        r"badge-ok\">OK</span>\s*<strong>Connection</strong>: Reached \S+ with OAuth 1.0a", page.text
    )

    # A secret typed but not saved is tried, and refused by Magento; nothing is saved.
    wrong = client.post(
        "/connections/test/magento", data={"csrf_token": csrf, "magento__consumer_secret": "not-the-secret"}
    )
    assert "badge-fail" in wrong.text
    assert "not-the-secret" not in wrong.text
    assert site.console.store.saved_settings() == []


def test_test_connection_of_the_pos_names_the_problem(site: ConsoleSite) -> None:
    site.store.settings["pos"] = {}
    site.store.configure(
        pos={
            "kind": "lightspeed_onsite",
            "base_url": "https://127.0.0.1:9/api/",  # nothing listens there
            "username": "lightspeed",
            "password": "pw-123456",
            "app_private_id": "private",
            "verify_tls": False,
            "max_attempts": 1,
            "timeout_seconds": 2,
        }
    )
    site.add_user()
    client, csrf = site.logged_in_client()
    page = client.post("/connections/test/pos", data={"csrf_token": csrf})
    assert "Lightspeed OnSite connection check: https://127.0.0.1:9/api/" in page.text
    assert "badge-fail" in page.text
    assert "pw-123456" not in page.text


def test_send_test_email_through_a_real_smtp_server(site: ConsoleSite, inbox: tuple[Inbox, int]) -> None:  # noqa: F811
    handler, port = inbox
    site.add_user()
    client, csrf = site.logged_in_client()
    nothing = client.post("/notifications/test", data={"csrf_token": csrf})
    assert "Add at least one recipient and save" in nothing.text
    saved = client.post(
        "/notifications",
        data={
            "csrf_token": csrf,
            "notifications__smtp_host": "127.0.0.1",
            "notifications__smtp_port": str(port),
            "notifications__recipients": "owner@shop.example, staff@shop.example",
            "notifications__sender": "m2pos@shop.example",
        },
    )
    assert saved.status_code == 303, saved.text
    sent = client.post("/notifications/test", data={"csrf_token": csrf})
    assert "Test e-mail sent to owner@shop.example, staff@shop.example" in sent.text
    assert handler.recipients == [["owner@shop.example", "staff@shop.example"]]
    assert handler.messages[0]["Subject"] == "m2pos: test e-mail"
    assert handler.messages[0]["From"] == "m2pos@shop.example"


def test_a_mail_server_that_is_down_is_reported(site: ConsoleSite) -> None:
    site.store.configure(
        notifications={"smtp_host": "127.0.0.1", "smtp_port": 9, "recipients": ["a@b.example"]}
    )
    site.add_user()
    client, csrf = site.logged_in_client()
    page = client.post("/notifications/test", data={"csrf_token": csrf})
    assert page.status_code == 502
    assert "The test e-mail could not be sent" in page.text


def test_status_after_real_cycles(site: ConsoleSite) -> None:
    store = site.store
    paid = store.sandbox.control.place_order("simple", payment="authorised", guest=False, customer_index=2)
    store.sandbox.control.place_order("simple", payment="checkmo")  # waits: unpaid
    assert store.cli("sync", "--once").exit_code == 0
    site.add_user()
    client, _ = site.logged_in_client()
    panel = client.get("/status/panel").text
    assert re.search(r'data-count="transferred">1<', panel)
    assert re.search(r'data-count="waiting">1<', panel)
    assert "Reachable" in panel and "Not contacted yet" not in panel
    assert "Last successful cycle: never" not in panel
    orders = client.get("/orders", params={"q": paid["customer_email"].upper()}).text  # e-mail, any case
    assert paid["increment_id"] in orders
    assert client.get("/orders", params={"status": "waiting"}).text.count('href="/orders/') == 1


def test_the_order_page_shows_the_rules_checked_now_and_the_timeline(site: ConsoleSite) -> None:
    store = site.store
    order = store.sandbox.control.place_order("simple", payment="checkmo")
    assert store.cli("sync", "--once").exit_code == 0
    site.add_user()
    client, _ = site.logged_in_client()
    listing = client.get("/orders", params={"q": order["increment_id"]}).text
    link = re.search(r'href="(/orders/\d+)"', listing)
    assert link
    page = client.get(link.group(1)).text
    assert "The rules, checked now" in page
    assert "<strong>Wait</strong>" in page
    assert "checkmo" in page  # the value the payment rule saw
    assert "Timeline" in page


def test_settings_saved_in_the_console_lie_between_the_file_and_the_environment(site: ConsoleSite) -> None:
    store = site.store
    store.configure(orders={"poll_interval_seconds": 30})
    file_layer = SettingsLayers(store.settings, {}, "m2pos.toml")
    saver = SettingsStore(file_layer, site.ledger, environ={})
    saver.save({"orders.poll_interval_seconds": 5, "orders.mode": "wait_for_invoice"}, f"console: {USER}")
    assert saver.effective().orders.poll_interval_seconds == 5  # the console over the file
    assert saver.origin("orders.poll_interval_seconds").layer == "console"
    with_environment = SettingsLayers(store.settings, {"orders": {"poll_interval_seconds": 60}}, "m2pos.toml")
    assert (
        SettingsStore(with_environment, site.ledger, environ={}).effective().orders.poll_interval_seconds
        == 60
    )
    saver.save({"orders.poll_interval_seconds": None}, f"console: {USER}")  # back to the file
    assert saver.effective().orders.poll_interval_seconds == 30
    assert saver.effective().orders.mode == "wait_for_invoice"
    changes = site.ledger.settings_changes()
    assert changes[-1].changed_by == f"console: {USER}" and "wait_for_invoice" in changes[-1].settings_json


def test_saving_refuses_contradictions_and_keys_it_does_not_own(site: ConsoleSite) -> None:
    saver = SettingsStore(SettingsLayers(site.store.settings, {}, "m2pos.toml"), site.ledger, environ={})
    with pytest.raises(SettingsError) as refused:
        saver.save({"state.database_url": "sqlite:///elsewhere.db"}, "console: x")
    assert refused.value.problems() == {"state.database_url": "not a setting the console can change"}
    with pytest.raises(SettingsError) as bad:
        saver.save({"notifications.enabled": True}, "console: x")  # no recipients
    assert "recipients" in str(bad.value)
    assert site.console.store.saved_settings() == []


def test_a_lost_encryption_key_is_named(site: ConsoleSite, tmp_path: Any) -> None:
    saver = SettingsStore(SettingsLayers(site.store.settings, {}, "m2pos.toml"), site.ledger, environ={})
    saver.save({"magento.access_token": "tok-123456"}, "console: x")
    (site.store.directory / "secret.key").unlink()
    restarted = SettingsStore(SettingsLayers(site.store.settings, {}, "m2pos.toml"), site.ledger, environ={})
    with pytest.raises(SettingsError, match="encryption key is missing"):
        restarted.effective()


def test_m2pos_web_serves_the_console_and_prints_the_first_run_link(site: ConsoleSite) -> None:
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "m2pos.cli",
            "--config",
            str(site.store.config_path),
            "web",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline(), server.stdout.readline()]
        assert lines[0].strip() == f"Console: http://127.0.0.1:{port}/"
        link = re.search(r"open (http://\S+/setup\?code=\S+) and choose", lines[1])
        assert link, lines
        for _ in range(100):
            try:
                page = httpx.get(link.group(1), timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert page.status_code == 200 and "Welcome to m2pos" in page.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_stores_page_lists_the_deployment_stores_behind_the_login(
    site: ConsoleSite, tmp_path: Path
) -> None:
    anonymous = site.client().get("/stores")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    site.add_user()
    client, _csrf = site.logged_in_client()
    assert "No stores" in client.get("/stores").text  # one store, run by m2pos run
    directory = StoreDirectory(site.ledger.engine, SecretBox(tmp_path / "key", environ={}))
    secret = "cs-not-for-the-browser"
    data = {
        "magento": {
            "base_url": "https://eu.example",
            "consumer_key": "ck",
            "consumer_secret": secret,
            "access_token": "at",
            "access_token_secret": "ats",
        },
        "pos": {"kind": "memory"},
    }
    directory.add("shop-eu", data, "test", name="Shop EU")
    directory.add("shop-us", {"pos": {"kind": "memory"}}, "test")
    directory.set_enabled("shop-us", False, "test")
    page = client.get("/stores").text
    assert "Shop EU" in page and "https://eu.example" in page and "idle" in page
    assert "shop-us" in page and "disabled" in page
    assert secret not in page
