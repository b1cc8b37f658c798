"""Order state machine and document creation: invoice, refund (credit memo), cancel, hold, ship.

Pure functions over order dicts, shared by the REST routes, the control interface and the generator.
The rules follow Magento's code as described in the domain notes:
- ``Order\\Validation\\CanInvoice`` + ``InvoiceQuantityValidator`` messages, wrapped in
  "Invoice Document Validation Error(s):\\n…"; the invoice is always saved with state 2 (paid);
- ``Order\\Validation\\CanRefund`` + the credit memo quantity/total validators, wrapped in
  "Creditmemo Document Validation Error(s):\\n…"; credit memos have state 2 (refunded);
- ``StateResolver``: ``new`` + a document in progress becomes ``processing``; when nothing is left to
  invoice or ship (and the order is not on hold or canceled) it becomes ``complete`` if a credit memo
  is still possible (or the grand total is 0) and ``closed`` if something was refunded;
- invoice and refund reset ``status`` to the new state's default status.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from m2pos.sandbox.magento._errors import MagentoError, bad_request
from m2pos.sandbox.magento._orders import (
    PAYMENT_METHODS,
    STATE_DEFAULT_STATUS,
    NextId,
    children_of,
    fmt_money,
    is_money_row,
    money,
    parent_of,
    physical_rows,
)
from m2pos.sandbox.magento._store import Doc

INVOICE_BLOCKED_STATES = ("payment_review", "holded", "canceled", "complete", "closed")
REFUND_BLOCKED_STATES = ("payment_review", "holded", "canceled", "closed")
EPS = 0.0001


@dataclass
class Outcome:
    """What an operation produced besides the mutated order."""

    document: Doc | None = None
    histories: list[Doc] = field(default_factory=list)
    # Source quantity changes: (order_item_id, sku, delta, reason).
    returns: list[tuple[int, str, float, str]] = field(default_factory=list)


def transaction_id(order_id: int, salt: str) -> str:
    return hashlib.sha1(f"{order_id}:{salt}".encode()).hexdigest()[:8]  # noqa: S324 - not security


def history(order: Doc, comment: str, now: str, next_id: NextId, notified: bool = False) -> Doc:
    return {
        "comment": comment,
        "created_at": now,
        "entity_id": next_id("order_comment"),
        "entity_name": "order",
        "is_customer_notified": int(notified),
        "is_visible_on_front": 0,
        "parent_id": order["entity_id"],
        "status": order["status"],
    }


# -- predicates (Order::canInvoice, canShip, canCreditmemo, canCancel, canHold, canUnhold) -------


def _f(doc: Doc, key: str) -> float:
    return float(doc.get(key) or 0.0)


def qty_to_invoice(item: Doc, items: list[Doc]) -> float:
    if not is_money_row(item, items):  # "dummy" rows follow their parent/children
        return 0.0
    return max(_f(item, "qty_ordered") - _f(item, "qty_invoiced") - _f(item, "qty_canceled"), 0.0)


def qty_to_ship(item: Doc) -> float:
    return max(
        _f(item, "qty_ordered")
        - _f(item, "qty_shipped")
        - _f(item, "qty_refunded")
        - _f(item, "qty_canceled"),
        0.0,
    )


def can_invoice(order: Doc) -> bool:
    if order.get("state") in INVOICE_BLOCKED_STATES:
        return False
    items = order["items"]
    return any(qty_to_invoice(r, items) > 0 and not r.get("locked_do_invoice") for r in items)


def can_ship(order: Doc) -> bool:
    if order.get("state") in ("holded", "payment_review", "canceled") or order.get("is_virtual"):
        return False
    for r in order["items"]:
        if "parent_item_id" in r or r.get("is_virtual"):
            continue
        if qty_to_ship(r) > 0 and _f(r, "qty_refunded") != _f(r, "qty_ordered"):
            return True
    return False


def can_creditmemo(order: Doc) -> bool:
    if order.get("state") in REFUND_BLOCKED_STATES:
        return False
    if abs(_f(order, "grand_total")) < EPS:
        return False
    remaining = money(_f(order, "total_paid")) - _f(order, "total_refunded")
    return not (abs(remaining) < EPS or abs(remaining - _f(order, "adjustment_negative")) < EPS)


def can_cancel(order: Doc) -> bool:
    if order.get("state") in ("payment_review", "holded", "canceled", "complete", "closed"):
        return False
    items = order["items"]
    return any(qty_to_invoice(r, items) > 0 for r in items)


def can_hold(order: Doc) -> bool:
    return order.get("state") not in ("payment_review", "holded", "canceled", "complete", "closed")


def can_unhold(order: Doc) -> bool:
    return order.get("state") == "holded"


def resolve_state(order: Doc, in_progress: bool) -> str:
    state = str(order.get("state"))
    if state == "new" and in_progress:
        state = "processing"
    if state != "canceled" and not can_unhold(order) and not can_invoice(order) and not can_ship(order):
        if _f(order, "base_grand_total") == 0 or can_creditmemo(order):
            state = "complete"
        elif _f(order, "total_refunded") > 0:
            state = "closed"
    return state


def _set_state(order: Doc, state: str) -> None:
    order["state"] = state
    order["status"] = STATE_DEFAULT_STATUS[state]  # custom statuses are lost, as in InvoiceOrder/RefundOrder


def _add(doc: Doc, key: str, amount: float, with_base: bool = True) -> None:
    doc[key] = money(_f(doc, key) + amount)
    if with_base:
        doc["base_" + key] = money(_f(doc, "base_" + key) + amount)


def _touch(order: Doc, now: str) -> None:
    order["updated_at"] = now


# -- requested quantities --------------------------------------------------------------------------


def _requested(raw: list[dict[str, Any]] | None) -> dict[int, float]:
    out: dict[int, float] = {}
    for entry in raw or []:
        out[int(entry["order_item_id"])] = float(entry["qty"])  # PHP keyed array: the last one wins
    return out


def _spread_to_money_rows(requested: dict[int, float], items: list[Doc]) -> dict[int, float]:
    """Map requested ids onto the rows that carry money (configurable child -> parent, bundle parent
    -> its children in proportion)."""
    by_id = {r["item_id"]: r for r in items}
    out: dict[int, float] = {}
    for iid, qty in requested.items():
        row = by_id.get(iid)
        if row is None:
            continue
        parent = parent_of(row, items)
        if parent is not None and parent["product_type"] == "configurable":
            out.setdefault(parent["item_id"], qty)
        elif row["product_type"] == "bundle":
            for child in children_of(row, items):
                ratio = _f(child, "qty_ordered") / max(_f(row, "qty_ordered"), EPS)
                out.setdefault(child["item_id"], qty * ratio)
        else:
            out[iid] = qty
    return out


def _dummy_qty(row: Doc, items: list[Doc], qtys: dict[int, float]) -> float:
    """Quantity of a dummy row in a document, derived from the money rows."""
    if row["product_type"] == "bundle":
        for child in children_of(row, items):
            if child["item_id"] in qtys:
                ratio = _f(child, "qty_ordered") / max(_f(row, "qty_ordered"), EPS)
                return qtys[child["item_id"]] / ratio
        return 0.0
    parent = parent_of(row, items)
    return qtys.get(parent["item_id"], 0.0) if parent is not None else 0.0


def _part(row: Doc, key: str, done_key: str, qty: float, remaining: float) -> float:
    """Amount of ``key`` for ``qty`` units; the last part takes the remainder so cents add up."""
    total = _f(row, key)
    if qty >= remaining - EPS:
        return money(total - _f(row, done_key))
    return money(total * qty / max(_f(row, "qty_ordered"), EPS))


def _doc_item(row: Doc, qty: float, parent_id: int, entity_id: int, parts: dict[str, float] | None) -> Doc:
    item: Doc = {
        "base_price": row.get("base_price", 0.0),
        "entity_id": entity_id,
        "name": row.get("name"),
        "parent_id": parent_id,
        "price": row.get("price", 0.0),
        "product_id": row.get("product_id"),
        "sku": row["sku"],
        "order_item_id": row["item_id"],
        "qty": qty,
    }
    if parts is not None:
        item.update(
            {
                "base_discount_amount": parts["discount"],
                "base_discount_tax_compensation_amount": 0.0,
                "base_price_incl_tax": row.get("base_price_incl_tax", 0.0),
                "base_row_total": parts["row"],
                "base_row_total_incl_tax": money(parts["row"] + parts["tax"]),
                "base_tax_amount": parts["tax"],
                "discount_amount": parts["discount"],
                "discount_tax_compensation_amount": 0.0,
                "price_incl_tax": row.get("price_incl_tax", 0.0),
                "row_total": parts["row"],
                "row_total_incl_tax": money(parts["row"] + parts["tax"]),
                "tax_amount": parts["tax"],
            }
        )
    elif row["product_type"] == "bundle":
        item["base_price_incl_tax"] = row.get("base_price_incl_tax", 0.0)
        item["price_incl_tax"] = row.get("price_incl_tax", 0.0)
    return item


def _document_header(order: Doc, entity_id: int, increment_id: str, now: str) -> Doc:
    shipping_address = (
        order.get("extension_attributes", {})
        .get("shipping_assignments", [{}])[0]
        .get("shipping", {})
        .get("address")
    )
    head: Doc = {
        "base_currency_code": order.get("base_currency_code"),
        "base_to_global_rate": order.get("base_to_global_rate"),
        "base_to_order_rate": order.get("base_to_order_rate"),
        "billing_address_id": order.get("billing_address_id"),
        "created_at": now,
        "entity_id": entity_id,
        "global_currency_code": order.get("global_currency_code"),
        "increment_id": increment_id,
        "order_currency_code": order.get("order_currency_code"),
        "order_id": order["entity_id"],
        "store_currency_code": order.get("store_currency_code"),
        "store_id": order.get("store_id"),
        "store_to_base_rate": order.get("store_to_base_rate"),
        "store_to_order_rate": order.get("store_to_order_rate"),
        "updated_at": now,
    }
    if shipping_address:
        head["shipping_address_id"] = shipping_address["entity_id"]
    return head


def _increment(order: Doc, kind: str, next_id: NextId) -> str:
    store_id = int(order.get("store_id") or 1)
    prefix = "" if store_id == 1 else str(store_id)
    return f"{prefix}{next_id(f'{kind}_seq_{store_id}'):09d}"


def _comment_doc(comment: Any, parent_id: int, now: str, notified: bool, next_id: NextId, kind: str) -> Doc:
    return {
        "comment": str(comment.get("comment", "")),
        "created_at": now,
        "entity_id": next_id(f"{kind}_comment"),
        "is_customer_notified": int(notified),
        "is_visible_on_front": int(comment.get("is_visible_on_front") or 0),
        "parent_id": parent_id,
    }


# -- invoice ---------------------------------------------------------------------------------------


def create_invoice(
    order: Doc,
    items_requested: list[dict[str, Any]] | None,
    *,
    capture: bool,
    notify: bool,
    append_comment: bool,
    comment: dict[str, Any] | None,
    now: str,
    next_id: NextId,
) -> Outcome:
    items: list[Doc] = order["items"]
    messages: list[str] = []
    if order.get("state") in INVOICE_BLOCKED_STATES:
        messages.append(f"An invoice cannot be created when an order has a status of {order.get('status')}")
    elif not can_invoice(order):
        messages.append("The order does not allow an invoice to be created.")
    requested = _requested(items_requested)
    if requested:
        leftover = dict(requested)
        total = 0.0
        for row in items:
            if row["item_id"] in leftover:
                qty = leftover.pop(row["item_id"])
                if qty > qty_to_invoice(row, items) + EPS and is_money_row(row, items):
                    messages.append(
                        "The quantity to invoice must not be greater than the uninvoiced quantity"
                        f' for product SKU "{row["sku"]}".'
                    )
                total += qty
        if leftover:
            messages.append("The invoice contains one or more items that are not part of the original order.")
        elif total <= 0:
            messages.append("The invoice can't be created without products. Add products and try again.")
        qtys = {k: v for k, v in _spread_to_money_rows(requested, items).items() if v > 0}
    else:
        qtys = {r["item_id"]: qty_to_invoice(r, items) for r in items if qty_to_invoice(r, items) > 0}
        if not qtys:
            messages.append("The invoice can't be created without products. Add products and try again.")
    if messages:
        raise bad_request("Invoice Document Validation Error(s):\n" + "\n".join(messages))

    invoice_id = next_id("invoice")
    invoice = _document_header(order, invoice_id, _increment(order, "invoice", next_id), now)
    doc_items: list[Doc] = []
    subtotal = tax = discount = subtotal_incl = total_qty = 0.0
    for row in items:
        if is_money_row(row, items):
            qty = qtys.get(row["item_id"], 0.0)
            if qty <= 0:
                continue
            remaining = qty_to_invoice(row, items)
            parts = {
                "row": _part(row, "row_total", "row_invoiced", qty, remaining),
                "tax": _part(row, "tax_amount", "tax_invoiced", qty, remaining),
                "discount": _part(row, "discount_amount", "discount_invoiced", qty, remaining),
            }
            doc_items.append(_doc_item(row, qty, invoice_id, next_id("invoice_item"), parts))
            row["qty_invoiced"] = _f(row, "qty_invoiced") + qty
            _add(row, "row_invoiced", parts["row"])
            _add(row, "tax_invoiced", parts["tax"])
            _add(row, "discount_invoiced", parts["discount"])
            subtotal += parts["row"]
            tax += parts["tax"]
            discount += parts["discount"]
            subtotal_incl += parts["row"] + money(parts["row"] * _f(row, "tax_percent") / 100.0)
        else:
            qty = _dummy_qty(row, items, qtys)
            if qty <= 0:
                continue
            doc_items.append(_doc_item(row, qty, invoice_id, next_id("invoice_item"), None))
            row["qty_invoiced"] = _f(row, "qty_invoiced") + qty
        total_qty += qty
        row["updated_at"] = now
    shipping = money(_f(order, "shipping_amount") - _f(order, "shipping_invoiced"))
    grand = money(subtotal + tax + shipping - discount)
    invoice.update(
        {
            "base_discount_amount": 0.0 - money(discount),
            "base_grand_total": grand,
            "base_discount_tax_compensation_amount": 0.0,
            "base_shipping_amount": shipping,
            "base_shipping_incl_tax": shipping,
            "base_shipping_tax_amount": 0.0,
            "base_subtotal": money(subtotal),
            "base_subtotal_incl_tax": money(subtotal_incl),
            "base_tax_amount": money(tax),
            "can_void_flag": 0,
            "discount_amount": 0.0 - money(discount),
            "grand_total": grand,
            "discount_tax_compensation_amount": 0.0,
            "shipping_amount": shipping,
            "shipping_discount_tax_compensation_amount": 0.0,
            "shipping_incl_tax": shipping,
            "shipping_tax_amount": 0.0,
            "state": 2,  # InvoiceOrder saves STATE_PAID unconditionally
            "subtotal": money(subtotal),
            "subtotal_incl_tax": money(subtotal_incl),
            "tax_amount": money(tax),
            "total_qty": total_qty,
        }
    )
    if notify:
        invoice["email_sent"] = 1
    # Order totals and payment ("pay()" marks the invoice paid whatever the method).
    for key, amount in (
        ("total_invoiced", grand),
        ("subtotal_invoiced", subtotal),
        ("tax_invoiced", tax),
        ("shipping_invoiced", shipping),
        ("discount_invoiced", -discount),
        ("discount_tax_compensation_invoiced", 0.0),
        ("total_paid", grand),
    ):
        _add(order, key, amount)
    order["total_due"] = order["base_total_due"] = max(
        money(_f(order, "grand_total") - _f(order, "total_paid")), 0.0
    )
    payment = order["payment"]
    _add(payment, "amount_paid", grand)
    _add(payment, "shipping_captured", shipping)
    outcome = Outcome(document=invoice)
    method = PAYMENT_METHODS.get(str(payment.get("method")))
    online = capture and method is not None and method.online and _f(payment, "amount_authorized") > 0
    if online:
        txn = transaction_id(order["entity_id"], f"capture-{invoice_id}")
        invoice["transaction_id"] = txn
        payment["last_trans_id"] = txn
        payment["base_amount_paid_online"] = money(_f(payment, "base_amount_paid_online") + grand)
    _set_state(order, resolve_state(order, in_progress=True))
    _touch(order, now)
    if online:
        outcome.histories.append(
            history(
                order, f'Captured amount of {fmt_money(grand)} online. Transaction ID: "{txn}"', now, next_id
            )
        )
    invoice["items"] = doc_items
    invoice["comments"] = []
    if comment:
        invoice["comments"].append(
            _comment_doc(comment, invoice_id, now, notify and append_comment, next_id, "invoice")
        )
    return outcome


# -- refund (credit memo) ----------------------------------------------------------------------------


def create_refund(
    order: Doc,
    items_requested: list[dict[str, Any]] | None,
    arguments: dict[str, Any] | None,
    *,
    notify: bool,
    append_comment: bool,
    comment: dict[str, Any] | None,
    now: str,
    next_id: NextId,
    auto_return: bool,
) -> Outcome:
    items: list[Doc] = order["items"]
    args = arguments or {}
    messages: list[str] = []
    paid = money(_f(order, "total_paid"))
    if order.get("state") in REFUND_BLOCKED_STATES:
        messages.append(
            f"A creditmemo can not be created when an order has a status of {order.get('status')}"
        )
    elif paid > 0 and abs(paid - _f(order, "total_refunded")) < EPS:
        messages.append("We can't create creditmemo for the order.")
    elif not can_creditmemo(order):
        messages.append("The order does not allow a creditmemo to be created.")

    def refundable(row: Doc) -> float:
        return max(_f(row, "qty_invoiced") - _f(row, "qty_refunded"), 0.0)

    requested = _requested(items_requested)
    by_id = {r["item_id"]: r for r in items}
    if requested:
        for iid in requested:
            if iid not in by_id:
                messages.append(
                    'The creditmemo contains product SKU "" that is not part of the original order.'
                )
        qtys = {k: v for k, v in _spread_to_money_rows(requested, items).items() if v > 0}
        for iid, qty in qtys.items():
            row = by_id[iid]
            if qty > refundable(row) + EPS:
                messages.append(
                    "The quantity to creditmemo must not be greater than the unrefunded quantity"
                    f' for product SKU "{row["sku"]}".'
                )
    else:
        qtys = {r["item_id"]: refundable(r) for r in items if is_money_row(r, items) and refundable(r) > 0}

    ext = args.get("extension_attributes") or {}
    return_ids = [int(i) for i in (ext.get("return_to_stock_items") or [])]
    if any(i not in by_id for i in return_ids):
        messages.append(
            "The return to stock argument contains product item that is not part of the original order"
        )

    allowed_shipping = money(_f(order, "shipping_invoiced") - _f(order, "shipping_refunded"))
    if args.get("shipping_amount") is not None:
        shipping = money(float(args["shipping_amount"]))
        if shipping > allowed_shipping + EPS:
            # Thrown by the shipping total collector while building the memo, not a validation message.
            raise bad_request(
                "Maximum shipping amount allowed to refund is: %1", [fmt_money(allowed_shipping)]
            )
    else:
        shipping = allowed_shipping
    adj_pos = money(float(args.get("adjustment_positive") or 0.0))
    adj_neg = money(float(args.get("adjustment_negative") or 0.0))

    plan: list[tuple[Doc, float, dict[str, float] | None]] = []
    subtotal = tax = discount = subtotal_incl = total_qty = 0.0
    for row in items:
        if is_money_row(row, items):
            qty = min(qtys.get(row["item_id"], 0.0), refundable(row))
            if qty <= 0:
                continue
            remaining = _f(row, "qty_ordered") - _f(row, "qty_refunded")
            parts = {
                "row": _part(row, "row_total", "amount_refunded", qty, remaining),
                "tax": _part(row, "tax_amount", "tax_refunded", qty, remaining),
                "discount": _part(row, "discount_amount", "discount_refunded", qty, remaining),
            }
            plan.append((row, qty, parts))
            subtotal += parts["row"]
            tax += parts["tax"]
            discount += parts["discount"]
            subtotal_incl += parts["row"] + money(parts["row"] * _f(row, "tax_percent") / 100.0)
            total_qty += qty
        else:
            qty = _dummy_qty(row, items, qtys)
            if qty > 0:
                plan.append((row, qty, None))
    grand = money(subtotal + tax + shipping + adj_pos - adj_neg - discount)
    if not messages:
        if grand <= 0:
            messages.append("The credit memo's total must be positive.")
        elif total_qty <= 0 and shipping <= 0:
            messages.append("You can't create a creditmemo without products.")
    if messages:
        raise bad_request("Creditmemo Document Validation Error(s):\n" + "\n".join(messages))

    memo_id = next_id("creditmemo")
    memo = _document_header(order, memo_id, _increment(order, "creditmemo", next_id), now)
    doc_items: list[Doc] = []
    refunded_qty: dict[int, float] = {}
    for row, qty, row_parts in plan:
        item = _doc_item(row, qty, memo_id, next_id("creditmemo_item"), row_parts)
        item["base_cost"] = row.get("base_cost", 0.0)
        doc_items.append(item)
        row["qty_refunded"] = _f(row, "qty_refunded") + qty
        refunded_qty[row["item_id"]] = qty
        if row_parts is not None:
            _add(row, "amount_refunded", row_parts["row"])
            _add(row, "tax_refunded", row_parts["tax"])
            _add(row, "discount_refunded", row_parts["discount"])
        row["updated_at"] = now
    memo.update(
        {
            "adjustment": money(adj_pos - adj_neg),
            "adjustment_negative": adj_neg,
            "adjustment_positive": adj_pos,
            "base_adjustment": money(adj_pos - adj_neg),
            "base_adjustment_negative": adj_neg,
            "base_adjustment_positive": adj_pos,
            "base_discount_amount": 0.0 - money(discount),
            "base_grand_total": grand,
            "base_discount_tax_compensation_amount": 0.0,
            "base_shipping_amount": shipping,
            "base_shipping_incl_tax": shipping,
            "base_shipping_tax_amount": 0.0,
            "base_subtotal": money(subtotal),
            "base_subtotal_incl_tax": money(subtotal_incl),
            "base_tax_amount": money(tax),
            "discount_amount": 0.0 - money(discount),
            "grand_total": grand,
            "discount_tax_compensation_amount": 0.0,
            "shipping_amount": shipping,
            "shipping_incl_tax": shipping,
            "shipping_tax_amount": 0.0,
            "state": 2,
            "subtotal": money(subtotal),
            "subtotal_incl_tax": money(subtotal_incl),
            "tax_amount": money(tax),
        }
    )
    if notify:
        memo["email_sent"] = 1
    for key, amount in (
        ("total_refunded", grand),
        ("total_offline_refunded", grand),
        ("subtotal_refunded", subtotal),
        ("tax_refunded", tax),
        ("shipping_refunded", shipping),
        ("discount_refunded", -discount),
        ("adjustment_positive", adj_pos),
        ("adjustment_negative", adj_neg),
    ):
        _add(order, key, amount)
    _add(order["payment"], "amount_refunded", grand)
    _add(order["payment"], "shipping_refunded", shipping)
    _set_state(order, resolve_state(order, in_progress=False))
    _touch(order, now)
    outcome = Outcome(document=memo)
    outcome.histories.append(history(order, f"We refunded {fmt_money(grand)} offline.", now, next_id, notify))
    memo["items"] = doc_items
    memo["comments"] = []
    if comment:
        memo["comments"].append(
            _comment_doc(comment, memo_id, now, notify and append_comment, next_id, "creditmemo")
        )

    # Stock, as Magento's Inventory (MSI) moves it [I: magento/inventory#3366, AmpersandHQ
    # magento2-disable-stock-reservation#51]: an item returned to stock comes back to the source
    # for its shipped part (the unshipped part only releases its reservation, which is not
    # modelled); an item not returned is deducted from the source for its unshipped part (never
    # shipped, but no longer sold). Returned: the listed order items, or all with auto_return.
    listed = set(return_ids) if return_ids else ({r["item_id"] for r, _, _ in plan} if auto_return else set())
    seen: set[int] = set()
    for row, _, _ in plan:
        for phys in physical_rows(row, items):
            qty = refunded_qty.get(phys["item_id"], 0.0)
            if qty <= 0 or phys["item_id"] in seen or phys["product_type"] not in ("simple", "virtual"):
                continue
            seen.add(phys["item_id"])
            returned = row["item_id"] in listed or phys["item_id"] in listed
            shipped = min(qty, _f(phys, "qty_shipped"))
            delta = shipped if returned else -(qty - shipped)
            if delta:
                reason = "return_to_stock" if returned else "refund_without_return"
                outcome.returns.append((phys["item_id"], phys["sku"], delta, reason))
    return outcome


# -- cancel, hold, unhold, ship, payment at placement ----------------------------------------------


def cancel(order: Doc, now: str) -> bool:
    """``OrderManagement::cancel``: false (not an error) when the order cannot be canceled."""
    if not can_cancel(order):
        return False
    items: list[Doc] = order["items"]
    state = "canceled"
    for row in items:
        if (
            state != "processing"
            and _f(row, "qty_invoiced") - _f(row, "qty_refunded") > 0
            and is_money_row(row, items)
        ):
            state = "processing" if qty_to_ship(row) > 0 else "complete"
        qty = min(qty_to_invoice(row, items), qty_to_ship(row))
        if qty > 0:
            row["qty_canceled"] = _f(row, "qty_canceled") + qty
            row["tax_canceled"] = money(_f(row, "tax_amount") - _f(row, "tax_invoiced"))
            row["updated_at"] = now
    for key, total, done in (
        ("subtotal_canceled", "subtotal", "subtotal_invoiced"),
        ("tax_canceled", "tax_amount", "tax_invoiced"),
        ("shipping_canceled", "shipping_amount", "shipping_invoiced"),
        ("total_canceled", "grand_total", "total_paid"),
    ):
        order[key] = order["base_" + key] = money(_f(order, total) - _f(order, done))
    order["discount_canceled"] = order["base_discount_canceled"] = money(
        abs(_f(order, "discount_amount")) - abs(_f(order, "discount_invoiced"))
    )
    payment = order["payment"]
    payment["amount_canceled"] = payment["base_amount_canceled"] = money(
        _f(payment, "amount_ordered") - _f(payment, "amount_paid")
    )
    _set_state(order, state)
    _touch(order, now)
    return True


def hold(order: Doc, now: str) -> None:
    if not can_hold(order):
        raise bad_request("A hold action is not available.")
    order["hold_before_state"] = order["state"]
    order["hold_before_status"] = order["status"]
    order["state"] = order["status"] = "holded"
    _touch(order, now)


def unhold(order: Doc, now: str) -> None:
    if not can_unhold(order):
        raise bad_request("You cannot remove the hold.")
    order["state"] = order.pop("hold_before_state", "processing")
    order["status"] = order.pop("hold_before_status", STATE_DEFAULT_STATUS[order["state"]])
    _touch(order, now)


def ship(order: Doc, now: str) -> None:
    """Ship everything shippable (control interface only; no shipment documents are kept)."""
    if order.get("state") in ("holded", "payment_review", "canceled", "closed", "complete"):
        raise MagentoError(400, "The order does not allow a shipment to be created.")
    items: list[Doc] = order["items"]
    shipped = False
    for row in items:
        if "parent_item_id" in row or row.get("is_virtual"):
            continue
        qty = qty_to_ship(row)
        if qty <= 0:
            continue
        shipped = True
        ratio = qty / max(_f(row, "qty_ordered"), EPS)
        row["qty_shipped"] = _f(row, "qty_shipped") + qty
        row["updated_at"] = now
        for child in children_of(row, items):
            child["qty_shipped"] = _f(child, "qty_shipped") + _f(child, "qty_ordered") * ratio
            child["updated_at"] = now
    if not shipped:
        raise MagentoError(400, "The order does not allow a shipment to be created.")
    _set_state(order, resolve_state(order, in_progress=True))
    _touch(order, now)


def authorize_at_placement(order: Doc, now: str, next_id: NextId) -> Outcome:
    """A gateway "authorize" payment action: processing, amount authorised, nothing invoiced."""
    payment = order["payment"]
    txn = transaction_id(order["entity_id"], "auth")
    grand = _f(order, "grand_total")
    payment.update({"amount_authorized": grand, "base_amount_authorized": grand, "last_trans_id": txn})
    payment["cc_trans_id"] = txn
    _set_state(order, "processing")
    msg = f'Authorized amount of {fmt_money(grand)}. Transaction ID: "{txn}"'
    return Outcome(histories=[history(order, msg, now, next_id)])


def review_at_placement(order: Doc, now: str, next_id: NextId) -> Outcome:
    outcome = authorize_at_placement(order, now, next_id)
    _set_state(order, "payment_review")
    grand = _f(order, "grand_total")
    outcome.histories.append(
        history(
            order,
            f"Order is suspended as its authorizing amount {fmt_money(grand)} is suspected to be fraudulent.",
            now,
            next_id,
        )
    )
    return outcome
