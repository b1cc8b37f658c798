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
            document, invoice_id = await _transfer(ctx, order, number, verdict.mode == "auto_invoice")
            done = f"Order {number} is in the POS as {document.kind} {document.id}"
            invoiced = f" and invoiced in Magento (invoice {invoice_id})." if invoice_id is not None else "."
            return ItemResult("order", entity_id, number, Outcome.TRANSFERRED, done + invoiced)
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
        row.magento_entity_id, document.id, document.kind, _invoice_required(row), ctx.clock()
    )
    return recovered, False


def _invoice_required(row: OrderRow) -> bool:
    """Whether m2pos invoices the order in Magento once it is in the POS.

    As recorded when it reached the POS (kept when staff deleted the document since); before that,
    only when the rules sent it in Auto-Invoice mode and something stopped it on the way (a crash,
    a failure). A skipped or waiting order that a person resends is not invoiced.
    """
    return row.invoice_required or (
        row.pos_document_id is None and row.mode == "auto_invoice" and row.decision == Decision.DOWNLOAD
    )


async def _transfer(
    ctx: StoreContext, order: Order, number: str, invoice_required: bool
) -> tuple[PosDocument, int | None]:
    """Create the POS document (once), then invoice when required and not done before.

    Returns the document and the Magento invoice made now, if any.
    """
    entity_id = order.entity_id
    assert entity_id is not None
    # An open intent from an earlier attempt was resolved (the POS asked by reference) before this:
    # if we get here, the POS has no document for this order.
    ctx.ledger.start_intent("pos_create", entity_id, number, ctx.clock())
    crash_point("before_pos_create")
    document = await ctx.pos.create_document(order, number)
    crash_point("after_pos_create")
    row = ctx.ledger.mark_transferred(entity_id, document.id, document.kind, invoice_required, ctx.clock())
    log.info("order transferred", extra={"order": number, "pos_document": document.id})
    if row.invoice_required and row.invoice_id is None:
        return document, await _invoice(ctx, order, number)
    return document, None


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


def describe_resend(row: OrderRow, *, at_once: bool = False) -> ResendPlan:
    """What resending the order of ``row`` will do (the console's and the CLI's confirmation).

    ``at_once``: carried out now (``m2pos resend``) rather than by the next cycle (the console).
    """
    failing = row.status in (OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION)
    return plan_resend(
        row.increment_id,
        pos_document=f"{row.pos_document_kind} {row.pos_document_id}" if row.pos_document_id else None,
        invoiced=row.invoice_id is not None,
        invoice_due=_invoice_required(row) and row.invoice_id is None,
        cancelled=row.magento_state == "canceled",
        why_not_sent=row.last_error if failing and row.last_error else row.message,
        at_once=at_once,
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
    cancelled = order.state == "canceled"

    def close(outcome: Outcome, said: str) -> ItemResult:
        ctx.ledger.close_resend(entity_id, said, ctx.clock())
        return ItemResult("order", entity_id, number, outcome, said)

    try:
        if row.pos_document_id is None and cancelled:
            return close(
                Outcome.SKIPPED,
                f"Order {number} was not resent: it was cancelled in Magento before it reached the POS.",
            )
        found = await ctx.pos.find_document(number)
        if found is not None:
            if found.id != row.pos_document_id:
                ctx.ledger.add_event(
                    "order", entity_id, "recovered", f"found POS {found.kind} {found.id} by reference"
                )
                ctx.ledger.mark_transferred(entity_id, found.id, found.kind, _invoice_required(row), now)
            return close(
                Outcome.UNCHANGED,
                f"Order {number} is in the POS as {found.kind} {found.id}: nothing was created.",
            )
        if cancelled:
            # A live POS document for an order cancelled in Magento would never be cancelled again.
            return close(
                Outcome.SKIPPED,
                f"Order {number} was not resent: it is no longer in the POS and was cancelled in Magento, "
                "so m2pos does not create it again.",
            )
        invoice_required, invoiced_before = _invoice_required(row), row.invoice_id
        if row.pos_document_id is not None:
            ctx.ledger.forget_pos_document(entity_id, "not found by its reference", now)
        document, invoice_id = await _transfer(ctx, order, number, invoice_required)
    except Exception as error:  # noqa: BLE001 - one bad item must not stop the others
        return _resend_failed(ctx, entity_id, number, error)
    said = f"Order {number} was resent: it is in the POS as {document.kind} {document.id}"
    if invoice_id is not None:
        said += f" and was invoiced in Magento (invoice {invoice_id})."
    elif invoiced_before is not None:
        said += f"; its Magento invoice {invoiced_before} was not made again."
    else:
        said += "; it was not invoiced in Magento."
    log.info("order resent", extra={"order": number, "pos_document": document.id})
    return close(Outcome.TRANSFERRED, said)


def _resend_failed(ctx: StoreContext, entity_id: int, number: str, error: Exception) -> ItemResult:
    """A failed resend counts as a failed attempt of the order (backoff, then "needs attention").

    The request stays open while a retry can help, so a POS that is down is asked again after the
    backoff rather than every cycle; it is closed when the order needs a person.
    """
    text, _ = _describe(error)
    _record_order_failure(ctx, entity_id, number, error)
    row = ctx.ledger.order(entity_id)
    retry_at = row.next_retry_at if row is not None and row.status == OrderStatus.FAILED else None
    if retry_at is None:
        said = (
            f"Order {number} was not resent ({text}); it needs attention: mend the cause, "
            "then resend it again."
        )
        ctx.ledger.close_resend(entity_id, said, ctx.clock())
    else:
        said = (
            f"Order {number}: the resend did not finish ({text}); "
            f"m2pos tries again after {retry_at:%H:%M:%S} UTC."
        )
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
