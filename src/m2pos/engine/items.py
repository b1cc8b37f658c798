"""One order or credit memo through the rules and, when they say so, into the POS: exactly once.

Every external write is preceded by an intent in the ledger. If an earlier attempt left its
intent open (a crash, a timeout), the document is first looked up by its reference (the Magento
increment_id) and only created when it is not there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from m2pos.engine.backoff import next_retry_at
from m2pos.engine.context import StoreContext, order_record
from m2pos.engine.crash import crash_point
from m2pos.engine.restock import decide_restock
from m2pos.ledger import CreditMemoRow, OrderRow, OrderStatus
from m2pos.magento import InvalidDocument, MagentoError
from m2pos.magento.models import CreditMemo, Order
from m2pos.pos import PosDocument, PosError
from m2pos.rules import (
    CreditMemoRecord,
    Decision,
    Reason,
    ResendPlan,
    Verdict,
    decide_credit_memo,
    decide_order,
    plan_resend,
)
from m2pos.settings import OrderMode

log = logging.getLogger("m2pos.engine")


class Outcome(StrEnum):
    TRANSFERRED = "transferred"  # something was written to the POS or Magento this time
    UNCHANGED = "unchanged"  # already done, or decided the same as before
    SKIPPED = "skipped"
    WAITING = "waiting"
    FAILED = "failed"  # set aside with a retry time, or "needs attention"
    DEFERRED = "deferred"  # failing earlier and not yet due again: left alone this cycle


@dataclass(frozen=True)
class ItemResult:
    kind: str  # "order" | "credit_memo"
    entity_id: int
    number: str
    outcome: Outcome
    message: str


def _describe(error: Exception) -> tuple[str, bool]:
    """The text shown to the merchant and whether retrying later can help."""
    if isinstance(error, MagentoError):
        return f"Magento: {error}", error.resolution.retryable
    if isinstance(error, PosError):
        return f"POS: {error.message}", error.retryable
    return f"unexpected error ({type(error).__name__}): {error}", True


def _deferred(row: OrderRow | CreditMemoRow, now: datetime, force: bool) -> bool:
    """Failing earlier and not due again (or waiting for a person): leave it alone this time."""
    if force:
        return False
    if row.status == OrderStatus.NEEDS_ATTENTION:
        return True
    return row.status == OrderStatus.FAILED and row.next_retry_at is not None and row.next_retry_at > now


async def handle_order(
    ctx: StoreContext, order: Order, *, backfill: bool = False, force: bool = False
) -> ItemResult:
    """Judge ``order`` and carry out the decision. Never raises for a problem with this order.

    ``force``: ignore a pending retry time (a person asked for the retry).
    """
    entity_id = order.entity_id
    if entity_id is None:
        raise ValueError("an order without entity_id cannot be handled")
    number = order.increment_id or str(entity_id)
    now = ctx.clock()
    row = ctx.ledger.observe_order(order, now)

    def judge() -> Verdict:
        return decide_order(
            order, current=ctx.rules, history=ctx.history, record=order_record(row), backfill=backfill
        )

    # A cancellation is a new step, carried even while an earlier step waits for its retry.
    if _deferred(row, now, force) and judge().decision != Decision.CANCEL:
        return ItemResult("order", entity_id, number, Outcome.DEFERRED, row.last_error or "")
    try:
        row, unfinished = await _recover_transfer(ctx, row, number)
    except Exception as error:  # noqa: BLE001 - one bad item must not stop the others
        return _record_order_failure(ctx, entity_id, number, error)
    verdict = judge()
    if unfinished and verdict.decision != Decision.DOWNLOAD:
        ctx.ledger.close_intent("pos_create", entity_id)  # never reached the POS, and no longer wanted
    previous_reason = row.reason
    row = ctx.ledger.record_order_decision(entity_id, verdict, now)
    try:
        if verdict.decision == Decision.DOWNLOAD:
            done = await _transfer(ctx, order, number, verdict)
            return ItemResult("order", entity_id, number, Outcome.TRANSFERRED, done)
        if verdict.decision == Decision.CANCEL:
            await _carry_cancellation(ctx, order, number)
            return ItemResult("order", entity_id, number, Outcome.TRANSFERRED, verdict.message)
        if row.invoice_required and row.invoice_id is None:
            invoice_id = await _invoice(ctx, order, number)  # transferred earlier; the invoice step is left
            done = f"Order {number} invoiced in Magento (invoice {invoice_id})."
            return ItemResult("order", entity_id, number, Outcome.TRANSFERRED, done)
    except Exception as error:  # noqa: BLE001 - one bad item must not stop the others
        return _record_order_failure(ctx, entity_id, number, error)
    outcome = {Decision.SKIP: Outcome.SKIPPED, Decision.WAIT: Outcome.WAITING}.get(
        verdict.decision, Outcome.UNCHANGED
    )
    if outcome != Outcome.UNCHANGED and previous_reason == verdict.reason.value:
        outcome = Outcome.UNCHANGED
    return ItemResult("order", entity_id, number, outcome, verdict.message)


async def _recover_transfer(ctx: StoreContext, row: OrderRow, number: str) -> tuple[OrderRow, bool]:
    """An earlier attempt started a POS write and never recorded its end: ask the POS first.

    This comes before the rules, because the order may have changed since (been cancelled, say),
    and an order that reached the POS must be treated as one that did. Returns the row and
    whether an unfinished write is still open (the POS has no document for it).
    """
    if row.pos_document_id is not None or not ctx.ledger.intent_open("pos_create", row.magento_entity_id):
        return row, False
    document = await ctx.pos.find_document(number)
    if document is None:
        return row, True
    ctx.ledger.add_event(
        "order", row.magento_entity_id, "recovered", f"found POS {document.kind} {document.id} by reference"
    )
    recovered = ctx.ledger.mark_transferred(
        row.magento_entity_id, document.id, document.kind, row.mode == "auto_invoice", ctx.clock()
    )
    return recovered, False


async def _transfer(ctx: StoreContext, order: Order, number: str, verdict: Verdict) -> str:
    """Create the POS document (once), then invoice when the order's mode says so; say what was done."""
    entity_id = order.entity_id
    assert entity_id is not None
    # An open intent from an earlier attempt was resolved by _recover_transfer before the rules ran:
    # if we get here, the POS has no document for this order.
    ctx.ledger.start_intent("pos_create", entity_id, number, ctx.clock())
    crash_point("before_pos_create")
    document = await ctx.pos.create_document(order, number)
    crash_point("after_pos_create")
    mode: OrderMode | None = verdict.mode
    auto_invoice = mode == "auto_invoice"
    ctx.ledger.mark_transferred(entity_id, document.id, document.kind, auto_invoice, ctx.clock())
    log.info("order transferred", extra={"order": number, "pos_document": document.id})
    done = f"Order {number} is in the POS as {document.kind} {document.id}"
    if auto_invoice:
        invoice_id = await _invoice(ctx, order, number)
        return f"{done} and invoiced in Magento (invoice {invoice_id})."
    return f"{done}."


