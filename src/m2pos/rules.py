"""Which Magento orders and credit memos go to the POS: pure decisions, no I/O.

``decide_order`` and ``decide_credit_memo`` take what Magento says, the settings that apply and
what the ledger already knows, and return a :class:`Verdict`: the decision, a reason code, a
sentence a merchant understands, and every check made with the value it saw (``m2pos explain``).

Which settings apply (documented in docs/rules.md):

* The Order Download Mode is the one in effect *when the order was created*: changing the mode is
  not retroactive. ``m2pos backfill`` judges older orders by the current mode instead.
* Everything else (Download Orders / Download Credit Memos, the start date, the store views, the
  payment methods that count as paid) is what is in effect *now*, so that e.g. trusting check
  payments lets the check orders already waiting through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from m2pos.magento.models import CreditMemo, Order
from m2pos.settings import OrderMode

AUTO_INVOICE_STATES = ("new", "pending_payment", "processing")
_ZERO = Decimal(0)


class Decision(StrEnum):
    DOWNLOAD = "download"  # send it to the POS
    CANCEL = "cancel"  # it is in the POS and was cancelled since: carry the cancellation
    WAIT = "wait"  # not yet: it may qualify later (unpaid, not invoiced, order not yet in the POS)
    SKIP = "skip"  # it does not qualify under the settings
    DONE = "done"  # already carried; nothing more to do


class Reason(StrEnum):
    ELIGIBLE = "eligible"
    ALREADY_IN_POS = "already_in_pos"
    CANCELLATION_CARRIED = "cancellation_carried"
    CANCELLED_AFTER_DOWNLOAD = "cancelled_after_download"
    DOWNLOAD_ORDERS_OFF = "download_orders_off"
    BEFORE_START_DATE = "before_start_date"
    STORE_NOT_SELECTED = "store_not_selected"
    CANCELLED_BEFORE_DOWNLOAD = "cancelled_before_download"
    INVOICED_ELSEWHERE = "invoiced_elsewhere"
    STATE_NOT_ELIGIBLE = "state_not_eligible"
    NOT_PAID = "not_paid"
    NOT_INVOICED = "not_invoiced"
    DOWNLOAD_CREDIT_MEMOS_OFF = "download_credit_memos_off"
    ORDER_NOT_DOWNLOADED = "order_not_downloaded"
    ORDER_NOT_YET_IN_POS = "order_not_yet_in_pos"
    CREDIT_MEMO_CARRIED = "credit_memo_carried"
    AWAITING_STOCK_READ = "awaiting_stock_read"


@dataclass(frozen=True)
class RuleSettings:
    """The settings that decide eligibility; each change is kept with its time (settings history)."""

    download_orders: bool = True
    download_credit_memos: bool = True
    mode: OrderMode = "auto_invoice"
    paid_methods: tuple[str, ...] = ()
    store_ids: tuple[int, ...] | None = None
    start_date: datetime | None = None


@dataclass(frozen=True)
class SettingsChange:
    effective_from: datetime
    settings: RuleSettings


@dataclass(frozen=True)
class OrderRecord:
    """What the ledger knows about an order."""

    in_pos: bool = False
    cancellation_carried: bool = False


@dataclass(frozen=True)
class CreditMemoRecord:
    carried: bool = False


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    seen: str


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: Reason
    message: str
    checks: tuple[Check, ...] = field(default_factory=tuple)
    mode: OrderMode | None = None  # the Order Download Mode the order was judged by


def settings_at(history: Sequence[SettingsChange], moment: datetime | None) -> RuleSettings:
    """The settings in effect at ``moment``; before the first change, the first settings."""
    if not history:
        return RuleSettings()
    ordered = sorted(history, key=lambda change: change.effective_from)
    if moment is None:
        return ordered[-1].settings
    applicable = [c for c in ordered if c.effective_from <= moment]
    return (applicable[-1] if applicable else ordered[0]).settings


def is_paid(order: Order, paid_methods: Sequence[str]) -> tuple[bool, str]:
    """Auto-Invoice's "paid": authorised or captured for the grand total, zero total, or a trusted method."""
    payment = order.payment
    method = payment.method if payment else None
    grand_total = order.grand_total
    covered = max(
        order.total_paid,
        payment.amount_paid if payment else _ZERO,
        payment.amount_authorized if payment else _ZERO,
    )
    seen = f"grand_total={grand_total}, authorised/paid={covered}, method={method}"
    if grand_total <= _ZERO:
        return True, seen
    if covered >= grand_total:
        return True, seen
    return (method is not None and method in paid_methods), seen


