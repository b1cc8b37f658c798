"""Prometheus metrics over real HTTP: after worker cycles of two stores, ``/metrics`` (with its bearer
token) reports each store's cycles, items by outcome, API requests by system and lag; without the
token it refuses, and with no token configured there is no endpoint."""

from __future__ import annotations

import asyncio
import re

import httpx
from typer.testing import CliRunner

from m2pos.cli import app as app_cli
from m2pos.ledger import Ledger
from m2pos.sandbox._serve import serve_in_thread
from m2pos.settings import SettingsLayers
from m2pos.web import console_app
from m2pos.worker import Deployment, run_store_cycle
from tests.worker.conftest import Cluster

TOKEN = "scrape-me-7f3a"


def _value(text: str, name: str, **labels: str) -> float:
    """The sample of ``name`` with exactly these labels (in any order)."""
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == labels:
            return float(match.group(2))
    raise AssertionError(f"{name}{labels} not in\n{text}")


def test_metrics_report_every_store(cluster: Cluster) -> None:
    stores = ("shop-a", "shop-b")
    for store in stores:
        sandbox = cluster.add_sandbox(store)
        for _ in range(3):
            sandbox.control.place_order("simple", payment="authorised")
    deployment = Deployment.open(cluster.config)
    for store in stores:
        deployment.directory.add(store, cluster.store_data(store), "test")
        for n in range(2):
            assert asyncio.run(run_store_cycle(deployment, store, f"test-{n}")) == "ok"

    def layers(token: str | None) -> SettingsLayers:
        web = {"metrics_token": token} if token else {}
        return SettingsLayers({"state": {"database_url": cluster.database_url}, "web": web}, {}, "test")

    app, _console, _code = console_app(lambda: layers(TOKEN), Ledger(deployment.engine), environ={})
    bare, _c, _k = console_app(lambda: layers(None), Ledger(deployment.engine), environ={})
    with serve_in_thread(app) as url, serve_in_thread(bare) as bare_url:
        refused = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong"})
        scraped = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        absent = httpx.get(f"{bare_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 401 and TOKEN not in refused.text
    assert absent.status_code == 404
    assert scraped.status_code == 200, scraped.text
    text = scraped.text
    assert _value(text, "m2pos_stores", state="enabled") == 2
    for store in stores:
        assert _value(text, "m2pos_store_cycles_total", store=store) == 2
        assert _value(text, "m2pos_store_items_total", store=store, outcome="transferred") == 3
        assert _value(text, "m2pos_api_requests_total", store=store, system="magento") > 0
        assert _value(text, "m2pos_store_lag_seconds", store=store) == 0  # nothing left to carry
        assert _value(text, "m2pos_store_running", store=store) == 0
    status = CliRunner(env={"COLUMNS": "250"}).invoke(
        app_cli, ["--config", str(cluster.config), "status", "--all"]
    )
    assert status.exit_code == 0, status.output
    for store in stores:
        assert re.search(rf"{store} .*3 transferred", status.output), status.output
    deployment.close()
