"""The exactly-once invariants, checked from the outside: the POS file, Magento (over REST) and the ledger.

Shared by the crash and fault suites. ``Expectation`` says what should have happened; ``check``
compares it with what the three systems say and raises ``AssertionError`` listing every breach.
The Magento and ledger halves (``magento_problems``, ``ledger_problems``) do not depend on the POS:
a suite with another POS (``tests/pos_onsite/test_crash_fault_run.py``) reads its POS itself and
passes the document ids it found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from m2pos.ledger import OrderStatus
from tests.engine.conftest import Store

ACTIVE_STATUSES = (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION)


@dataclass
class Expectation:
    """What a store should look like once every eligible item has been carried."""

    # Orders that must be in the POS, by entity_id → increment_id.
    in_pos: dict[int, str] = field(default_factory=dict)
    # Of those, the ones m2pos must have invoiced in Magento (exactly one invoice each).
    invoiced: set[int] = field(default_factory=set)
    # Of those, the ones whose cancellation must have been carried (a voided POS document, no invoice).
    cancelled: set[int] = field(default_factory=set)
    # Credit memos that must be POS returns, by entity_id → increment_id.
    returns: dict[int, str] = field(default_factory=dict)

    def add_order(self, order: dict[str, Any], *, invoiced: bool = True) -> None:
        self.in_pos[int(order["entity_id"])] = str(order["increment_id"])
        if invoiced:
            self.invoiced.add(int(order["entity_id"]))


def magento_invoices(store: Store) -> dict[int, list[int]]:
    """Invoice ids per order id, read over REST with an admin token (no faults are expected then)."""
    token = store.sandbox.control.admin_token()
    response = httpx.get(
        f"{store.url}/rest/V1/invoices",
        params={"searchCriteria[pageSize]": "0"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    out: dict[int, list[int]] = {}
    for item in response.json()["items"] or []:
        out.setdefault(int(item["order_id"]), []).append(int(item["entity_id"]))
    return out


def memo_number(store: Store, memo_id: int) -> str:
    token = store.sandbox.control.admin_token()
    response = httpx.get(
        f"{store.url}/rest/V1/creditmemo/{memo_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["increment_id"])


def check(store: Store, expected: Expectation) -> None:
    pos = store.pos()
    try:
        sales = pos.documents("sale")
        returns = pos.documents("return")
    finally:
        pos._db.close()
    problems: list[str] = []

    # --- the POS: every expected order once, nothing else, no duplicates --------------------------
    sale_refs = Counter(d.reference for d in sales)
    for ref, n in sale_refs.items():
        if "#dup" in ref:
            problems.append(f"POS has a duplicate sale {ref}")
        elif n > 1:
            problems.append(f"POS has {n} sales for {ref}")
    want = Counter(expected.in_pos.values())
    if +Counter(r for r in sale_refs.elements() if "#dup" not in r) != want:
        missing = sorted(set(want) - set(sale_refs))
        extra = sorted(set(sale_refs) - set(want))
        problems.append(f"POS sales differ: missing {missing}, unexpected {extra}")
    sale_by_ref = {d.reference: d for d in sales}
    for entity_id in expected.cancelled:
        doc = sale_by_ref.get(expected.in_pos[entity_id])
        if doc is not None and doc.status != "void":
            problems.append(f"order {expected.in_pos[entity_id]} was cancelled but its sale is {doc.status}")
    for entity_id in set(expected.in_pos) - expected.cancelled:
        doc = sale_by_ref.get(expected.in_pos[entity_id])
        if doc is not None and doc.status != "open":
            problems.append(f"order {expected.in_pos[entity_id]} sale is {doc.status}, expected open")

    return_refs = Counter(d.reference for d in returns)
    if return_refs != Counter(expected.returns.values()):
        problems.append(f"POS returns {dict(return_refs)} != expected {sorted(expected.returns.values())}")

    problems += magento_problems(store, expected)
    problems += ledger_problems(
        store,
        expected,
        sale_ids={d.reference: d.id for d in sales},
        return_ids={d.reference: d.id for d in returns},
    )
    assert not problems, "exactly-once invariants broken:\n  " + "\n  ".join(problems)


def magento_problems(store: Store, expected: Expectation) -> list[str]:
    """Exactly one Magento invoice per auto-invoiced order, none for the cancelled ones."""
    problems: list[str] = []
    invoices = magento_invoices(store)
    for entity_id in expected.invoiced:
        got = invoices.get(entity_id, [])
        if len(got) != 1:
            problems.append(f"order {expected.in_pos[entity_id]} has {len(got)} Magento invoices: {got}")
    for entity_id in expected.cancelled:
        if invoices.get(entity_id):
            problems.append(
                f"cancelled order {expected.in_pos[entity_id]} was invoiced: {invoices[entity_id]}"
            )
    return problems


def ledger_problems(
    store: Store,
    expected: Expectation,
    sale_ids: Mapping[str, str],
    return_ids: Mapping[str, str],
) -> list[str]:
    """No open intents, and statuses that agree with the POS and Magento.

    ``sale_ids``: the POS document id found for each order number; ``return_ids``: the POS return
    (or whatever the POS carried the credit memo onto) found for each credit memo number.
    """
    problems: list[str] = []
    invoices = magento_invoices(store)
    ledger = store.ledger()
    try:
        intents = ledger.open_intents()
        if intents:
            problems.append("open intents left: " + ", ".join(f"{i.action}:{i.reference}" for i in intents))
        for entity_id, number in expected.in_pos.items():
            row = ledger.order(entity_id)
            if row is None:
                problems.append(f"order {number} is not in the ledger")
                continue
            if row.status != OrderStatus.TRANSFERRED:
                problems.append(f"order {number} has ledger status {row.status} ({row.last_error})")
            doc_id = sale_ids.get(number)
            if doc_id is None or row.pos_document_id != doc_id:
                problems.append(f"order {number}: ledger POS document {row.pos_document_id} != POS {doc_id}")
            in_magento = invoices.get(entity_id)
            if entity_id in expected.invoiced and (row.invoice_id is None or [row.invoice_id] != in_magento):
                problems.append(f"order {number}: ledger invoice {row.invoice_id} != Magento {in_magento}")
            if entity_id in expected.cancelled and row.cancellation_carried_at is None:
                problems.append(f"order {number}: cancellation not recorded as carried")
        for row in ledger.list_orders(limit=100_000):
            if row.magento_entity_id not in expected.in_pos:
                if row.pos_document_id is not None:
                    problems.append(f"order {row.increment_id} has a POS document but was not eligible")
                if row.status in ACTIVE_STATUSES:
                    problems.append(f"order {row.increment_id} is still {row.status}")
        for entity_id, number in expected.returns.items():
            memo = ledger.credit_memo(entity_id)
            return_id = return_ids.get(number)
            if memo is None or memo.status != OrderStatus.TRANSFERRED or return_id is None:
                problems.append(f"credit memo {number}: ledger {memo and memo.status}, POS {return_id}")
            elif memo.pos_return_id != return_id:
                problems.append(
                    f"credit memo {number}: ledger return {memo.pos_return_id} != POS {return_id}"
                )
        for memo in ledger.list_credit_memos(limit=100_000):
            if memo.status in ACTIVE_STATUSES or (
                memo.magento_entity_id not in expected.returns and memo.pos_return_id is not None
            ):
                problems.append(f"credit memo {memo.increment_id} is {memo.status}")
    finally:
        ledger.close()
    return problems