def decide_order(
    order: Order,
    *,
    current: RuleSettings,
    history: Sequence[SettingsChange] = (),
    record: OrderRecord | None = None,
    backfill: bool = False,
) -> Verdict:
    """Download, cancel, wait, skip or done, with the checks that led there."""
    record = record or OrderRecord()
    number = order.increment_id or f"#{order.entity_id}"
    checks: list[Check] = []

    def check(rule: str, passed: bool, seen: str) -> bool:
        checks.append(Check(rule, passed, seen))
        return passed

    def verdict(decision: Decision, reason: Reason, message: str, mode: OrderMode | None = None) -> Verdict:
        return Verdict(decision, reason, message, tuple(checks), mode)

    cancelled = order.state == "canceled"
    if record.in_pos:
        check("not yet in the POS", False, "the ledger has a POS document")
        if cancelled and not record.cancellation_carried:
            return verdict(
                Decision.CANCEL,
                Reason.CANCELLED_AFTER_DOWNLOAD,
                f"Order {number} was cancelled in Magento after it was downloaded; "
                "the cancellation is carried to the POS.",
            )
        if record.cancellation_carried:
            return verdict(
                Decision.DONE,
                Reason.CANCELLATION_CARRIED,
                f"Order {number} is in the POS and its cancellation has been carried.",
            )
        return verdict(Decision.DONE, Reason.ALREADY_IN_POS, f"Order {number} is already in the POS.")
    check("not yet in the POS", True, "no POS document in the ledger")

    if not check(
        "Download Orders is on", current.download_orders, f"download_orders={current.download_orders}"
    ):
        return verdict(
            Decision.SKIP,
            Reason.DOWNLOAD_ORDERS_OFF,
            f"Order {number} was not downloaded because Download Orders is off.",
        )

    created = order.created_at
    if current.start_date is not None and not backfill:
        after_start = created is None or created >= current.start_date
        if not check(
            "created on or after the start date",
            after_start,
            f"created_at={created}, start_date={current.start_date}",
        ):
            return verdict(
                Decision.SKIP,
                Reason.BEFORE_START_DATE,
                f"Order {number} was created before the start date "
                f"({current.start_date:%Y-%m-%d %H:%M} UTC); "
                "use `m2pos backfill --since DATE` to bring older orders in.",
            )

    if current.store_ids is not None:
        selected = order.store_id in current.store_ids
        if not check(
            "from a selected store view",
            selected,
            f"store_id={order.store_id}, store_ids={list(current.store_ids)}",
        ):
            return verdict(
                Decision.SKIP,
                Reason.STORE_NOT_SELECTED,
                f"Order {number} comes from store view {order.store_id}, which is not among the store views "
                "m2pos downloads from (magento.store_ids).",
            )

    if not check("not cancelled", not cancelled, f"state={order.state}"):
        return verdict(
            Decision.SKIP,
            Reason.CANCELLED_BEFORE_DOWNLOAD,
            f"Order {number} was cancelled before it was downloaded, so it is never downloaded.",
        )

    mode = current.mode if backfill or not history else settings_at(history, created).mode
    check("Order Download Mode in effect when the order was created", True, f"mode={mode}")
    invoiced = order.total_invoiced
    if mode == "wait_for_invoice":
        if not check(
            "invoiced in Magento (total_invoiced > 0)", invoiced > _ZERO, f"total_invoiced={invoiced}"
        ):
            return verdict(
                Decision.WAIT,
                Reason.NOT_INVOICED,
                f"Order {number} waits for an invoice: in Wait for Invoice mode an order is downloaded "
                "once Magento shows a non-zero total_invoiced.",
                mode,
            )
        return verdict(
            Decision.DOWNLOAD, Reason.ELIGIBLE, f"Order {number} is invoiced and will be downloaded.", mode
        )

    if not check(
        "not yet invoiced (total_invoiced missing or 0)", invoiced == _ZERO, f"total_invoiced={invoiced}"
    ):
        return verdict(
            Decision.SKIP,
            Reason.INVOICED_ELSEWHERE,
            f"Order {number} was invoiced in Magento by something other than m2pos before it was downloaded. "
            "In Auto-Invoice mode m2pos downloads only orders it invoices itself: if another extension or "
            "payment module invoices automatically, turn it off or switch to Wait for Invoice.",
            mode,
        )
    eligible_state = order.state in AUTO_INVOICE_STATES
    if not check(
        "state is new (Pending), pending_payment or processing",
        eligible_state,
        f"state={order.state}, status={order.status}",
    ):
        return verdict(
            Decision.SKIP,
            Reason.STATE_NOT_ELIGIBLE,
            f"Order {number} is {order.status or order.state}; Auto-Invoice downloads only Pending, "
            "Pending Payment and Processing orders.",
            mode,
        )
    paid, seen = is_paid(order, current.paid_methods)
    if not check(
        "paid (authorised or captured for the grand total, zero total, or a paid method)", paid, seen
    ):
        return verdict(
            Decision.WAIT,
            Reason.NOT_PAID,
            f"Order {number} waits for payment: its payment ({seen}) does not cover the grand total. "
            "Add the method to orders.paid_methods if its orders count as paid.",
            mode,
        )
    return verdict(
        Decision.DOWNLOAD,
        Reason.ELIGIBLE,
        f"Order {number} is paid and not invoiced: it will be downloaded, then invoiced in Magento.",
        mode,
    )


