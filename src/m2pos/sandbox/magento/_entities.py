"""Top-level scalar fields of each stored entity, taken from the 2.4.8 admin Swagger schema.

Each becomes a real SQLite column, like Magento's flat ``sales_order``/``sales_invoice`` tables, so
search criteria translate to plain SQL and a filter on anything else fails as it would in MySQL.
Type codes: I = integer, N = number (money, quantities), S = string.
"""

from __future__ import annotations

from typing import Final, Literal

FieldType = Literal["I", "N", "S"]


def _parse(spec: str) -> tuple[tuple[str, FieldType], ...]:
    fields: list[tuple[str, FieldType]] = []
    for token in spec.split():
        name, kind = token.split(":")
        assert kind in ("I", "N", "S")
        fields.append((name, kind))  # type: ignore[arg-type]
    return tuple(fields)


# sales-data-order-interface
ORDER_FIELDS: Final = _parse(
    "adjustment_negative:N adjustment_positive:N applied_rule_ids:S base_adjustment_negative:N "
    "base_adjustment_positive:N base_currency_code:S base_discount_amount:N base_discount_canceled:N "
    "base_discount_invoiced:N base_discount_refunded:N base_grand_total:N "
    "base_discount_tax_compensation_amount:N base_discount_tax_compensation_invoiced:N "
    "base_discount_tax_compensation_refunded:N base_shipping_amount:N base_shipping_canceled:N "
    "base_shipping_discount_amount:N base_shipping_discount_tax_compensation_amnt:N "
    "base_shipping_incl_tax:N base_shipping_invoiced:N base_shipping_refunded:N "
    "base_shipping_tax_amount:N base_shipping_tax_refunded:N base_subtotal:N base_subtotal_canceled:N "
    "base_subtotal_incl_tax:N base_subtotal_invoiced:N base_subtotal_refunded:N base_tax_amount:N "
    "base_tax_canceled:N base_tax_invoiced:N base_tax_refunded:N base_total_canceled:N "
    "base_total_due:N base_total_invoiced:N base_total_invoiced_cost:N base_total_offline_refunded:N "
    "base_total_online_refunded:N base_total_paid:N base_total_qty_ordered:N base_total_refunded:N "
    "base_to_global_rate:N base_to_order_rate:N billing_address_id:I can_ship_partially:I "
    "can_ship_partially_item:I coupon_code:S created_at:S customer_dob:S customer_email:S "
    "customer_firstname:S customer_gender:I customer_group_id:I customer_id:I customer_is_guest:I "
    "customer_lastname:S customer_middlename:S customer_note:S customer_note_notify:I "
    "customer_prefix:S customer_suffix:S customer_taxvat:S discount_amount:N discount_canceled:N "
    "discount_description:S discount_invoiced:N discount_refunded:N edit_increment:I email_sent:I "
    "entity_id:I ext_customer_id:S ext_order_id:S forced_shipment_with_invoice:I "
    "global_currency_code:S grand_total:N discount_tax_compensation_amount:N "
    "discount_tax_compensation_invoiced:N discount_tax_compensation_refunded:N hold_before_state:S "
    "hold_before_status:S increment_id:S is_virtual:I order_currency_code:S original_increment_id:S "
    "payment_authorization_amount:N payment_auth_expiration:I protect_code:S quote_address_id:I "
    "quote_id:I relation_child_id:S relation_child_real_id:S relation_parent_id:S "
    "relation_parent_real_id:S remote_ip:S shipping_amount:N shipping_canceled:N "
    "shipping_description:S shipping_discount_amount:N shipping_discount_tax_compensation_amount:N "
    "shipping_incl_tax:N shipping_invoiced:N shipping_refunded:N shipping_tax_amount:N "
    "shipping_tax_refunded:N state:S status:S store_currency_code:S store_id:I store_name:S "
    "store_to_base_rate:N store_to_order_rate:N subtotal:N subtotal_canceled:N subtotal_incl_tax:N "
    "subtotal_invoiced:N subtotal_refunded:N tax_amount:N tax_canceled:N tax_invoiced:N "
    "tax_refunded:N total_canceled:N total_due:N total_invoiced:N total_item_count:I "
    "total_offline_refunded:N total_online_refunded:N total_paid:N total_qty_ordered:N "
    "total_refunded:N updated_at:S weight:N x_forwarded_for:S "
)


# sales-data-invoice-interface
INVOICE_FIELDS: Final = _parse(
    "base_currency_code:S base_discount_amount:N base_grand_total:N "
    "base_discount_tax_compensation_amount:N base_shipping_amount:N "
    "base_shipping_discount_tax_compensation_amnt:N base_shipping_incl_tax:N "
    "base_shipping_tax_amount:N base_subtotal:N base_subtotal_incl_tax:N base_tax_amount:N "
    "base_total_refunded:N base_to_global_rate:N base_to_order_rate:N billing_address_id:I "
    "can_void_flag:I created_at:S discount_amount:N discount_description:S email_sent:I entity_id:I "
    "global_currency_code:S grand_total:N discount_tax_compensation_amount:N increment_id:S "
    "is_used_for_refund:I order_currency_code:S order_id:I shipping_address_id:I shipping_amount:N "
    "shipping_discount_tax_compensation_amount:N shipping_incl_tax:N shipping_tax_amount:N state:I "
    "store_currency_code:S store_id:I store_to_base_rate:N store_to_order_rate:N subtotal:N "
    "subtotal_incl_tax:N tax_amount:N total_qty:N transaction_id:S updated_at:S "
)


# sales-data-creditmemo-interface
CREDITMEMO_FIELDS: Final = _parse(
    "adjustment:N adjustment_negative:N adjustment_positive:N base_adjustment:N "
    "base_adjustment_negative:N base_adjustment_positive:N base_currency_code:S "
    "base_discount_amount:N base_grand_total:N base_discount_tax_compensation_amount:N "
    "base_shipping_amount:N base_shipping_discount_tax_compensation_amnt:N base_shipping_incl_tax:N "
    "base_shipping_tax_amount:N base_subtotal:N base_subtotal_incl_tax:N base_tax_amount:N "
    "base_to_global_rate:N base_to_order_rate:N billing_address_id:I created_at:S creditmemo_status:I "
    "discount_amount:N discount_description:S email_sent:I entity_id:I global_currency_code:S "
    "grand_total:N discount_tax_compensation_amount:N increment_id:S invoice_id:I "
    "order_currency_code:S order_id:I shipping_address_id:I shipping_amount:N "
    "shipping_discount_tax_compensation_amount:N shipping_incl_tax:N shipping_tax_amount:N state:I "
    "store_currency_code:S store_id:I store_to_base_rate:N store_to_order_rate:N subtotal:N "
    "subtotal_incl_tax:N tax_amount:N transaction_id:S updated_at:S "
)


# catalog-data-product-interface
PRODUCT_FIELDS: Final = _parse(
    "id:I sku:S name:S attribute_set_id:I price:N status:I visibility:I type_id:S created_at:S "
    "updated_at:S weight:N "
)


# inventory-api-data-source-item-interface
SOURCE_ITEM_FIELDS: Final = _parse("sku:S source_code:S quantity:N status:I ")


# sales-data-order-status-history-interface
ORDER_COMMENT_FIELDS: Final = _parse(
    "comment:S created_at:S entity_id:I entity_name:S is_customer_notified:I is_visible_on_front:I "
    "parent_id:I status:S "
)
