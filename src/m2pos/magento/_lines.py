"""Merging Magento's parent/child item rows into sellable lines, without counting money twice.

Magento stores a configurable product as two rows: the parent (``product_type="configurable"``)
carries the money and the child (``simple``, ``parent_item_id`` set) is the stock SKU. A bundle
is a parent with one child per component; with dynamic pricing the children carry the money,
with fixed pricing the parent does (domain notes §5, peers §0.7). Invoice and credit-memo items
have neither ``product_type`` nor ``parent_item_id``, so their rows are mapped through
``order_item_id`` to the order's items before merging.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

_ZERO = Decimal(0)
_PRICE_PLACES = Decimal("0.0001")  # Magento keeps 4 decimal places


class LineComponent(BaseModel):
    """A stock SKU that a line moves."""

    model_config = ConfigDict(frozen=True)

    item_id: int | None
    sku: str
    product_id: int | None
    qty: Decimal


class SaleLine(BaseModel):
    """One line as the customer bought it.

    ``item_id`` is the order item that represents the line (the parent for configurables and
    bundles), which is the id to invoice or refund. ``sku`` is the stock SKU for simple and
    configurable lines (the child's) and the bundle's own SKU for bundles; ``components`` always
    lists the stock SKUs to move, so stock code can ignore product types.
    """

    model_config = ConfigDict(frozen=True)

    item_id: int | None
    sku: str
    name: str | None
    product_type: str | None
    qty: Decimal
    price: Decimal
    row_total: Decimal
    row_total_incl_tax: Decimal
    tax_amount: Decimal
    discount_amount: Decimal
    components: tuple[LineComponent, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """The fields the merge needs, taken from an order, invoice or credit-memo item."""

    item_id: int | None  # the *order* item id
    parent_item_id: int | None
    product_type: str | None
    sku: str
    name: str | None
    product_id: int | None
    qty: Decimal
    price: Decimal
    row_total: Decimal
    row_total_incl_tax: Decimal
    tax_amount: Decimal
    discount_amount: Decimal

    @property
    def carries_money(self) -> bool:
        return any(v != _ZERO for v in (self.row_total, self.tax_amount, self.discount_amount))


def _component(row: Row, qty: Decimal | None = None) -> LineComponent:
    return LineComponent(
        item_id=row.item_id, sku=row.sku, product_id=row.product_id, qty=row.qty if qty is None else qty
    )


def _line(root: Row, money_rows: Sequence[Row], components: Iterable[LineComponent], sku: str) -> SaleLine:
    row_total = sum((r.row_total for r in money_rows), _ZERO)
    if len(money_rows) == 1:
        price = money_rows[0].price
    else:
        price = (row_total / root.qty).quantize(_PRICE_PLACES) if root.qty else _ZERO
    return SaleLine(
        item_id=root.item_id,
        sku=sku,
        name=root.name,
        product_type=root.product_type,
        qty=root.qty,
        price=price,
        row_total=row_total,
        row_total_incl_tax=sum((r.row_total_incl_tax for r in money_rows), _ZERO),
        tax_amount=sum((r.tax_amount for r in money_rows), _ZERO),
        discount_amount=sum((r.discount_amount for r in money_rows), _ZERO),
        components=tuple(components),
    )


def merge_rows(rows: Sequence[Row], *, skip_empty: bool = False) -> tuple[SaleLine, ...]:
    """Merge rows into lines, in the order of their parent rows.

    Money comes from exactly one level: the children of a bundle when any of them carries money
    (dynamic price), otherwise the parent. A child whose parent is absent stands alone.
    ``skip_empty`` drops lines with no quantity and no money (credit memos list untouched items).
    """
    present = {r.item_id for r in rows if r.item_id is not None}
    children: dict[int, list[Row]] = {}
    roots: list[Row] = []
    for row in rows:
        if row.parent_item_id is not None and row.parent_item_id in present:
            children.setdefault(row.parent_item_id, []).append(row)
        else:
            roots.append(row)
    lines: list[SaleLine] = []
    for root in roots:
        kids = children.get(root.item_id, []) if root.item_id is not None else []
        if not kids:
            line = _line(root, [root], [_component(root)], root.sku)
        elif root.product_type == "bundle":
            money = kids if any(k.carries_money for k in kids) else [root]
            line = _line(root, money, [_component(k) for k in kids], root.sku)
        else:
            # Configurable (and any other parent type): the parent carries the money and, for a
            # configurable, the single child is the stock SKU.
            sku = kids[0].sku if len(kids) == 1 else root.sku
            line = _line(root, [root], [_component(k) for k in kids], sku)
        if skip_empty and line.qty == _ZERO and line.row_total == _ZERO and line.tax_amount == _ZERO:
            continue
        lines.append(line)
    return tuple(lines)
