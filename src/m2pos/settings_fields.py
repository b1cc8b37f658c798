"""The settings the web console edits, as data: fields, choices and sections.

The sections every store has live here; each POS brings its own two (order settings and connection)
in its ``PosKind`` (``m2pos.pos.registry``). ``editable_keys`` is what the console may save, derived
from all of them, so a key is declared once. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["bool", "choice", "text", "number", "list", "secret"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    explanation: str = ""


@dataclass(frozen=True)
class Field:
    key: str  # the settings key, as in m2pos.toml
    label: str
    kind: Kind
    help: str = ""
    default: Any = None  # when neither the file, the console nor the environment sets it
    choices: tuple[Choice, ...] = ()
    # The field is enabled only while this other field has this value (the browser follows it).
    enabled_when: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        return self.key.replace(".", "__")  # form field names: no dots, for CSS and JavaScript


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]
    intro: str = ""
    notes: tuple[str, ...] = ()
    warning: str = ""


CANCELLED_NOTE = (
    "Cancelled orders are not downloaded, unless they were downloaded before they were cancelled: "
    "then the cancellation is carried to the POS."
)

BASIC = Section(
    "Basic Settings",
    (
        Field(
            "orders.download_orders",
            "Download Orders",
            "bool",
            "Bring Magento orders into the POS. When off, no order is downloaded.",
            default=True,
        ),
        Field(
            "orders.download_credit_memos",
            "Download Credit Memos",
            "bool",
            "Bring Magento credit memos into the POS as returns of orders already downloaded.",
            default=True,
        ),
    ),
    notes=(CANCELLED_NOTE,),
)

MODE = Section(
    "Order Download Mode",
    (
        Field(
            "orders.mode",
            "Download orders when",
            "choice",
            default="auto_invoice",
            choices=(
                Choice(
                    "auto_invoice",
                    "Auto-Invoice",
                    "Downloads paid orders that are not yet invoiced and are Pending, Pending Payment or "
                    "Processing, then invoices them in Magento. Paid means: the payment is authorised or "
                    "captured for the grand total, the grand total is 0, or the payment method is one of "
                    "the paid methods below.",
                ),
                Choice(
                    "wait_for_invoice",
                    "Wait for Invoice",
                    "Downloads an order only once it is invoiced in Magento (total_invoiced above 0, a "
                    "partial invoice counts). m2pos never invoices.",
                ),
            ),
        ),
        Field(
            "orders.paid_methods",
            "Payment methods counted as paid",
            "list",
            "Magento payment method codes, separated by commas (e.g. checkmo). Auto-Invoice only.",
            default=[],
        ),
    ),
    warning=(
        "Another extension that invoices orders automatically stops orders in Auto-Invoice mode: they "
        "are invoiced before m2pos sees them, and m2pos skips them. Use Wait for Invoice with such an "
        "extension, or turn it off."
    ),
    notes=(
        "Changing the mode is not retroactive: every order is judged by the mode in force when it was "
        "created.",
    ),
)

POLL = Section(
    "Schedule",
    (
        Field(
            "orders.poll_interval_seconds",
            "Check Magento every (seconds)",
            "number",
            "How often m2pos looks for new and changed orders and credit memos (at least 1).",
            default=10.0,
        ),
    ),
)

MAGENTO_CONNECTION = Section(
    "Magento 2",
    (
        Field("magento.base_url", "Store URL", "text", "e.g. https://shop.example.com", default=""),
        Field(
            "magento.store_code", "Store code", "text", "The REST store code (default).", default="default"
        ),
        Field("magento.consumer_key", "Consumer key", "secret"),
        Field("magento.consumer_secret", "Consumer secret", "secret"),
        Field("magento.access_token", "Access token", "secret"),
        Field("magento.access_token_secret", "Access token secret", "secret"),
    ),
    intro="From System › Extensions › Integrations › Edit › Integration Details in the Magento admin.",
)

NOTIFICATIONS = Section(
    "E-mail digest",
    (
        Field(
            "notifications.enabled",
            "Send the digest",
            "bool",
            "Failed and needs-attention orders, at most every few minutes until resolved.",
            default=False,
        ),
        Field(
            "notifications.recipients", "Recipients", "list", "Addresses, separated by commas.", default=[]
        ),
        Field("notifications.sender", "Sender", "text", default="m2pos@localhost"),
        Field("notifications.digest_minutes", "At most every (minutes)", "number", default=10.0),
        Field("notifications.smtp_host", "SMTP server", "text", default="localhost"),
        Field("notifications.smtp_port", "SMTP port", "number", default=25),
        Field("notifications.smtp_username", "SMTP user", "text", default=""),
        Field("notifications.smtp_password", "SMTP password", "secret"),
        Field("notifications.smtp_starttls", "STARTTLS", "bool", default=False),
        Field("notifications.smtp_ssl", "SSL/TLS", "bool", default=False),
    ),
)

GENERAL_SECTIONS = (BASIC, MODE, POLL, MAGENTO_CONNECTION, NOTIFICATIONS)


def editable_keys() -> dict[str, bool]:
    """Every key the console edits, True for secrets (encrypted at rest, never sent to the browser)."""
    from m2pos.pos.registry import POS_KINDS

    sections: list[Section] = list(GENERAL_SECTIONS)
    for pos in POS_KINDS.values():
        sections += [s for s in (pos.order_section, pos.connection_section) if s is not None]
    keys: dict[str, bool] = {}
    for section in sections:
        for f in section.fields:
            secret = f.kind == "secret"
            if keys.setdefault(f.key, secret) != secret:
                raise AssertionError(f"{f.key} is a secret in one section and not in another")
    return keys
