"""Exactly once against the sandbox over real HTTP: a sale whose answer was lost after X-Series
committed it is not sent again by the client, and ``find_document`` finds it by its reference."""

from __future__ import annotations

import pytest

from m2pos.pos.port import PosError
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_xseries import XSeriesSandbox
from m2pos.sandbox.magento import MagentoSandbox
from tests.pos_lightspeed_xseries.test_window import _adapter
from tests.pos_support import place_order


async def test_a_sale_whose_answer_was_lost_is_found_not_doubled(magento: MagentoSandbox) -> None:
    order = place_order(magento, "simple")
    reference = str(order.increment_id)
    sandbox = XSeriesSandbox(products=2)
    with serve_in_thread(sandbox.app) as url:
        adapter = _adapter(url, sandbox.token, 300.0)
        sandbox.control.set_faults(route="POST /api/register_sales", drop_after_commit_next=1)
        with pytest.raises(PosError) as raised:
            await adapter.create_document(order, reference)
        assert raised.value.retryable and reference in str(raised.value)
        found = await adapter.find_document(reference)
        await adapter.aclose()
    sales = sandbox.control.sales()
    assert len(sales) == 1 and sandbox.control.count("POST /api/register_sales") == 1
    assert found is not None and found.id == sales[0]["id"]
    assert sales[0]["source"] == "Magento" and sales[0]["source_id"] == reference
    assert sales[0]["status"] == "AWAITING_DISPATCH"
