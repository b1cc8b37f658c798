"""The one port every POS adapter implements. The engine knows this and nothing else of a POS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from m2pos.magento.models import CreditMemo, Order


@dataclass(frozen=True)
class PosDocument:
    """A document in the POS: what an order became (order, invoice, sale, quote) or a return."""

    id: str
    reference: str  # the Magento increment_id it came from; how it is found again after a crash
    kind: str


class PosError(Exception):
    """A POS call failed. ``retryable``: trying again later may succeed (outage, rate limit)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable

    def while_doing(self, doing: str) -> PosError:
        """This error with what m2pos was doing in front, keeping whether a retry can help."""
        message = f"{doing}: {self.message}"
        return PosError(message, retryable=True) if self.retryable else PosRejected(message)


class PosRejected(PosError):
    """The POS refused the document; a person must fix the data or the POS set-up, then retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@runtime_checkable
class PointOfSale(Protocol):
    kind: str

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        """Create the document for ``order``; ``reference`` is its Magento increment_id."""
        ...

    async def find_document(self, reference: str) -> PosDocument | None:
        """The document created for ``reference``, if any (crash recovery)."""
        ...

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        """Carry a Magento cancellation (void, or a return for documents that cannot be voided)."""
        ...

    async def create_return(
        self,
        memo: CreditMemo,
        order: Order,
        original: PosDocument,
        reference: str,
        restock: frozenset[int],
    ) -> PosDocument:
        """Carry a credit memo as a return against ``original``; ``reference`` is the memo's number.

        ``restock``: the order item ids (``order_item_id`` of the memo's items) whose quantity goes
        back into the POS's stock; the other returned lines are money only.
        """
        ...

    async def find_return(self, reference: str) -> PosDocument | None: ...

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """On-hand quantity available to sell online, by SKU (for the stock sync)."""
        ...

    async def check(self) -> str:
        """Reach the POS; return a one-line description, raise :class:`PosError` when unusable."""
        ...

    async def aclose(self) -> None: ...
