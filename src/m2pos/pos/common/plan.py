"""The lines of a POS document made from a Magento order or credit memo, before any POS format.

Every POS adapter turns an order into the same list — products (net of discount), "No Product
Found" stand-ins, shipping, tax — and a credit memo into returned lines and a "Refund" line; only
the wire format differs. Money rules:

* A line's money comes from ``Order.lines()``: the configurable parent's row (the child is the
  stock SKU), a bundle's children when they carry the money (dynamic price) or else the parent's
  total spread over the components by their POS price. Each bundle component is its own POS line,
  because a POS has no bundle product.
* Discounts are per line: the unit price is ``(row_total − discount) / qty``. A POS keeps unit
  prices to a few decimals; when ``qty × price`` does not give the row's cents back, the line is
  split in two (``qty − 1`` units and 1 unit) so that the document's total is Magento's to the cent.
  A shipping discount (Magento's discount not on any item) lowers the shipping line.
* Tax, ``tax_mode``:
  ``"pos"`` — the POS computes tax from the document's tax code on its taxable lines (products, "No
  Product Found"); the untaxed helper lines (shipping, refunds) carry their own Magento tax in their
  price, so the total still matches;
  ``"line"`` — every line is net and the whole Magento tax is one tax line (the document itself
  carries a 0 % tax code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Generic, Literal, TypeVar

from m2pos.magento.models import CreditMemo, LineComponent, Order, SaleLine
from m2pos.pos.common.notes import UnmatchedLine

P = TypeVar("P")

TaxMode = Literal["pos", "line"]
Role = Literal["product", "no_product_found", "shipping", "refund", "tax"]

ZERO = Decimal(0)
CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class PlannedLine(Generic[P]):
    role: Role
    qty: Decimal  # negative on a return
    unit_price: Decimal
    product: P | None = None  # the POS product for role "product"; helpers are picked by the adapter
    description: str | None = None  # text to show instead of the product's own (None: the product's)
    sku: str = ""  # the Magento (stock) SKU
    item_id: int | None = None  # the Magento order item
    reserve: bool = False

    @property
    def total(self) -> Decimal:
        return (self.qty * self.unit_price).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Plan(Generic[P]):
    lines: tuple[PlannedLine[P], ...]
    unmatched: tuple[UnmatchedLine, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def split_price(total: Decimal, qty: Decimal) -> list[tuple[Decimal, Decimal]]:
    """(quantity, unit price) parts whose rounded line totals add up to ``total`` (for qty > 0)."""
    if qty <= 0:
        return []
    total = money(total)
    price = (total / qty).quantize(PRICE_PLACES, ROUND_HALF_UP)
    if money(price * qty) == total or qty != qty.to_integral_value() or qty == 1:
        return [(qty, price)]
    first = money(price * (qty - 1))
    return [(qty - 1, price), (Decimal(1), total - first)]


# -- the money of one line and of its bundle components ---------------------------------------------

Amounts = tuple[Decimal, Decimal]  # (net of discount, tax)


def _line_amounts(line: SaleLine) -> Amounts:
    return line.row_total - line.discount_amount, line.tax_amount


def _component_amounts(
    line: SaleLine,
    rows: Mapping[int, Amounts],
    weight: Callable[[LineComponent], Decimal],
) -> list[Amounts]:
    """The money of each component of a bundle line: the children's own rows when they carry money,
    else the line's money spread by ``weight`` (the last component takes the rounding)."""
    own = [rows.get(c.item_id) if c.item_id is not None else None for c in line.components]
    if any(a is not None and (a[0] or a[1]) for a in own):
        return [a if a is not None else (ZERO, ZERO) for a in own]
    net, tax = _line_amounts(line)
    weights = [max(weight(c), ZERO) * c.qty for c in line.components]
    if not any(weights):
        weights = [Decimal(1)] * len(line.components)
    whole = sum(weights, ZERO)
    out: list[Amounts] = []
    spent_net = spent_tax = ZERO
    for index, w in enumerate(weights):
        if index == len(weights) - 1:
            out.append((net - spent_net, tax - spent_tax))
        else:
            part = (money(net * w / whole), money(tax * w / whole))
            spent_net, spent_tax = spent_net + part[0], spent_tax + part[1]
            out.append(part)
    return out


# -- building plans ---------------------------------------------------------------------------------


