"""The adapter behind the port: the sync engine, a Magento sandbox over HTTP and the OnSite sandbox
over HTTPS, as ``m2pos run`` wires them (``open_store(settings)`` → ``open_pos``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from m2pos.engine import Outcome, SyncEngine
from m2pos.engine.bootstrap import open_store
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox
from m2pos.settings import settings_from_dict

from .conftest import Env

LONG_AGO = "2020-01-01T00:00:00Z"


@pytest.fixture
def shop() -> Iterator[tuple[MagentoSandbox, str]]:
    sandbox = MagentoSandbox(orders=0)
    with serve_in_thread(sandbox.app) as url:
        yield sandbox, url
    sandbox.close()


def _settings(env: Env, url: str, directory: Path, orders: Any = None, **options: Any) -> Any:
    data = env.settings(**options)
    data["magento"] = {
        "base_url": url,
        "consumer_key": DEMO_CREDENTIALS.consumer_key,
        "consumer_secret": DEMO_CREDENTIALS.consumer_secret,
        "access_token": DEMO_CREDENTIALS.access_token,
        "access_token_secret": DEMO_CREDENTIALS.access_token_secret,
    }
    data["orders"] = {"start_date": LONG_AGO, "retry_base_seconds": 1, "retry_max_seconds": 1}
    data["orders"].update(orders or {})
    data["state"] = {"database_url": f"sqlite:///{directory / 'ledger.db'}"}
    return settings_from_dict(data)


def _source_quantity(sandbox: MagentoSandbox, sku: str) -> Decimal:
    (item,) = [i for i in sandbox.control.stock(sku) if i["source_code"] == "default"]
    return Decimal(str(item["quantity"]))


async def test_orders_reserve_in_onsite_and_the_stock_goes_back_to_magento(
    env: Env, shop: tuple[MagentoSandbox, str], tmp_path: Path
) -> None:
    magento, url = shop
    settings = _settings(
        env,
        url,
        tmp_path,
        download_orders_as="order",
        reserve_order_inventory=True,
        create_order_deposits=True,
    )
    placed = [
        magento.control.place_order(kind, payment="authorised")
        for kind in ("simple", "configurable", "bundle")
    ]
    async with open_store(settings) as ctx:
        assert "Lightspeed OnSite" in await ctx.pos.check()
        engine = SyncEngine(ctx)
        report = await engine.run_cycle()
        assert report.ok, (report.errors, [r.message for r in report.failed])
        assert report.count(Outcome.TRANSFERRED) == 3
        again = await engine.run_cycle()
        assert again.ok and again.count(Outcome.TRANSFERRED) == 0
    for order in placed:
        (record,) = env.control.orders(order["increment_id"])  # exactly once
        assert record["totals"]["total"] == Decimal(str(order["grand_total"]))
        assert [p["amount"] for p in record["payments"]] == [Decimal(str(order["grand_total"]))]
        assert Decimal(str(magento.control.get_order(order["entity_id"])["total_invoiced"])) > 0
    # OnSite is the inventory master: Magento now shows on hand minus reserved.
    total, reserved = env.stock("MUG-001")
    assert reserved == 2
    assert _source_quantity(magento, "MUG-001") == total - reserved
    assert env.control.sessions() == []  # the store's shutdown logged out
    assert env.control.check_inventory() == []


async def test_a_credit_memo_restocked_in_magento_is_restocked_in_onsite(
    env: Env, shop: tuple[MagentoSandbox, str], tmp_path: Path
) -> None:
    magento, url = shop
    settings = _settings(env, url, tmp_path)
    order = magento.control.place_order("simple", payment="authorised")
    async with open_store(settings) as ctx:
        engine = SyncEngine(ctx)
        assert (await engine.run_cycle()).ok
        before = env.stock("MUG-001")
        mug = next(i for i in order["items"] if i["sku"] == "MUG-001")
        # Not within the second of the first stock read (Magento stamps whole seconds: the credit
        # memo could be before it, with no earlier read to compare with).
        await asyncio.sleep(1.1)
        magento.control.refund(
            order["entity_id"],
            items=[{"order_item_id": mug["item_id"], "qty": 1}],
            return_to_stock=True,
            shipping_amount=0,
        )
        # The engine reads whether Magento restocked from the stock movement a later stock read sees.
        for _ in range(3):
            report = await engine.run_cycle()
            assert report.ok, (report.errors, [r.message for r in report.failed])
            (memo_result,) = [r for r in report.results if r.kind == "credit_memo"]
            if memo_result.outcome != Outcome.WAITING:
                break
            await asyncio.sleep(1.1)
        assert memo_result.outcome == Outcome.TRANSFERRED
        assert (await engine.run_cycle()).ok
    (returned,) = env.control.invoices(f"CM-{memo_result.number}")
    assert [(line["code"], line["quantity"]) for line in returned["lines"]] == [("MUG-001", Decimal(-1))]
    assert env.stock("MUG-001") == (before[0] + 1, before[1])


async def test_exactly_once_through_onsite_faults(
    env: Env, shop: tuple[MagentoSandbox, str], tmp_path: Path
) -> None:
    magento, url = shop
    settings = _settings(
        env,
        url,
        tmp_path,
        orders={"retry_base_seconds": 0.001, "retry_max_seconds": 0.001, "max_attempts": 20},
        download_orders_as="order",
        reserve_order_inventory=True,
        create_order_deposits=True,
    )
    kinds = ("simple", "configurable", "bundle", "mixed") * 2
    placed = [magento.control.place_order(kind, payment="authorised") for kind in kinds]
    # Writes fail before or after they commit, reads fail, the server rate-limits.
    env.control.set_faults(error_rate=0.05, drop_after_commit_rate=0.05, rate_limit_rate=0.02, seed=7)
    env.control.set_faults(retry_after_seconds=0)
    async with open_store(settings) as ctx:
        engine = SyncEngine(ctx)
        for _ in range(30):
            report = await engine.run_cycle()
            transferred = [
                r for r in ctx.ledger.orders_by_ids([o["entity_id"] for o in placed]) if r.pos_document_id
            ]
            if len(transferred) == len(placed):
                break
        env.control.reset_faults()
        report = await engine.run_cycle()
    statuses = env.control.counters()["statuses"]
    writes = [per for key, per in statuses.items() if key.startswith(("POST", "LOCK"))]
    assert any(set(per) - {"201", "204"} for per in writes)  # writes did fail (before or after commit)
    for order in placed:
        documents = [d for d in env.control.orders(order["increment_id"]) if not d["voided"]]
        assert len(documents) == 1, order["increment_id"]  # exactly once
        (document,) = documents
        assert document["totals"]["total"] == Decimal(str(order["grand_total"]))
        assert [p["amount"] for p in document["payments"]] == [Decimal(str(order["grand_total"]))]
    assert env.control.check_inventory() == []
    assert report.ok