def decide_credit_memo(
    memo: CreditMemo,
    *,
    current: RuleSettings,
    order: OrderRecord | None,
    order_number: str | None,
    order_pending: bool,
    record: CreditMemoRecord | None = None,
) -> Verdict:
    """Carry a credit memo as a POS return once its order is in the POS.

    ``order_pending``: the order is still on its way to the POS (waiting or failing), so the
    credit memo waits for it instead of being skipped.
    """
    record = record or CreditMemoRecord()
    number = memo.increment_id or f"#{memo.entity_id}"
    of_order = f" of order {order_number}" if order_number else ""
    checks: list[Check] = []

    def check(rule: str, passed: bool, seen: str) -> bool:
        checks.append(Check(rule, passed, seen))
        return passed

    def verdict(decision: Decision, reason: Reason, message: str) -> Verdict:
        return Verdict(decision, reason, message, tuple(checks))

    if check("already carried to the POS", record.carried, f"carried={record.carried}"):
        return verdict(
            Decision.DONE,
            Reason.CREDIT_MEMO_CARRIED,
            f"Credit memo {number}{of_order} is already in the POS.",
        )
    on = current.download_credit_memos
    if not check("Download Credit Memos is on", on, f"download_credit_memos={on}"):
        return verdict(
            Decision.SKIP,
            Reason.DOWNLOAD_CREDIT_MEMOS_OFF,
            f"Credit memo {number}{of_order} was not downloaded because Download Credit Memos is off.",
        )
    in_pos = order is not None and order.in_pos
    if not check("its order is in the POS", in_pos, f"order in POS={in_pos}, pending={order_pending}"):
        if order_pending:
            return verdict(
                Decision.WAIT,
                Reason.ORDER_NOT_YET_IN_POS,
                f"Credit memo {number} waits for order {order_number} to reach the POS.",
            )
        return verdict(
            Decision.SKIP,
            Reason.ORDER_NOT_DOWNLOADED,
            f"Credit memo {number}{of_order} is not downloaded because its order was never downloaded.",
        )
    return verdict(
        Decision.DOWNLOAD,
        Reason.ELIGIBLE,
        f"Credit memo {number}{of_order} will be carried to the POS as a return.",
    )


# --- resending one order (a person's request, not a rule) ---------------------------------------


@dataclass(frozen=True)
class ResendPlan:
    """What a resend of one order will do, shown before the person confirms it."""

    allowed: bool
    text: str


def plan_resend(
    number: str,
    *,
    pos_document: str | None,
    invoiced: bool,
    cancelled: bool,
    why_not_sent: str | None,
    invoice_due: bool = False,
    at_once: bool = False,
) -> ResendPlan:
    """``pos_document``: e.g. "order O-17" when the ledger links one; ``why_not_sent``: the recorded
    decision when it was never sent; ``invoice_due``: m2pos still has to invoice it in Magento (an
    Auto-Invoice order whose invoice step is left, or one that failed on its way to the POS);
    ``at_once``: carried out now (``m2pos resend``) rather than at the next cycle (the console).
    A resend never doubles the document and never invoices twice."""
    when = "m2pos" if at_once else "At the next cycle m2pos"
    if invoiced:
        invoice = " Its Magento invoice is not made again."
    elif invoice_due:
        invoice = " Then m2pos invoices it in Magento, as Auto-Invoice does, once."
    else:
        invoice = " It is not invoiced in Magento."
    if pos_document is None and cancelled:
        return ResendPlan(
            False,
            f"Order {number} was cancelled in Magento before it reached the POS, so there is nothing to "
            "send: m2pos does not download cancelled orders.",
        )
    if pos_document is not None:
        if cancelled:
            return ResendPlan(
                True,
                f"Order {number} is in the POS as {pos_document} and was cancelled in Magento. {when} looks "
                "it up there by its Magento number; if it was deleted in the POS, it is not created again, "
                "because the order is cancelled.",
            )
        return ResendPlan(
            True,
            f"Order {number} is in the POS as {pos_document}. {when} looks it up there by its Magento "
            "number: if it is still there, nothing is created; if it was deleted in the POS, it is created "
            f"again.{invoice}",
        )
    why = f" ({why_not_sent.rstrip('.')})" if why_not_sent else ""
    return ResendPlan(
        True,
        f"Order {number} is not in the POS{why}. {when} sends it to the POS even though the download "
        "rules did not; it first looks for it there by its Magento number, so it is never there twice."
        f"{invoice}",
    )
