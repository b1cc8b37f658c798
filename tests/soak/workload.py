"""What the shop does in a soak run: the orders (a realistic mix), and what happens to each later.

The plan is drawn from one seeded RNG, so a seed replays it. Every order knows the Order Download Mode
in force when it is placed, and from that (not from m2pos) whether it must reach the POS.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

AUTO_INVOICE, WAIT_FOR_INVOICE = "auto_invoice", "wait_for_invoice"

# The Magento demo catalogue (the OnSite demo data mirrors it, docs/sandbox-onsite.md; the other POS
# sandboxes hold a part of it, the rest are "No Product Found" lines there).
SIMPLE = (
    "24-MB01", "24-UB02", "24-UG06", "24-WB04", "ABC/10", "CAP-BASE-NVY", "LAMP/E27-WHT", "MUG-001",
    "MUG-350/BLK", "NB-A5/DOT", "PEN-GEL-07", "SOCK-WOOL-M", "TEA-EARL-100", "UMB-COMPACT",
)  # fmt: skip
CHILDREN = (
    "MH01-L-Black", "MH01-M-Gray", "MH01-S-Gray", "MJ04-L-Red", "MJ04-XL-Black", "WP07-M-Blue",
    "WP07-S-Black", "WS12-M-Blue", "WS12-S-Green",
)  # fmt: skip
BUNDLES = ("24-WG080", "OFFICE-KIT")
VIRTUAL = ("GIFTWRAP", "WARRANTY-2Y")
UNKNOWN = ("HEADPH-BT/2", "CANDLE-SOY-L", "WS12-L-Green")  # not in OnSite: "No Product Found" lines
KINDS = ("simple", "configurable", "bundle", "mixed", "virtual", "unknown")


@dataclass
class Planned:
    """One order of the run: how it is placed, and what the shop does with it later."""

    kind: str
    payment: str
    guest: bool
    customer_index: int
    items: list[dict[str, Any]]
    coupon: float = 0.0
    mode: str = AUTO_INVOICE  # the Order Download Mode in force when it is placed
    cancel_after_download: bool = False
    cancel_before_download: bool = False
    shop_invoices: bool = False  # Wait for Invoice: the shop invoices it in Magento
    convert: bool = False  # OnSite: staff turn the Order into an invoice at the counter
    refund: str | None = None  # "full" | "partial"
    return_to_stock: bool = False
    # What happened:
    entity_id: int = 0
    number: str = ""
    cancelled: bool = False
    shop_invoiced: bool = False
    converted: bool = False
    memo_id: int | None = None
    memo_number: str = ""

    @property
    def eligible(self) -> bool:
        """m2pos must download it. Auto-Invoice: paid (authorised for the total, or free) and not
        invoiced elsewhere; Wait for Invoice: a non-zero invoice. Never when cancelled first."""
        if self.cancel_before_download:
            return False
        if self.mode == AUTO_INVOICE:
            return self.payment in ("authorised", "free")
        return self.payment == "captured" or (self.shop_invoices and self.payment != "free")

    @property
    def m2pos_invoices(self) -> bool:
        """Auto-Invoice: m2pos invoices it after the download (not when cancelled meanwhile)."""
        return self.mode == AUTO_INVOICE and self.eligible and not self.cancel_after_download

    @property
    def magento_invoices(self) -> int:
        """How many invoices Magento must show for it at the end."""
        invoiced_elsewhere = self.payment == "captured" or self.shop_invoices
        return int(self.m2pos_invoices) + int(invoiced_elsewhere and not self.cancel_before_download)

    @property
    def pending(self) -> bool:
        """The shop still has something to do with it."""
        return (
            (self.cancel_after_download and not self.cancelled)
            or (self.cancel_before_download and not self.cancelled)
            or (self.shop_invoices and not self.shop_invoiced)
            or (self.convert and not self.converted)
            or (self.refund is not None and self.memo_id is None)
        )


def _items(rng: random.Random, kind: str) -> list[dict[str, Any]]:
    def line(sku: str, most: int = 3) -> dict[str, Any]:
        return {"sku": sku, "qty": rng.randint(1, most)}

    simple = [line(s) for s in rng.sample(SIMPLE, rng.choice((1, 1, 2, 3)))]
    if kind == "configurable":
        return [line(s, 2) for s in rng.sample(CHILDREN, rng.choice((1, 1, 2)))]
    if kind == "bundle":
        return [line(rng.choice(BUNDLES), 1)]
    if kind == "mixed":
        return [simple[0], line(rng.choice(CHILDREN), 1), line(rng.choice(BUNDLES), 1)]
    if kind == "virtual":
        return [line(rng.choice(VIRTUAL), 1), *simple[:1]]
    if kind == "unknown":
        return [line(rng.choice(UNKNOWN), 2), *simple[:1]]
    return simple


def plan_orders(
    rng: random.Random, count: int, *, converts: bool = False, switch_at: int | None = None
) -> list[Planned]:
    """``count`` orders; from order ``switch_at`` on, the shop has switched to Wait for Invoice."""
    payments = ("authorised", "free", "captured", "checkmo", "payment_review")
    plan = []
    for n in range(count):
        kind = rng.choices(KINDS, weights=(38, 22, 12, 10, 6, 12))[0]
        payment = rng.choices(payments, weights=(84, 4, 4, 6, 2))[0]
        plan.append(
            Planned(
                kind=kind,
                payment=payment,
                guest=rng.random() < 0.25,
                customer_index=rng.randint(1, 80),
                items=_items(rng, kind),
                coupon=10.0 if payment != "free" and rng.random() < 0.1 else 0.0,
                mode=WAIT_FOR_INVOICE if switch_at is not None and n >= switch_at else AUTO_INVOICE,
            )
        )
    auto = [p for p in plan if p.mode == AUTO_INVOICE]
    wait = [p for p in plan if p.mode == WAIT_FOR_INVOICE]
    paid = [p for p in auto if p.payment == "authorised"]
    rng.shuffle(paid)
    cancels = max(2, len(auto) // 125)
    for p in paid[:cancels]:
        p.cancel_after_download = True  # its invoice refused (InvoiceGate), then cancelled by the shop
    rest = paid[cancels:]
    for p in rest[: max(4, len(auto) // 16)]:
        p.refund = rng.choice(("full", "partial"))
        p.return_to_stock = rng.random() < 0.5
    if converts:
        # Picked up at the counter, some of them refunded afterwards (a return invoice).
        for p in rest[max(4, len(auto) // 16) - max(1, len(auto) // 300) :][: max(2, len(auto) // 100)]:
            p.convert = True
    for p in auto:
        if p.payment == "checkmo" and rng.random() < 0.3:
            p.cancel_before_download = True  # unpaid, then cancelled: never downloaded
    captured = [p for p in auto if p.payment == "captured"]
    for p in captured[: max(1, len(captured) // 5)]:
        p.refund, p.return_to_stock = "full", True  # a memo of an order m2pos never downloaded
    for p in wait:
        # The shop invoices most of them; of the others, some are cancelled before any invoice.
        if p.payment in ("authorised", "checkmo", "free") and rng.random() < 0.8:
            p.shop_invoices = True
        elif p.payment == "authorised" and rng.random() < 0.5:
            p.cancel_before_download = True
        if p.eligible and p.payment != "free" and rng.random() < 0.06:
            p.refund = rng.choice(("full", "partial"))
            p.return_to_stock = rng.random() < 0.5
    return plan