async def _invoice(ctx: StoreContext, order: Order, number: str) -> int:
    entity_id = order.entity_id
    assert entity_id is not None
    reopened = ctx.ledger.start_intent("magento_invoice", entity_id, number, ctx.clock())
    crash_point("before_invoice")
    # The order as read this cycle already shows the invoice an interrupted attempt created: no
    # write needed. Otherwise the client is idempotent: an invoice created meanwhile is found.
    if reopened and order.total_invoiced > 0 and not order.has_items_to_invoice:
        existing = [i.entity_id for i in await ctx.magento.invoices_for_order(entity_id) if i.entity_id]
        if existing:
            invoice_id = max(existing)
            ctx.ledger.mark_invoiced(entity_id, invoice_id, ctx.clock())
            return invoice_id
    invoice_id = await ctx.magento.create_invoice(
        entity_id,
        capture=ctx.settings.orders.capture_online,
        known_uninvoiced=not reopened and order.total_invoiced == 0,
    )
    crash_point("after_invoice")
    ctx.ledger.mark_invoiced(entity_id, invoice_id, ctx.clock())
    log.info("order invoiced", extra={"order": number, "invoice": invoice_id})
    return invoice_id


async def _carry_cancellation(ctx: StoreContext, order: Order, number: str) -> None:
    entity_id = order.entity_id
    assert entity_id is not None
    row = ctx.ledger.order(entity_id)
    assert row is not None and row.pos_document_id is not None
    ctx.ledger.start_intent("pos_cancel", entity_id, number, ctx.clock())
    document = PosDocument(row.pos_document_id, number, row.pos_document_kind or "")
    await ctx.pos.cancel_document(document, order)  # adapters treat a second cancel as done
    crash_point("after_pos_cancel")
    ctx.ledger.mark_cancellation_carried(entity_id, ctx.clock())
    log.info("order cancellation carried", extra={"order": number})


