"""Start-up check (helper products created, or reported when archived, renamed or re-coded; the deposit
method; the default customer) and stock levels (on hand minus reserved, batched, by any SKU field)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from m2pos.pos.port import PosError

from .conftest import Env

D = Decimal


async def test_check_creates_missing_helper_products_once(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", create_order_deposits=True)
    text = await pos.check()
    assert "orders" in text and 'deposits as "Magento"' in text and "SHIPPING (Shipping)" in text
    for code, description in (
        ("NO-PRODUCT-FOUND", "No Product Found"),
        ("SHIPPING", "Shipping"),
        ("REFUND", "Refund"),
    ):
        product = env.control.product(code)
        assert product["description"] == description
        assert not product["flags"]["inventoried"]
    assert env.control.product("SHIPPING")["flags"]["taxable"] is False
    assert env.count("POST /api/products/") == 3
    await env.adapter().check()  # a second start finds them
    assert env.count("POST /api/products/") == 3
    with pytest.raises(Exception, match="No product"):
        env.control.product("MAGENTO-TAX")  # only needed with tax_mode = "line"
    await env.adapter(tax_mode="line").check()
    assert env.control.product("MAGENTO-TAX")["description"] == "Magento Tax"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c.rename_product("SHIPPING", description="Delivery"),
            'helper product with code SHIPPING was renamed to "Delivery"',
        ),
        (lambda c: c.archive_product("REFUND"), 'The helper product "Refund" (code REFUND) is archived'),
        (
            lambda c: c.rename_product("NO-PRODUCT-FOUND", code="NPF"),
            "has the code NPF in Lightspeed OnSite, not NO-PRODUCT-FOUND. Change its code back to "
            'NO-PRODUCT-FOUND, or set pos.lightspeed_onsite.no_product_found_code = "NPF"',
        ),
    ],
)
async def test_a_renamed_archived_or_recoded_helper_is_reported_plainly(
    env: Env, change: object, expected: str
) -> None:
    await env.adapter().check()
    change(env.control)  # type: ignore[operator]
    with pytest.raises(PosError) as reported:
        await env.adapter().check()
    assert expected in reported.value.message
    assert not reported.value.retryable
    order = env.order("simple")
    with pytest.raises(PosError):  # documents are refused too, before anything is written
        await env.adapter().create_document(order, order.increment_id or "")
    assert env.control.invoices() == []


async def test_check_reports_a_missing_deposit_method_and_default_customer(env: Env) -> None:
    pos = env.adapter(
        download_orders_as="order",
        create_order_deposits=True,
        deposit_payment_method="Web Shop",
        default_customer_id=9999,
    )
    with pytest.raises(PosError) as reported:
        await pos.check()
    message = reported.value.message
    assert 'no payment method named "Web Shop"' in message
    assert "default_customer_id = 9999" in message
    env.control.add_payment_method("Web Shop")
    customer = env.control.create_customer("Web", "Shop", "shop@example.com")
    await env.adapter(
        download_orders_as="order",
        create_order_deposits=True,
        deposit_payment_method="web shop",
        default_customer_id=customer,
    ).check()


async def test_stock_levels_are_on_hand_minus_reserved_in_batches(env: Env) -> None:
    pos = env.adapter(download_orders_as="order", reserve_order_inventory=True)
    codes = [f"LS-{n:05d}" for n in range(1, 6)] + ["MUG-001", "MUG-350/BLK", "24-WG084"]
    order = env.order("simple")
    await pos.create_document(order, order.increment_id or "")
    env.control.reset_counters()
    pos.products.cache.clear()
    levels = await pos.stock_levels([*codes, "HEADPH-BT/2", "WARRANTY-2Y", "MH01"])
    expected = {}
    for code in codes:
        total, reserved = env.stock(code)
        expected[code] = total - reserved
    assert levels == expected  # unknown SKUs, non-inventoried products and master models are left out
    assert levels["MUG-001"] == env.stock("MUG-001")[0] - 2
    assert env.count("GET /api/products/") == 1
    assert env.count("GET /api/product_inventory/") == 1


@pytest.mark.parametrize("field", ["upc", "manufacturer_sku", "product_id"])
async def test_products_found_by_another_field(env: Env, field: str) -> None:
    product = env.control.product("MUG-001")
    value = str(product["id"]) if field == "product_id" else product[field]
    pos = env.adapter(sku_field=field)
    order = env.order(items=[{"sku": "MUG-001", "qty": 1}])
    item = order.items[0].model_copy(update={"sku": value})
    order = order.model_copy(update={"items": (item,)})
    record = env.document(await pos.create_document(order, order.increment_id or ""))
    assert record["lines"][0]["code"] == "MUG-001"
    levels = await pos.stock_levels([value])
    assert levels == {value: env.stock("MUG-001")[0]}