@dataclass
class _Builder(Generic[P]):
    products: Mapping[str, P | None]
    tax_mode: TaxMode
    reserve: bool
    sign: Decimal = Decimal(1)
    lines: list[PlannedLine[P]] = field(default_factory=list)
    unmatched: list[UnmatchedLine] = field(default_factory=list)

    def goods(self, sku: str, name: str | None, item_id: int | None, qty: Decimal, amounts: Amounts) -> None:
        """A product line (or a "No Product Found" line when the POS lacks ``sku``)."""
        if qty <= 0:
            return
        net, _tax = amounts
        product = self.products.get(sku)
        parts = split_price(net, qty)
        if product is None:
            text = no_product_found_text(sku, name)
            self.unmatched.append(UnmatchedLine(sku, name, qty, parts[0][1] if parts else ZERO))
            for part_qty, price in parts:
                self.lines.append(
                    PlannedLine("no_product_found", self.sign * part_qty, price, None, text, sku, item_id)
                )
            return
        for part_qty, price in parts:
            self.lines.append(
                PlannedLine("product", self.sign * part_qty, price, product, None, sku, item_id, self.reserve)
            )

    def money_only(self, role: Role, amount: Decimal, description: str, qty: Decimal = Decimal(1)) -> None:
        """An untaxed helper line worth ``amount`` in total (its sign follows the document's)."""
        if not amount or qty <= 0:
            return
        for part_qty, price in split_price(abs(amount), qty):
            signed = price if amount > 0 else -price
            self.lines.append(PlannedLine(role, self.sign * part_qty, signed, None, description))

    def plan(self, notes: Sequence[str] = ()) -> Plan[P]:
        return Plan(tuple(self.lines), tuple(self.unmatched), tuple(notes))


def paid_online(order: Order) -> Decimal:
    """What the customer paid (or had authorised) online, at most the grand total: the payment or
    deposit a POS records for the order."""
    payment = order.payment
    paid = order.total_paid
    if not paid and payment is not None:
        paid = payment.amount_paid or payment.amount_authorized
    return max(ZERO, min(paid, order.grand_total)) if order.grand_total else max(ZERO, paid)


def no_product_found_text(sku: str, name: str | None) -> str:
    return f"No Product Found: {sku}" + (f" {name}" if name else "")


def _rows_of_order(order: Order) -> dict[int, Amounts]:
    return {
        i.item_id: (i.row_total - i.discount_amount, i.tax_amount)
        for i in order.items
        if i.item_id is not None
    }


def _rows_of_memo(memo: CreditMemo) -> dict[int, Amounts]:
    return {
        i.order_item_id: (i.row_total - i.discount_amount, i.tax_amount)
        for i in memo.items
        if i.order_item_id is not None
    }


def splits_into_components(line: SaleLine) -> bool:
    """A bundle with components becomes one line per component; any other line is one line."""
    return line.product_type == "bundle" and bool(line.components)


def document_skus(lines: Sequence[SaleLine]) -> list[str]:
    """The SKUs the document of ``lines`` is made of: what to look up in the POS, and nothing more
    (a bundle's own SKU is Magento's composite of its components, never a line)."""
    skus: list[str] = []
    for line in lines:
        skus += [c.sku for c in line.components] if splits_into_components(line) else [line.sku]
    return skus


def _add_goods(
    builder: _Builder[P],
    line: SaleLine,
    rows: Mapping[int, Amounts],
    weight: Callable[[LineComponent], Decimal],
) -> None:
    if splits_into_components(line):
        for component, amounts in zip(line.components, _component_amounts(line, rows, weight), strict=True):
            builder.goods(component.sku, line.name, component.item_id, component.qty, amounts)
    else:
        builder.goods(line.sku, line.name, line.item_id, line.qty, _line_amounts(line))


def shipping_discount(order: Order) -> Decimal:
    """Magento's discount that is on no item: the shipping discount."""
    on_items = sum((line.discount_amount for line in order.lines()), ZERO)
    return max(ZERO, -order.discount_amount - on_items)


def plan_sale(
    order: Order,
    products: Mapping[str, P | None],
    *,
    tax_mode: TaxMode,
    reserve: bool = False,
    weight: Callable[[LineComponent], Decimal] = lambda _c: Decimal(1),
) -> Plan[P]:
    """The lines of the document for ``order``. ``products``: stock SKU → POS product (None: none)."""
    builder: _Builder[P] = _Builder(products, tax_mode, reserve)
    rows = _rows_of_order(order)
    for line in order.lines():
        _add_goods(builder, line, rows, weight)
    shipping = order.shipping_amount - shipping_discount(order)
    if tax_mode == "pos":
        shipping += order.shipping_tax_amount
    if order.shipping_amount or shipping:
        label = order.shipping_description or order.shipping_method or "Shipping"
        builder.money_only("shipping", shipping, f"Shipping: {label}")
    if tax_mode == "line":
        builder.money_only("tax", order.tax_amount, "Magento tax")
    return builder.plan()