def describe_resend(row: OrderRow) -> ResendPlan:
    """What resending the order of ``row`` will do (the console's and the CLI's confirmation)."""
    return plan_resend(
        row.increment_id,
        pos_document=f"{row.pos_document_kind} {row.pos_document_id}" if row.pos_document_id else None,
        invoiced=row.invoice_id is not None,
        cancelled=row.magento_state == "canceled",
        why_not_sent=row.message,
    )


async def resend_order(ctx: StoreContext, order: Order) -> ItemResult:
    """Carry out a person's resend of ``order`` (``rules.plan_resend`` says what it does).

    Exactly once still holds: the POS is asked for the document by reference before anything is
    created, and the intent is written first as for any transfer. Never raises for this order.
    """
    entity_id = order.entity_id
    if entity_id is None:
        raise ValueError("an order without entity_id cannot be resent")
    number = order.increment_id or str(entity_id)
    now = ctx.clock()
    row = ctx.ledger.observe_order(order, now)
    try:
        if row.pos_document_id is None and order.state == "canceled":
            said = f"Order {number} was not resent: it was cancelled in Magento before it reached the POS."
            ctx.ledger.close_resend(entity_id, said, now)
            return ItemResult("order", entity_id, number, Outcome.SKIPPED, said)
        found = await ctx.pos.find_document(number)
        if found is not None:
            if found.id != row.pos_document_id:
                ctx.ledger.mark_transferred(entity_id, found.id, found.kind, row.invoice_required, now)
            said = f"Order {number} is in the POS as {found.kind} {found.id}: nothing was created."
            ctx.ledger.close_resend(entity_id, said, ctx.clock())
            return ItemResult("order", entity_id, number, Outcome.UNCHANGED, said)
        if row.pos_document_id is not None:
            row = ctx.ledger.forget_pos_document(entity_id, "not found by its reference", now)
        ctx.ledger.start_intent("pos_create", entity_id, number, now)
        crash_point("before_pos_create")
        document = await ctx.pos.create_document(order, number)
        crash_point("after_pos_create")
        # Invoicing stays as it was: an invoice made earlier is not made again, a skipped order is
        # not invoiced, and an Auto-Invoice order whose invoice step was still due keeps it.
        ctx.ledger.mark_transferred(entity_id, document.id, document.kind, row.invoice_required, ctx.clock())
        said = f"Order {number} was resent: it is in the POS as {document.kind} {document.id}."
        ctx.ledger.close_resend(entity_id, said, ctx.clock())
        log.info("order resent", extra={"order": number, "pos_document": document.id})
        return ItemResult("order", entity_id, number, Outcome.TRANSFERRED, said)
    except Exception as error:  # noqa: BLE001 - the request stays; the next cycle tries again
        text, _ = _describe(error)
        said = f"Order {number}: the resend did not finish ({text}); m2pos tries again at the next cycle."
        ctx.ledger.add_event("order", entity_id, "resend_failed", said, ctx.clock())
        log.warning("order resend failed", extra={"order": number, "error": text})
        return ItemResult("order", entity_id, number, Outcome.FAILED, said)


