"""The notes text put on every POS document made from a Magento order or credit memo.

What staff need at the counter (product-behaviour §2.1, §6 item 12): the Magento order number, the
customer's comment, the payment method with its reference, the shipping method, and anything m2pos
could not match (a "No Product Found" line) so that someone links the product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from m2pos.magento.models import CreditMemo, Order


@dataclass(frozen=True)
class UnmatchedLine:
    """A line that went on the "No Product Found" product."""

    sku: str
    name: str | None
    qty: Decimal
    unit_price: Decimal


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def payment_summary(order: Order) -> str:
    payment = order.payment
    if payment is None:
        return "none recorded"
    title = next((t for t in payment.additional_information if t and t.strip()), None)
    method = payment.method or "unknown"
    text = f"{title} ({method})" if title and title != method else method
    details = []
    if payment.cc_type or payment.cc_last4:
        details.append(
            " ".join(
                p for p in (payment.cc_type, f"xxxx-{payment.cc_last4}" if payment.cc_last4 else "") if p
            )
        )
    if payment.last_trans_id:
        details.append(f"transaction {payment.last_trans_id}")
    if payment.po_number:
        details.append(f"PO {payment.po_number}")
    paid = order.total_paid or payment.amount_paid
    if paid:
        details.append(f"paid {_amount(paid)}")
    elif payment.amount_authorized:
        details.append(f"authorised {_amount(payment.amount_authorized)}")
    return f"{text}, {', '.join(details)}" if details else text


def shipping_summary(order: Order) -> str | None:
    description, method = order.shipping_description, order.shipping_method
    if description and method and description != method:
        return f"{description} ({method})"
    return description or method


def unmatched_summary(unmatched: Sequence[UnmatchedLine], pos_name: str) -> str | None:
    if not unmatched:
        return None
    parts = [
        f"{u.sku}{f' ({u.name})' if u.name else ''} x{_qty(u.qty)} at {_amount(u.unit_price)}"
        for u in unmatched
    ]
    return (
        f"NO PRODUCT FOUND for {len(unmatched)} line(s): {'; '.join(parts)}. "
        f"Create or link these products in {pos_name}."
    )


def order_notes(
    order: Order, reference: str, *, unmatched: Sequence[UnmatchedLine] = (), pos_name: str = "the POS"
) -> str:
    lines = [f"Magento order #{reference}" + (f" ({_store(order)})" if _store(order) else "")]
    if order.customer_note and order.customer_note.strip():
        lines.append(f"Customer comment: {order.customer_note.strip()}")
    lines.append(f"Payment: {payment_summary(order)}")
    shipping = shipping_summary(order)
    if shipping:
        lines.append(f"Shipping: {shipping}")
    if order.coupon_code:
        lines.append(f"Coupon: {order.coupon_code}")
    flagged = unmatched_summary(unmatched, pos_name)
    if flagged:
        lines.append(flagged)
    return "\n".join(lines)


def return_notes(
    memo: CreditMemo | None,
    order: Order,
    *,
    reason: str,
    original: str | None = None,
    unmatched: Sequence[UnmatchedLine] = (),
    pos_name: str = "the POS",
) -> str:
    number = order.increment_id or str(order.entity_id)
    head = (
        f"Magento credit memo #{memo.increment_id} of order #{number}" if memo else f"Magento order #{number}"
    )
    lines = [f"{head}: {reason}"]
    if original:
        lines.append(f"Returns {original}")
    flagged = unmatched_summary(unmatched, pos_name)
    if flagged:
        lines.append(flagged)
    return "\n".join(lines)


def _store(order: Order) -> str | None:
    if not order.store_name:
        return None
    return order.store_name.strip().splitlines()[-1].strip() or None
