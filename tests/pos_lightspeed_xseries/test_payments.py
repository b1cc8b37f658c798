"""Payments over real HTTP: a sale carries what was paid online under the "Magento" payment type, a
return sale refunds the credit memo's total, a missing payment type is named with its setting, and
``create_payments = false`` sends none."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from m2pos.magento.models import Order
from m2pos.pos.port import PosDocument, PosRejected
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.lightspeed_xseries import XSeriesSandbox
from m2pos.sandbox.magento import MagentoSandbox
from tests.pos_lightspeed_xseries.test_window import _adapter
from tests.pos_support import place_order, refund


@pytest.fixture
def xseries() -> Iterator[tuple[XSeriesSandbox, str]]:
    sandbox = XSeriesSandbox(products=2)
    with serve_in_thread(sandbox.app) as url:
        yield sandbox, url


def _order(magento: MagentoSandbox) -> Order:
    return place_order(magento, "simple")


def _magento_type(sandbox: XSeriesSandbox) -> str:
    return next(t["id"] for t in sandbox.backend.payment_types if t["name"] == "Magento")


async def test_a_sale_carries_the_online_payment_and_a_return_refunds_the_memo(
    magento: MagentoSandbox, xseries: tuple[XSeriesSandbox, str]
) -> None:
    sandbox, url = xseries
    order = _order(magento)
    adapter = _adapter(url, sandbox.token, 300.0)
    try:
        document = await adapter.create_document(order, str(order.increment_id))
        memo, refunded = refund(magento, order, return_to_stock=True)
        returned = await adapter.create_return(memo, refunded, document, str(memo.increment_id), frozenset())
    finally:
        await adapter.aclose()
    (payment,) = sandbox.control.sale(document.id)["payments"]
    assert payment["retailer_payment_type_id"] == _magento_type(sandbox)
    assert Decimal(str(payment["amount"])) == order.grand_total > 0
    (refunded_payment,) = sandbox.control.sale(returned.id)["payments"]
    assert Decimal(str(refunded_payment["amount"])) == -memo.grand_total


async def test_a_missing_payment_type_is_named_with_its_setting(
    magento: MagentoSandbox, xseries: tuple[XSeriesSandbox, str]
) -> None:
    sandbox, url = xseries
    order = _order(magento)
    adapter = _adapter(url, sandbox.token, 300.0, payment_type="Web Shop")
    try:
        with pytest.raises(PosRejected) as raised:
            await adapter.create_document(order, str(order.increment_id))
        with pytest.raises(PosRejected):
            await adapter.check()
    finally:
        await adapter.aclose()
    text = str(raised.value)
    assert "Web Shop" in text and "pos.lightspeed_xseries.payment_type" in text
    assert str(order.increment_id) in text
    assert sandbox.control.sales() == []  # nothing half-made


async def test_no_payment_is_sent_when_turned_off(
    magento: MagentoSandbox, xseries: tuple[XSeriesSandbox, str]
) -> None:
    sandbox, url = xseries
    order = _order(magento)
    adapter = _adapter(url, sandbox.token, 300.0, create_payments=False)
    try:
        document: PosDocument = await adapter.create_document(order, str(order.increment_id))
    finally:
        await adapter.aclose()
    assert sandbox.control.sale(document.id)["payments"] == []