def _retry_at(ctx: StoreContext, attempts: int, retryable: bool) -> datetime | None:
    settings = ctx.settings.orders
    return next_retry_at(
        attempts,
        ctx.clock(),
        max_attempts=settings.max_attempts,
        base_seconds=settings.retry_base_seconds,
        max_seconds=settings.retry_max_seconds,
        retryable=retryable,
    )


def _record_order_failure(ctx: StoreContext, entity_id: int, number: str, error: Exception) -> ItemResult:
    text, retryable = _describe(error)
    message = f"Order {number}: {text}"
    row = ctx.ledger.order(entity_id)
    retry_at = _retry_at(ctx, (row.attempts if row else 0) + 1, retryable)
    ctx.ledger.record_order_failure(entity_id, message, retry_at, ctx.clock())
    log.warning("order failed", extra={"order": number, "error": message, "retry_at": str(retry_at)})
    return ItemResult("order", entity_id, number, Outcome.FAILED, message)


async def handle_credit_memo(
    ctx: StoreContext, memo: CreditMemo, order: Order | None, *, force: bool = False
) -> ItemResult:
    """Carry ``memo`` as a POS return once its order is in the POS. Never raises for this memo."""
    entity_id = memo.entity_id
    if entity_id is None:
        raise ValueError("a credit memo without entity_id cannot be handled")
    number = memo.increment_id or str(entity_id)
    order_number = order.increment_id if order else None
    now = ctx.clock()
    row = ctx.ledger.observe_credit_memo(memo, order_number, now)
    if _deferred(row, now, force):
        return ItemResult("credit_memo", entity_id, number, Outcome.DEFERRED, row.last_error or "")
    order_row = ctx.ledger.order(memo.order_id) if memo.order_id is not None else None
    pending = order_row is not None and order_row.status in (
        OrderStatus.WAITING,
        OrderStatus.PENDING,
        OrderStatus.FAILED,
        OrderStatus.NEEDS_ATTENTION,
    )
    verdict = decide_credit_memo(
        memo,
        current=ctx.rules,
        order=order_record(order_row),
        order_number=order_number,
        order_pending=pending,
        record=CreditMemoRecord(carried=row.carried_at is not None),
    )
    previous_reason = row.reason
    ctx.ledger.record_credit_memo_decision(entity_id, verdict, now)
    if verdict.decision != Decision.DOWNLOAD:
        outcome = {Decision.SKIP: Outcome.SKIPPED, Decision.WAIT: Outcome.WAITING}.get(
            verdict.decision, Outcome.UNCHANGED
        )
        if previous_reason == verdict.reason.value:
            outcome = Outcome.UNCHANGED
        return ItemResult("credit_memo", entity_id, number, outcome, verdict.message)
    try:
        assert order is not None and order_row is not None and order_row.pos_document_id is not None
        reopened = ctx.ledger.start_intent("pos_return", entity_id, number, now)
        document = await ctx.pos.find_return(number) if reopened else None
        if document is None:
            restock = decide_restock(ctx, memo, order)
            if restock.pending:
                ctx.ledger.close_intent("pos_return", entity_id, now)
                waiting = Verdict(
                    Decision.WAIT,
                    Reason.AWAITING_STOCK_READ,
                    f"Credit memo {number} of order {order_number} waits for the next stock read, "
                    "which shows whether Magento returned its items to stock.",
                )
                ctx.ledger.record_credit_memo_decision(entity_id, waiting, now)
                return ItemResult("credit_memo", entity_id, number, Outcome.WAITING, waiting.message)
            for note in restock.notes:
                ctx.ledger.add_event("credit_memo", entity_id, "restock", note, now)
            original = PosDocument(
                order_row.pos_document_id, order_row.increment_id, order_row.pos_document_kind or ""
            )
            document = await ctx.pos.create_return(memo, order, original, number, restock.items)
        crash_point("after_pos_return")
        ctx.ledger.mark_credit_memo_carried(entity_id, document.id, ctx.clock())
        log.info("credit memo carried", extra={"credit_memo": number, "pos_return": document.id})
        return ItemResult("credit_memo", entity_id, number, Outcome.TRANSFERRED, verdict.message)
    except Exception as error:  # noqa: BLE001 - one bad item must not stop the others
        return fail_credit_memo(ctx, memo, error, order_number)