def plan_return(
    memo: CreditMemo,
    order: Order,
    products: Mapping[str, P | None],
    restock: frozenset[int],
    *,
    tax_mode: TaxMode,
    weight: Callable[[LineComponent], Decimal] = lambda _c: Decimal(1),
) -> Plan[P]:
    """The lines of the return for ``memo`` (negative quantities).

    Lines whose order item is in ``restock`` come back as products, with their discount (and their
    tax, computed by the POS in ``"pos"`` mode); the others — money only, the goods stay where they
    are — go on the Refund product, each with its own text. Refunded shipping and adjustments go on
    one more Refund line.
    """
    builder: _Builder[P] = _Builder(products, tax_mode, reserve=False, sign=Decimal(-1))
    rows = _rows_of_memo(memo)
    line_tax = ZERO
    for line in memo.lines(order):
        line_tax += line.tax_amount
        whole = line.item_id in restock
        if splits_into_components(line):
            amounts = _component_amounts(line, rows, weight)
            for component, (net, tax) in zip(line.components, amounts, strict=True):
                if whole or component.item_id in restock:
                    builder.goods(component.sku, line.name, component.item_id, component.qty, (net, tax))
                else:
                    _refund_goods(builder, component.sku, line.name, component.qty, net, tax)
        elif whole or any(c.item_id in restock for c in line.components):
            builder.goods(line.sku, line.name, line.item_id, line.qty, _line_amounts(line))
        else:
            net, tax = _line_amounts(line)
            _refund_goods(builder, line.sku, line.name, line.qty, net, tax)
    other = memo.shipping_amount + memo.adjustment_positive - memo.adjustment_negative
    parts = []
    if memo.shipping_amount:
        parts.append(f"shipping {money(memo.shipping_amount)}")
    if memo.adjustment_positive:
        parts.append(f"adjustment refund {money(memo.adjustment_positive)}")
    if memo.adjustment_negative:
        parts.append(f"adjustment fee {money(memo.adjustment_negative)}")
    if tax_mode == "pos":
        other += memo.tax_amount - line_tax  # the shipping tax
    if other:
        builder.money_only("refund", other, "Refund: " + (", ".join(parts) or "other amounts"))
    if tax_mode == "line":
        builder.money_only("tax", memo.tax_amount, "Magento tax")
    return builder.plan()


def _refund_goods(
    builder: _Builder[P], sku: str, name: str | None, qty: Decimal, net: Decimal, tax: Decimal
) -> None:
    amount = net + (tax if builder.tax_mode == "pos" else ZERO)
    text = f"Refund (not restocked): {sku}" + (f" {name}" if name else "")
    builder.money_only("refund", amount, text, qty)


# --- a credit memo on an order still open in the POS ---------------------------------------------
# Nothing left the shop, so instead of a return the open document is lowered to what Magento still
# sells. Everything here is a target, not a delta, so that lowering twice is harmless.

K = TypeVar("K")


def still_sold(order: Order, memo: CreditMemo) -> list[tuple[str, str, Decimal]]:
    """(SKU, line name, quantity) that Magento still sells of each document line of ``order`` once
    ``memo`` is refunded (a split bundle: its components), whether or not ``order`` already counts
    the memo in ``qty_refunded``."""
    refunded_now: dict[int, Decimal] = {}
    for line in memo.lines(order):
        if line.item_id is not None:
            refunded_now[line.item_id] = refunded_now.get(line.item_id, ZERO) + line.qty
        for component in line.components:
            if component.item_id is not None and component.item_id != line.item_id:
                refunded_now[component.item_id] = refunded_now.get(component.item_id, ZERO) + component.qty
    out: list[tuple[str, str, Decimal]] = []
    for line in order.lines():
        parts = (
            [(c.sku, c.item_id) for c in line.components]
            if splits_into_components(line)
            else [(line.sku, line.item_id)]
        )
        for sku, item_id in parts:
            item = order.item(item_id) if item_id is not None else None
            if item is None:
                continue
            refunded = max(item.qty_refunded, refunded_now.get(item_id or 0, ZERO))
            out.append((sku, line.name or "", max(ZERO, item.qty_ordered - refunded - item.qty_canceled)))
    return out


def cuts_to_target(lines: Sequence[tuple[K, Decimal]], target: Decimal) -> list[tuple[K, Decimal]]:
    """The document lines ``(id, quantity)`` of one product, cut from the last one until they hold
    ``target`` in all: ``(id, new quantity)`` for each line that changes (0: delete it)."""
    excess = sum((qty for _id, qty in lines), ZERO) - target
    changes: list[tuple[K, Decimal]] = []
    for line_id, qty in reversed(lines):
        if excess <= 0:
            break
        cut = min(excess, qty)
        changes.append((line_id, qty - cut))
        excess -= cut
    return changes


def memo_refund_line(memo: CreditMemo, reference: str, *, tax_mode: TaxMode) -> PlannedLine[P] | None:
    """The refunded shipping and adjustments of ``memo`` as one negative Refund line (with the
    ``"line"`` tax mode, where the document's tax is one line, the refunded tax too); its
    description names the memo, so that a document already carrying it is recognised."""
    refund = memo.shipping_amount + memo.adjustment_positive - memo.adjustment_negative
    if tax_mode == "line":
        refund += memo.tax_amount
    if refund == 0:
        return None
    return PlannedLine(
        "refund", Decimal(-1), refund, None, f"Credit memo {reference}: refunded shipping and adjustments"
    )
