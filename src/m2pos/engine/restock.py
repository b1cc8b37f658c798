"""Which returned items go back into the POS's stock (``[credit_memos] restock``).

Magento's REST API takes "return to stock" as an input when a credit memo is created but does not
report it on the credit memo. With ``restock = "as_magento"`` m2pos reads it from what the credit
memo did to Magento's stock, as the stock sync observes it (docs/credit-memos.md). With Magento's
Inventory (MSI), for a refunded quantity q of which s was shipped and u = q − s was not:

* returned to stock: the shipped part comes back to the source (+s); the unshipped part only
  releases its reservation (source unchanged) → the source moves by +s;
* not returned: nothing comes back for the shipped part; the unshipped part, never shipped but
  no longer sold, is deducted from the source (−u) → the source moves by −u.

The two differ whenever q > 0, so the movement seen after the credit memo tells them apart. When
it matches neither (another movement of the same SKU in the same interval, such as a shipment),
m2pos does not restock and says so on the credit memo's timeline. It does the same when no read
can have seen the credit memo's movement: m2pos's first stock read came after the credit memo (no
baseline before it), or the read after it followed a stock write cut off by a crash (``stock.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from m2pos.engine.context import StoreContext
from m2pos.engine.stock import FIRST_READ, UNREADABLE
from m2pos.magento.models import CreditMemo, Order

# Magento stamps in whole seconds: a read in the same second as the memo may have missed it.
_STAMP_RESOLUTION = timedelta(seconds=1)


def _signed(quantity: Decimal) -> str:
    if quantity == 0:
        return "0"
    text = format(abs(quantity).normalize(), "f")
    return f"+{text}" if quantity > 0 else f"-{text}"


@dataclass(frozen=True)
class RestockDecision:
    items: frozenset[int]  # order item ids whose quantity goes back into the POS's stock
    pending: bool = False  # no stock read since the memo yet: decide at the next cycle
    notes: tuple[str, ...] = ()


def decide_restock(ctx: StoreContext, memo: CreditMemo, order: Order) -> RestockDecision:
    lines = memo.lines(order)
    every = frozenset(line.item_id for line in lines if line.item_id is not None)
    policy = ctx.settings.credit_memos.restock
    if policy == "always":
        return RestockDecision(every, notes=("restock = always",))
    if policy == "never":
        return RestockDecision(frozenset(), notes=("restock = never",))

    source = ctx.settings.inventory.source_code
    created = memo.created_at
    last_read = ctx.ledger.last_stock_read(source)
    if created is None or last_read is None or last_read < created + _STAMP_RESOLUTION:
        return RestockDecision(frozenset(), pending=True)
    blind = _blind_spot(ctx, source, created)
    if blind is not None:
        return RestockDecision(
            frozenset(), notes=(f"{blind}. Not restocked in the POS: check and adjust it there.",)
        )
    tracked = ctx.ledger.stock_rows(source)
    restocked: set[int] = set()
    notes: list[str] = []
    for line in lines:
        verdicts = []
        for component in line.components:
            if component.sku not in tracked:
                verdicts.append(False)
                notes.append(f"{component.sku}: not in both Magento and the POS, so not restocked")
                continue
            item = order.item(component.item_id) if component.item_id is not None else None
            shipped = min(component.qty, item.qty_shipped if item else Decimal(0))
            unshipped = component.qty - shipped
            movements = ctx.ledger.stock_movements(source, component.sku, created)
            if any(m.observed_to < created + _STAMP_RESOLUTION for m in movements):
                # A read in the credit memo's own second saw this SKU move: before or after it?
                verdicts.append(False)
                notes.append(
                    f"{component.sku}: Magento's stock moved within the second of the credit memo, so "
                    "m2pos cannot tell whether it was returned to stock. Not restocked in the POS: check "
                    "and adjust it there."
                )
                continue
            moved = sum((Decimal(m.delta) for m in movements), Decimal(0))
            if moved == shipped and moved != -unshipped:
                verdicts.append(True)
                notes.append(f"{component.sku}: Magento's stock moved by {_signed(moved)}: returned to stock")
            elif moved == -unshipped:
                verdicts.append(False)
                notes.append(
                    f"{component.sku}: Magento's stock moved by {_signed(moved)}: not returned to stock"
                )
            else:
                verdicts.append(False)
                notes.append(
                    f"{component.sku}: Magento's stock moved by {_signed(moved)}, which matches neither a "
                    f"return ({_signed(shipped)}) nor no return ({_signed(-unshipped)}); another movement of "
                    "the same SKU happened at the same time. Not restocked in the POS: check and adjust "
                    "it there."
                )
        if line.item_id is not None and verdicts and all(verdicts):
            restocked.add(line.item_id)
    return RestockDecision(frozenset(restocked), notes=tuple(notes))


def _blind_spot(ctx: StoreContext, source: str, created: datetime) -> str | None:
    """Why no stock read can have seen what the credit memo did to Magento's stock (None: one did).

    Magento stamps ``created`` in whole seconds: the credit memo happened within the second after it.
    """
    first = ctx.ledger.marker(FIRST_READ.format(source=source))
    if first is None or first.at >= created:
        return (
            "m2pos first read Magento's stock after this credit memo was created, so it cannot tell "
            "whether the items were returned to stock"
        )
    gap = ctx.ledger.marker(UNREADABLE.format(source=source))
    if gap is not None and gap.at >= created:
        before = datetime.fromisoformat(gap.detail) if gap.detail else None
        if before is None or before < created + _STAMP_RESOLUTION:
            return (
                "a stock write of m2pos was cut off (a crash) around the time of this credit memo, so the "
                "next stock read could not tell Magento's movements from m2pos's own write"
            )
    return None