def fail_credit_memo(
    ctx: StoreContext, memo: CreditMemo, error: Exception | str, order_number: str | None = None
) -> ItemResult:
    """Record a failed attempt for ``memo`` with its retry time, naming the memo and its order."""
    assert memo.entity_id is not None
    number = memo.increment_id or str(memo.entity_id)
    text, retryable = (error, True) if isinstance(error, str) else _describe(error)
    message = f"Credit memo {number}{f' of order {order_number}' if order_number else ''}: {text}"
    row = ctx.ledger.observe_credit_memo(memo, order_number, ctx.clock())
    retry_at = _retry_at(ctx, row.attempts + 1, retryable)
    ctx.ledger.record_credit_memo_failure(memo.entity_id, message, retry_at, ctx.clock())
    log.warning("credit memo failed", extra={"credit_memo": number, "error": message})
    return ItemResult("credit_memo", memo.entity_id, number, Outcome.FAILED, message)


def handle_unreadable(ctx: StoreContext, document: InvalidDocument) -> ItemResult:
    """A document Magento sent in a form m2pos cannot read: set it aside, naming the bad fields.

    It is retried on the usual schedule (someone may fix the data in Magento, or a Magento
    extension that corrupts it may be removed). Without an entity_id it cannot be tracked, so it
    is only reported.
    """
    kind = "order" if document.kind == "order" else "credit_memo"
    number = document.increment_id or (
        str(document.entity_id) if document.entity_id is not None else "(no id)"
    )
    noun = "Order" if kind == "order" else "Credit memo"
    message = (
        f"{noun} {number}: Magento sent it in a form m2pos cannot read ({'; '.join(document.errors)}). "
        "Check the order in the Magento admin, and any extension that changes orders; m2pos retries it."
    )
    if document.entity_id is None:
        log.error("unreadable document without id", extra={"kind": kind, "excerpt": document.raw_excerpt})
        return ItemResult(kind, 0, number, Outcome.FAILED, message)
    now = ctx.clock()
    if kind == "order":
        row = ctx.ledger.observe_unreadable_order(document.entity_id, document.increment_id, now)
        if _deferred(row, now, force=False):
            return ItemResult(kind, document.entity_id, number, Outcome.DEFERRED, row.last_error or "")
        ctx.ledger.record_order_failure(
            document.entity_id, message, _retry_at(ctx, row.attempts + 1, True), now
        )
    else:
        memo = ctx.ledger.observe_unreadable_credit_memo(document.entity_id, document.increment_id, now)
        if _deferred(memo, now, force=False):
            return ItemResult(kind, document.entity_id, number, Outcome.DEFERRED, memo.last_error or "")
        ctx.ledger.record_credit_memo_failure(
            document.entity_id, message, _retry_at(ctx, memo.attempts + 1, True), now
        )
    log.warning(
        "unreadable document", extra={"kind": kind, "number": number, "errors": list(document.errors)}
    )
    return ItemResult(kind, document.entity_id, number, Outcome.FAILED, message)
