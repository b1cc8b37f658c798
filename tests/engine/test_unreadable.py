"""An order Magento sends in a form m2pos cannot read is set aside, named, and blocks nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from m2pos.engine import Outcome, SyncEngine
from m2pos.engine.bootstrap import open_store
from m2pos.pos.memory import MemoryPos
from m2pos.settings import settings_from_dict
from tests.engine.conftest import Store


@dataclass
class CorruptingTransport(httpx.AsyncBaseTransport):
    """Real HTTP, except that chosen orders come back broken, as a faulty extension might send them."""

    corrupt: set[str] = field(default_factory=set)
    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if request.method == "GET" and request.url.path.endswith("/V1/orders") and self.corrupt:
            data = json.loads(body)
            for order in data.get("items") or []:
                if order.get("increment_id") in self.corrupt:
                    order["grand_total"] = "abc"
            body = json.dumps(data).encode()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)


async def test_an_unreadable_order_is_set_aside_and_retried(store: Store) -> None:
    bad = store.sandbox.control.place_order("simple", payment="authorised")
    good = store.sandbox.control.place_order("simple", payment="authorised")
    settings = settings_from_dict(
        {**store.settings, "orders": {**store.settings["orders"], "retry_base_seconds": 0.001}}
    )
    transport = CorruptingTransport(corrupt={bad["increment_id"]})
    pos = MemoryPos()
    async with open_store(settings, pos=pos, magento_transport=transport) as ctx:
        engine = SyncEngine(ctx)
        report = await engine.run_cycle()
        failed = [r for r in report.results if r.outcome == Outcome.FAILED]
        assert [r.number for r in failed] == [bad["increment_id"]]
        assert "grand_total: not a number ('abc')" in failed[0].message
        assert [d.reference for d in pos.documents("sale")] == [good["increment_id"]]
        row = ctx.ledger.order(bad["entity_id"])
        assert row is not None
        assert row.status == "failed"
        # The data is mended in Magento; the retry brings the order in.
        transport.corrupt.clear()
        report = await engine.run_cycle()
        assert report.ok, report.errors
        assert sorted(d.reference for d in pos.documents("sale")) == sorted(
            [bad["increment_id"], good["increment_id"]]
        )
