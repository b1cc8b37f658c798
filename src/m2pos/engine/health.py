"""Whether Magento and the POS answer, as the sync last found them: ledger markers the web console's
status page reads (``health:magento``, ``health:pos``; detail ``ok`` or what went wrong).

The POS is watched call by call (:class:`WatchedPos` wraps the adapter): any answer means it is
reachable, a retryable ``PosError`` (outage, timeout, no seat) means it is not. A refusal of one
document (``PosRejected``) says nothing about reachability. Magento is judged by the cycle's reads.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from m2pos.engine.context import Clock
from m2pos.ledger import Ledger
from m2pos.magento.models import CreditMemo, Order
from m2pos.pos import PointOfSale, PosDocument, PosError, PosRejected

MAGENTO, POS = "health:magento", "health:pos"
OK = "ok"
_REWRITE_SECONDS = 5.0

T = TypeVar("T")


def record_magento_health(ledger: Ledger, errors: Sequence[str], at: Clock) -> None:
    """After a cycle: Magento answered every read, or the first read that failed."""
    failed = [error for error in errors if "Magento" in error]
    ledger.set_marker(MAGENTO, at(), failed[0] if failed else OK)


class WatchedPos:
    """A POS adapter whose every call notes in the ledger whether the POS answered."""

    def __init__(self, inner: PointOfSale, ledger: Ledger, clock: Clock) -> None:
        self.inner = inner
        self.kind = inner.kind
        self._ledger = ledger
        self._clock = clock
        self._written: tuple[str, float] | None = None  # detail, time.monotonic() of the last write

    async def _watch(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await call()
        except PosRejected:
            self._note(OK)  # it answered, with a refusal
            raise
        except PosError as error:
            if error.retryable:
                self._note(error.message)
            raise
        self._note(OK)
        return result

    def _note(self, detail: str) -> None:
        # A change is written at once; the same answer again at most every few seconds, not per call.
        now = time.monotonic()
        if self._written is None or self._written[0] != detail or now - self._written[1] >= _REWRITE_SECONDS:
            self._ledger.set_marker(POS, self._clock(), detail)
            self._written = (detail, now)

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        return await self._watch(lambda: self.inner.create_document(order, reference))

    async def find_document(self, reference: str) -> PosDocument | None:
        return await self._watch(lambda: self.inner.find_document(reference))

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        await self._watch(lambda: self.inner.cancel_document(document, order))

    async def create_return(
        self,
        memo: CreditMemo,
        order: Order,
        original: PosDocument,
        reference: str,
        restock: frozenset[int],
    ) -> PosDocument:
        return await self._watch(lambda: self.inner.create_return(memo, order, original, reference, restock))

    async def find_return(self, reference: str) -> PosDocument | None:
        return await self._watch(lambda: self.inner.find_return(reference))

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        return await self._watch(lambda: self.inner.stock_levels(skus))

    async def check(self) -> str:
        return await self._watch(self.inner.check)

    async def aclose(self) -> None:
        await self.inner.aclose()
