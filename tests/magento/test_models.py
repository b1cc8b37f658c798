"""Models parse Magento's sparse JSON, UTC timestamps, and merge parent/child item rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from m2pos.magento import CreditMemo, Invoice, Order, Product, SourceItem

D = Decimal


def test_an_order_with_almost_nothing_parses_with_defaults() -> None:
    order = Order.model_validate({"entity_id": 3, "items": []})
    assert order.increment_id is None
    assert order.total_paid == D(0)
    assert order.total_invoiced == D(0)
    assert order.customer_is_guest is False
    assert order.payment is None
    assert order.shipping_address is None
    assert order.created_at is None
    assert order.lines() == ()


def test_adobes_sample_order_header() -> None:
    # Values from Adobe's GET /V1/orders/3 tutorial sample: total_paid/total_invoiced are absent.
    order = Order.model_validate(
        {
            "entity_id": 3,
            "increment_id": "000000003",
            "state": "new",
            "status": "pending",
            "customer_is_guest": 0,
            "created_at": "2017-08-21 22:22:19",
            "updated_at": "2017-08-21 22:22:20",
            "total_due": 165,
            "grand_total": 165,
            "base_grand_total": 165,
            "customer_email": "jdoe@example.com",
            "payment": {
                "account_status": None,
                "additional_information": ["Bank Transfer Payment", ""],
                "amount_ordered": 165,
                "cc_last4": None,
                "entity_id": 3,
                "method": "banktransfer",
                "parent_id": 3,
                "shipping_amount": 5,
            },
            "status_histories": [],
            "items": [],
            "extension_attributes": {
                "shipping_assignments": [
                    {
                        "shipping": {
                            "address": {"city": "Calder", "street": ["123 Oak Ave"], "firstname": "Jane"},
                            "method": "tablerate_bestway",
                        },
                        "items": [],
                    }
                ]
            },
            "some_future_key": {"ignored": True},
        }
    )
    assert order.created_at == datetime(2017, 8, 21, 22, 22, 19, tzinfo=UTC)
    assert order.created_at.tzinfo is UTC
    assert order.total_due == D(165)
    assert order.total_paid == D(0)
    assert order.payment is not None
    assert order.payment.method == "banktransfer"
    assert order.payment.cc_last4 is None
    assert order.shipping_method == "tablerate_bestway"
    assert order.shipping_address is not None
    assert order.shipping_address.street == ("123 Oak Ave",)


def test_explicit_nulls_and_flags() -> None:
    order = Order.model_validate(
        {"state": None, "total_paid": None, "customer_is_guest": 1, "items": None, "grand_total": 22.5}
    )
    assert order.state is None
    assert order.total_paid == D(0)
    assert order.customer_is_guest is True
    assert order.items == ()
    assert order.grand_total == D("22.5")


def test_amounts_are_exact_decimals() -> None:
    order = Order.model_validate({"grand_total": 0.1, "tax_amount": 19.99})
    assert order.grand_total == D("0.1")
    assert order.tax_amount == D("19.99")


def test_timestamps_with_an_offset_are_converted_to_utc() -> None:
    order = Order.model_validate({"updated_at": "2024-06-01T02:00:00+02:00", "created_at": ""})
    assert order.updated_at == datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    assert order.created_at is None


def item(
    item_id: int, sku: str, product_type: str, qty: float, row_total: float = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "sku": sku,
        "product_type": product_type,
        "qty_ordered": qty,
        "price": row_total / qty if qty else 0,
        "row_total": row_total,
        "row_total_incl_tax": row_total * 1.2,
        "tax_amount": row_total * 0.2,
        **extra,
    }


CONFIGURABLE_ORDER = {
    "entity_id": 10,
    "subtotal": 110,
    "items": [
        item(1, "TEE-RED-M", "configurable", 2, 80, name="Tee"),
        item(2, "TEE-RED-M", "simple", 2, 0, parent_item_id=1, product_id=77, name="Tee Red M"),
        item(3, "MUG", "simple", 1, 30, product_id=5),
    ],
}


def test_a_configurable_is_one_line_with_the_parents_money_and_the_childs_sku() -> None:
    lines = Order.model_validate(CONFIGURABLE_ORDER).lines()
    assert len(lines) == 2
    tee, mug = lines
    assert (tee.item_id, tee.sku, tee.product_type, tee.qty) == (1, "TEE-RED-M", "configurable", D(2))
    assert tee.row_total == D(80)
    assert tee.price == D(40)
    assert [(c.item_id, c.sku, c.product_id, c.qty) for c in tee.components] == [(2, "TEE-RED-M", 77, D(2))]
    assert [(c.item_id, c.sku) for c in mug.components] == [(3, "MUG")]
    assert sum(line.row_total for line in lines) == D(110)  # no double counting


def test_a_dynamic_bundle_takes_its_money_from_the_children() -> None:
    # The parent may also show the children's sum; counting both levels would double the line.
    order = Order.model_validate(
        {
            "items": [
                item(1, "KIT", "bundle", 2, 60),
                item(2, "KIT-A", "simple", 2, 20, parent_item_id=1),
                item(3, "KIT-B", "simple", 4, 40, parent_item_id=1),
            ]
        }
    )
    (kit,) = order.lines()
    assert kit.sku == "KIT"
    assert kit.row_total == D(60)
    assert kit.price == D(30)
    assert kit.tax_amount == D(12)
    assert [(c.sku, c.qty) for c in kit.components] == [("KIT-A", D(2)), ("KIT-B", D(4))]


def test_a_fixed_price_bundle_takes_its_money_from_the_parent() -> None:
    order = Order.model_validate(
        {
            "items": [
                item(1, "KIT", "bundle", 1, 99),
                item(2, "KIT-A", "simple", 1, 0, parent_item_id=1),
                item(3, "KIT-B", "simple", 2, 0, parent_item_id=1),
            ]
        }
    )
    (kit,) = order.lines()
    assert kit.row_total == D(99)
    assert [c.sku for c in kit.components] == ["KIT-A", "KIT-B"]


def test_uninvoiced_quantity() -> None:
    order = Order.model_validate(
        {
            "items": [
                item(1, "A", "simple", 2, 10, qty_invoiced=1),
                item(2, "B", "simple", 1, 5, qty_invoiced=1),
            ]
        }
    )
    assert order.has_items_to_invoice
    assert order.items[0].qty_to_invoice == D(1)
    done = Order.model_validate({"items": [item(1, "A", "simple", 2, 10, qty_invoiced=2)]})
    assert not done.has_items_to_invoice


def memo_item(order_item_id: int, sku: str, qty: float, row_total: float = 0) -> dict[str, Any]:
    # Credit-memo items carry neither product_type nor parent_item_id (magento#38328).
    return {
        "entity_id": 100 + order_item_id,
        "order_item_id": order_item_id,
        "sku": sku,
        "qty": qty,
        "price": row_total / qty if qty else 0,
        "row_total": row_total,
        "base_cost": 0,
        "base_price": 0,
    }


def test_credit_memo_items_are_merged_through_the_order() -> None:
    order = Order.model_validate(CONFIGURABLE_ORDER)
    memo = CreditMemo.model_validate(
        {
            "entity_id": 1,
            "order_id": 10,
            "state": 2,
            "items": [
                memo_item(1, "TEE-RED-M", 1, 40),
                memo_item(2, "TEE-RED-M", 1, 0),
                memo_item(3, "MUG", 0, 0),
            ],
        }
    )
    assert memo.is_refunded
    (tee,) = memo.lines(order)  # the untouched mug (qty 0) is dropped
    assert (tee.item_id, tee.product_type, tee.qty, tee.row_total) == (1, "configurable", D(1), D(40))
    assert [(c.item_id, c.sku, c.qty) for c in tee.components] == [(2, "TEE-RED-M", D(1))]


def test_a_credit_memo_without_child_rows_takes_the_children_from_the_order() -> None:
    order = Order.model_validate(
        {
            "items": [
                item(1, "KIT", "bundle", 2, 50),
                item(2, "KIT-A", "simple", 2, 0, parent_item_id=1),
                item(3, "KIT-B", "simple", 6, 0, parent_item_id=1),
            ]
        }
    )
    memo = CreditMemo.model_validate({"items": [memo_item(1, "KIT", 1, 25)]})
    (kit,) = memo.lines(order)
    assert kit.row_total == D(25)
    assert [(c.sku, c.qty) for c in kit.components] == [("KIT-A", D(1)), ("KIT-B", D(3))]


def test_invoice_lines_and_state() -> None:
    order = Order.model_validate(CONFIGURABLE_ORDER)
    invoice = Invoice.model_validate(
        {
            "entity_id": 4,
            "order_id": 10,
            "state": 2,
            "total_qty": 3,
            "created_at": "2017-08-21 22:36:02",
            "items": [
                {"order_item_id": 1, "sku": "TEE-RED-M", "qty": 2, "row_total": 80},
                {"order_item_id": 2, "sku": "TEE-RED-M", "qty": 2},
                {"order_item_id": 3, "sku": "MUG", "qty": 1, "row_total": 30},
            ],
        }
    )
    assert invoice.is_paid
    assert [(line.sku, line.row_total) for line in invoice.lines(order)] == [
        ("TEE-RED-M", D(80)),
        ("MUG", D(30)),
    ]


def test_product_custom_attributes_and_stock_item() -> None:
    product = Product.model_validate(
        {
            "id": 9,
            "sku": "MUG",
            "type_id": "simple",
            "price": 12.5,
            "custom_attributes": [{"attribute_code": "color", "value": "49"}],
            "extension_attributes": {"stock_item": {"item_id": 9, "qty": 3, "is_in_stock": True}},
        }
    )
    assert product.custom_attributes == {"color": "49"}
    assert product.stock_item is not None
    assert product.stock_item.qty == D(3)
    assert product.price == D("12.5")


@pytest.mark.parametrize(("quantity", "expected"), [(D(5), 5), (D("2.5"), 2.5), (D("10.0000"), 10)])
def test_source_items_render_the_schemas_shape(quantity: Decimal, expected: float) -> None:
    item = SourceItem(sku="A/1", source_code="default", quantity=quantity, status=1)
    assert item.to_api() == {"sku": "A/1", "source_code": "default", "quantity": expected, "status": 1}
    assert item.in_stock
