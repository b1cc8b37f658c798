"""The invariants of a soak run, order by order, from the outside: the POS sandbox (through its
``PosUnderTest``), Magento over REST, and the ledger.

* an eligible order is in the POS exactly once (one live document; half-made ones m2pos voided are
  counted, not doubled), an ineligible one never;
* an order cancelled after download has its document cancelled as that POS cancels;
* Magento shows exactly the invoices it must: one by m2pos per auto-invoiced order, none by m2pos
  for any other;
* every credit memo of a downloaded order is carried, by at most one return document; none of an
  order m2pos never downloaded;
* the ledger has no unfinished write and agrees: every eligible order transferred with its POS
  document, no ineligible one with a document, no item left to retry;
* stock, where the document takes it: the POS's stock moved by exactly the live documents' lines and
  the credit memos' restocks, and Magento shows what the POS has (the stock sync).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from m2pos.ledger import OrderStatus
from tests.engine import invariants
from tests.soak.run import SoakShop, live
from tests.soak.workload import Planned

ACTIVE = (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def problem(self, number: str, text: str) -> None:
        self.problems.append(f"order {number}: {text}")


def check(shop: SoakShop, plan: list[Planned], initial_stock: dict[str, Decimal]) -> Report:
    report = Report()
    pos = shop.pos
    invoices = invariants.magento_invoices(shop.store)
    moved: Counter[str] = Counter()  # SKU → quantity the live documents took, minus restocks
    for p in plan:
        report.counts["placed"] += 1
        report.counts[f"{p.mode} orders"] += 1
        documents = pos.documents(p.number)
        alive = live(documents)
        got_invoices = len(invoices.get(p.entity_id, []))
        if got_invoices != p.magento_invoices:
            report.problem(p.number, f"Magento has {got_invoices} invoices, expected {p.magento_invoices}")
        if not p.eligible:
            report.counts["not eligible"] += 1
            report.counts["cancelled before download"] += p.cancel_before_download
            if documents:
                report.problem(
                    p.number, f"not eligible ({p.mode}, {p.payment}) but in the POS: {ids(documents)}"
                )
            if p.memo_number and pos.returns(p.memo_number):
                report.problem(
                    p.number, f"credit memo {p.memo_number} of an order never downloaded was carried"
                )
            continue
        report.counts["half-made documents voided"] += len(documents) - len(alive) - p.cancel_after_download
        if p.cancel_after_download:
            report.counts["cancelled after download"] += 1
            if alive or not documents:
                report.problem(
                    p.number, f"cancelled after download: documents {ids(documents)}, live {ids(alive)}"
                )
            continue
        if len(alive) != 1:
            report.problem(p.number, f"in the POS {len(alive)} times: {ids(documents)}")
            continue
        report.counts["in the POS"] += 1
        report.counts[f"{p.kind} orders"] += 1
        report.counts["guest orders"] += p.guest
        report.counts["zero-total orders"] += p.payment == "free"
        if pos.takes_stock:
            moved.update(alive[0].product_lines())
        if p.memo_id is not None:
            report.counts[f"{p.refund} credit memos"] += 1
            returns = pos.returns(p.memo_number)
            if not pos.credit_memo_carried(p.number, p.memo_number):
                report.problem(p.number, f"credit memo {p.memo_number} was not carried")
            elif returns > 1:
                report.problem(p.number, f"credit memo {p.memo_number} made {returns} return documents")
            restocked = pos.restocked(p.memo_number)
            if restocked and not p.return_to_stock:
                report.problem(p.number, f"credit memo {p.memo_number} restocked {dict(restocked)} unasked")
            moved.subtract(restocked)
    report.problems += _ledger_problems(shop, plan)
    if pos.takes_stock:
        report.problems += _stock_problems(shop, initial_stock, moved, report)
    return report


def _ledger_problems(shop: SoakShop, plan: list[Planned]) -> list[str]:
    problems: list[str] = []
    ledger = shop.store.ledger()
    try:
        intents = ledger.open_intents()
        if intents:
            problems.append("open intents left: " + ", ".join(f"{i.action}:{i.reference}" for i in intents))
        by_id = {p.entity_id: p for p in plan}
        for row in ledger.list_orders(limit=1_000_000):
            p = by_id.get(row.magento_entity_id)
            if p is None:
                problems.append(f"order {row.increment_id} is in the ledger but not in the run")
            elif p.eligible and (row.status != OrderStatus.TRANSFERRED or row.pos_document_id is None):
                problems.append(
                    f"order {p.number}: ledger {row.status}, POS document {row.pos_document_id}: "
                    f"{row.last_error}"
                )
            elif not p.eligible and row.pos_document_id is not None:
                problems.append(
                    f"order {p.number}: not eligible, but the ledger has document {row.pos_document_id}"
                )
            elif not p.eligible and row.status in ACTIVE:
                problems.append(f"order {p.number}: not eligible, but still {row.status} ({row.last_error})")
        missing = [p.number for p in plan if p.eligible and ledger.order(p.entity_id) is None]
        if missing:
            problems.append(f"eligible orders missing from the ledger: {missing[:20]}")
        memos = {p.memo_id: p for p in plan if p.memo_id is not None}
        for memo in ledger.list_credit_memos(limit=1_000_000):
            owner = memos.get(memo.magento_entity_id)
            carried = owner is not None and owner.eligible
            if carried and memo.status != OrderStatus.TRANSFERRED:
                problems.append(f"credit memo {memo.increment_id}: ledger {memo.status}")
            elif not carried and memo.pos_return_id is not None:
                problems.append(f"credit memo {memo.increment_id}: carried, but its order never was")
    finally:
        ledger.close()
    return problems


def _stock_problems(
    shop: SoakShop, initial: dict[str, Decimal], moved: Counter[str], report: Report
) -> list[str]:
    problems = []
    for sku, before in sorted(initial.items()):
        now = shop.pos.available(sku)
        if now is None:
            continue
        report.counts["SKUs compared"] += 1
        if now != before - moved[sku]:
            problems.append(f"stock of {sku}: {before} at the start, {moved[sku]} sold net, {now} now")
        sources = [s for s in shop.mc.stock(sku) if s["source_code"] == "default"]
        if sources and Decimal(str(sources[0]["quantity"])) != now:
            problems.append(f"stock of {sku}: Magento shows {sources[0]['quantity']}, the POS {now}")
    return problems


def ids(documents: list[object]) -> str:
    return ", ".join(str(getattr(d, "id", d)) for d in documents) or "none"
