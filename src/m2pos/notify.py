"""E-mail digest of what needs a person: failed items, "needs attention" items, store warnings.

A digest goes out at most every ``notifications.digest_minutes`` (10 by default) for as long as
something is unresolved, like the merchant's current service does, and never when all is well.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from m2pos.ledger import CreditMemoRow, Ledger, OrderRow, OrderStatus
from m2pos.rules import Reason
from m2pos.settings import NotificationSettings, OrderSettings

FOREIGN_INVOICE_WINDOW = timedelta(hours=24)
# How long a mail server may take to answer. The digest is sent during the sync cycle, so this is
# also how long one cycle can be held up by a mail server that accepts connections and then hangs.
SMTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Digest:
    orders: list[OrderRow]
    credit_memos: list[CreditMemoRow]
    warnings: list[str]

    @property
    def empty(self) -> bool:
        return not (self.orders or self.credit_memos or self.warnings)


def store_warnings(ledger: Ledger, orders: OrderSettings, now: datetime) -> list[str]:
    """Problems of the store as a whole, as opposed to one order."""
    warnings = []
    foreign = ledger.count_reason_since(Reason.INVOICED_ELSEWHERE.value, now - FOREIGN_INVOICE_WINDOW)
    if orders.mode == "auto_invoice" and foreign >= orders.foreign_invoice_warning_threshold:
        warnings.append(
            f"{foreign} orders in the last 24 hours were invoiced in Magento before m2pos could download "
            "them. Another auto-invoicing feature (an extension or a payment module) seems to be active: "
            "in Auto-Invoice mode those orders are skipped. Turn that feature off, or switch the Order "
            "Download Mode to Wait for Invoice."
        )
    return warnings


def collect_digest(ledger: Ledger, orders: OrderSettings, now: datetime) -> Digest:
    failed_orders, failed_memos = ledger.problems()
    return Digest(failed_orders, failed_memos, store_warnings(ledger, orders, now))


def render_digest(digest: Digest, store: str) -> EmailMessage:
    count = len(digest.orders) + len(digest.credit_memos)
    message = EmailMessage()
    message["Subject"] = (
        f"m2pos ({store}): {count} item(s) need attention" if count else f"m2pos ({store}): warning"
    )
    lines = [f"m2pos could not finish everything for store {store}.", ""]
    for warning in digest.warnings:
        lines += [f"Warning: {warning}", ""]
    for row in digest.orders:
        state = (
            "needs attention"
            if row.status == OrderStatus.NEEDS_ATTENTION
            else f"will retry at {row.next_retry_at:%Y-%m-%d %H:%M} UTC"
        )
        lines.append(f"- Order {row.increment_id} ({state}, {row.attempts} attempts): {row.last_error}")
    for memo in digest.credit_memos:
        state = "needs attention" if memo.status == OrderStatus.NEEDS_ATTENTION else "will retry"
        lines.append(
            f"- Credit memo {memo.increment_id} ({state}, {memo.attempts} attempts): {memo.last_error}"
        )
    lines += ["", "After fixing the cause, run `m2pos retry <number>` or use Retry in the web console."]
    message.set_content("\n".join(lines))
    return message


def send_email(settings: NotificationSettings, message: EmailMessage) -> None:
    """Send through the configured SMTP server (blocking; call it in a thread)."""
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


async def maybe_send_digest(
    ledger: Ledger, notifications: NotificationSettings, orders: OrderSettings, now: datetime
) -> bool:
    """Send the digest if something is unresolved and the last one is old enough; True if sent.

    A failed send (``OSError``, raised to the caller) is not tried again before the digest interval
    has passed either, so an unreachable mail server holds up one cycle at most per interval.
    """
    if not notifications.enabled:
        return False
    interval = timedelta(minutes=notifications.digest_minutes)
    for marker in ("last_digest", "digest_failed"):
        last = ledger.marker(marker)
        if last is not None and now - last.at < interval:
            return False
    digest = collect_digest(ledger, orders, now)
    if digest.empty:
        return False
    try:
        await asyncio.to_thread(send_email, notifications, render_digest(digest, ledger.store))
    except OSError as error:
        ledger.set_marker("digest_failed", now, str(error)[:500])
        raise
    ledger.set_marker(
        "last_digest", now, f"{len(digest.orders)} orders, {len(digest.credit_memos)} credit memos"
    )
    return True
