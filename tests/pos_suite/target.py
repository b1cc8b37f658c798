"""What the cross-POS scenario suite needs from a POS under test (one implementation per POS in
``targets/``): its ``[pos]`` settings, and what m2pos left in its sandbox, in common terms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from m2pos.sandbox._faults import FaultSwitches


@dataclass(frozen=True)
class SeenLine:
    sku: str | None  # the POS product's SKU (by the adapter's SKU field); None: a money-only line
    quantity: Decimal
    description: str  # e.g. "No Product Found: HEADPH-BT/2 Headphones"


@dataclass(frozen=True)
class SeenDocument:
    id: str
    kind: str  # what the POS calls it: "invoice", "order", "sale", "quote", "sales_order"
    cancelled: bool  # voided, or fully returned, as this POS carries a cancellation
    lines: tuple[SeenLine, ...]
    customer_email: str | None

    def product_lines(self) -> dict[str, Decimal]:
        """SKU → quantity over the product lines."""
        out: dict[str, Decimal] = {}
        for line in self.lines:
            if line.sku is not None:
                out[line.sku] = out.get(line.sku, Decimal(0)) + line.quantity
        return out


class PosUnderTest(Protocol):
    kind: str
    takes_stock: bool  # the document type moves stock when made (an invoice or a sale, not a quote)
    unknown_sku: str  # a Magento demo SKU this POS's demo data lacks ("No Product Found")

    def pos_settings(self) -> dict[str, Any]:
        """The ``[pos]`` table of m2pos.toml for this sandbox and variant."""
        ...

    def documents(self, reference: str) -> list[SeenDocument]:
        """Every document m2pos made for this Magento order number (not counting returns)."""
        ...

    @property
    def switches(self) -> FaultSwitches:
        """The sandbox's fault and counter switches."""
        ...

    def credit_memo_carried(self, order_reference: str, memo_reference: str) -> bool: ...

    def returns(self, memo_reference: str) -> int:
        """How many return documents carry this credit memo (0 where it lowered an open document)."""
        ...

    def restocked(self, memo_reference: str) -> Mapping[str, Decimal]:
        """SKU → quantity that the credit memo's return put back into stock (empty: none)."""
        ...

    def available(self, sku: str) -> Decimal | None:
        """What the stock sync should send to Magento for this SKU (None: not an inventoried product)."""
        ...
