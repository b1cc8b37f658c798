"""The console's forms as data: which settings each page shows, how they read, and how a submitted
form becomes settings changes. No I/O here; ``m2pos.settings_store`` validates and saves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from m2pos.settings import Settings, flatten

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


@dataclass
class FormResult:
    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # settings key → problem


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

_ORDER_ONLY = ("pos.lightspeed_onsite.download_orders_as", "order")

POS_SECTIONS: dict[str, Section] = {
    "lightspeed_onsite": Section(
        "Lightspeed OnSite",
        (
            Field(
                "pos.lightspeed_onsite.download_orders_as",
                "Download Orders As",
                "choice",
                default="invoice",
                choices=(
                    Choice("order", "Order", "A Lightspeed Order, turned into an invoice when picked up."),
                    Choice("invoice", "Invoice", "A Lightspeed Invoice, which takes the stock at once."),
                ),
            ),
            Field(
                "pos.lightspeed_onsite.reserve_order_inventory",
                "Reserve Order Inventory",
                "bool",
                "Each line of the Order reserves its stock; the reserved stock is deducted from the "
                "quantity sent back to Magento.",
                default=False,
                enabled_when=_ORDER_ONLY,
            ),
            Field(
                "pos.lightspeed_onsite.create_order_deposits",
                "Create Order Deposits",
                "bool",
                "Record what the customer paid online as a deposit on the Order.",
                default=False,
                enabled_when=_ORDER_ONLY,
            ),
        ),
        intro="How Magento orders land in Lightspeed OnSite.",
        notes=(
            "Reserve Order Inventory and Create Order Deposits work only when downloading as Orders. "
            "We recommend reserving inventory when downloading as Orders, so that the shop cannot sell "
            "what a web customer has already bought.",
        ),
    ),
}

POS_SECTIONS["lightspeed_retail"] = Section(
    "Lightspeed Retail (R-Series)",
    (
        Field(
            "pos.lightspeed_retail.download_orders_as",
            "Download Orders As",
            "choice",
            default="sale",
            choices=(
                Choice(
                    "sale", "Sale", "A completed Sale, paid under the Magento payment type; takes the stock."
                ),
                Choice("quote", "Quote", "A Quote that holds the order without taking stock or payment."),
            ),
        ),
        Field(
            "pos.lightspeed_retail.sku_field",
            "Match products on",
            "choice",
            default="customSku",
            choices=(
                Choice("customSku", "Custom SKU", "The item's Custom SKU holds the Magento SKU."),
                Choice("systemSku", "System ID", "Lightspeed's System ID holds the Magento SKU."),
                Choice("upc", "UPC", "The item's UPC holds the Magento SKU."),
                Choice("ean", "EAN", "The item's EAN holds the Magento SKU."),
                Choice("manufacturerSku", "Manufacturer SKU", "The manufacturer SKU holds the Magento SKU."),
            ),
        ),
        Field(
            "pos.lightspeed_retail.payment_type",
            "Payment type",
            "text",
            "The Lightspeed payment type of what was paid online (it must exist in Lightspeed).",
            default="Magento",
        ),
    ),
    intro="How Magento orders land in Lightspeed Retail.",
    notes=("Items whose SKU Lightspeed lacks go on the No Product Found item; the order still transfers.",),
)

POS_SECTIONS["heartland"] = Section(
    "Heartland Retail",
    (
        Field(
            "pos.heartland.location_id",
            "Order Source location id",
            "number",
            "The Heartland location that takes web orders, ships them and whose stock is synced.",
            default=1,
        ),
        Field(
            "pos.heartland.auto_invoice",
            "Auto-Invoicing",
            "bool",
            "Distribute each line to that location and invoice the sales order at once (the stock "
            "leaves then). Off: the order stays open for staff to distribute and invoice.",
            default=False,
        ),
        Field(
            "pos.heartland.distribute",
            "Distribute lines",
            "bool",
            "Commit the stock of each line at that location when the order lands (Auto-Invoicing does "
            "this too).",
            default=False,
        ),
        Field(
            "pos.heartland.sku_field",
            "Match items on",
            "choice",
            default="public_id",
            choices=(
                Choice("public_id", "Item #", "The item number (public id) holds the Magento SKU."),
                Choice("upc", "UPC", "The item's custom field upc holds the Magento SKU."),
                Choice("id", "Item id", "Heartland's internal item id holds the Magento SKU."),
            ),
        ),
        Field(
            "pos.heartland.payment_type",
            "Payment type",
            "text",
            "The Heartland payment type of what was paid online (it must exist in Heartland).",
            default="Magento",
        ),
        Field(
            "pos.heartland.shipping_method",
            "Shipping method",
            "text",
            "The Heartland shipping method of the shipping charge (it must exist in Heartland).",
            default="Web Shipping",
        ),
    ),
    intro="How Magento orders land in Heartland Retail: as sales orders.",
    notes=(
        "With several stock locations, use Auto-Invoicing only when everything ships from the Order "
        "Source location. Customers Heartland would reject (no last name) are held for you to fix.",
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

POS_CONNECTIONS: dict[str, Section] = {
    "lightspeed_onsite": Section(
        "Lightspeed OnSite",
        (
            Field("pos.base_url", "Server API address", "text", default="https://127.0.0.1:9630/api/"),
            Field("pos.username", "User", "text", default=""),
            Field("pos.password", "Password", "secret"),
            Field("pos.app_id", "App id", "text", default="com.lightspeed.onsite.demo"),
            Field("pos.app_private_id", "App private id", "secret"),
            Field(
                "pos.verify_tls",
                "Verify the server's certificate",
                "bool",
                "OnSite servers use a self-signed certificate: turn off, or give pos.ca_file in m2pos.toml.",
                default=True,
            ),
        ),
    ),
}

POS_CONNECTIONS["lightspeed_retail"] = Section(
    "Lightspeed Retail (R-Series)",
    (
        Field(
            "pos.account_id",
            "Account id",
            "text",
            "The number in your Lightspeed Retail address.",
            default="",
        ),
        Field("pos.client_id", "Client id", "text", "Of the API client registered for m2pos.", default=""),
        Field("pos.client_secret", "Client secret", "secret"),
        Field(
            "pos.refresh_token",
            "Refresh token",
            "secret",
            "From authorising m2pos; m2pos then keeps the rotating pair itself. Enter a new one only "
            "after authorising m2pos again.",
        ),
    ),
)

POS_CONNECTIONS["heartland"] = Section(
    "Heartland Retail",
    (
        Field(
            "pos.base_url",
            "API address",
            "text",
            "https://{your subdomain}.retail.heartland.us/api/",
            default="",
        ),
        Field(
            "pos.api_token", "API token", "secret", "A Heartland API token of a user allowed to use the API."
        ),
    ),
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


def order_sections(pos_kind: str) -> list[Section]:
    sections = [BASIC, MODE, POLL]
    if pos_kind in POS_SECTIONS:
        sections.append(POS_SECTIONS[pos_kind])
    return sections


def connection_sections(pos_kind: str) -> list[Section]:
    sections = [MAGENTO_CONNECTION]
    if pos_kind in POS_CONNECTIONS:
        sections.append(POS_CONNECTIONS[pos_kind])
    return sections


def current_values(settings: Settings, fields: Sequence[Field]) -> dict[str, Any]:
    """What each field shows. A secret shows only whether it is set: its value never leaves here."""
    flat = flatten(settings.model_dump(mode="python"))
    values: dict[str, Any] = {}
    for f in fields:
        value = flat.get(f.key, f.default)
        if f.kind == "secret":
            values[f.key] = bool(value)
        elif isinstance(value, float) and value.is_integer():
            values[f.key] = int(value)  # 10, not 10.0
        elif f.kind == "list":
            values[f.key] = ", ".join(str(v) for v in value or ())
        else:
            values[f.key] = "" if value is None else value
    return values


def read_form(
    fields: Sequence[Field], form: Mapping[str, Sequence[str]], current: Mapping[str, Any], locked: set[str]
) -> FormResult:
    """The changes a submitted form makes (only what differs from ``current``), and field errors.

    ``form`` maps each field name to its submitted values: a checkbox sends a hidden "false" before
    the box's "true", so the last value counts and an unticked box still says so. A disabled field
    sends nothing and is left as it is, unless a field it depends on switched it off.
    """
    result = FormResult()
    for f in fields:
        if f.key in locked:
            continue
        submitted = form.get(f.name)
        if not submitted:
            if f.kind == "bool" and f.enabled_when is not None and current.get(f.key):
                result.changes[f.key] = False  # disabled by its dependency: it cannot stay on
            continue
        raw = submitted[-1].strip()
        try:
            value = _parse(f, raw)
        except ValueError as error:
            result.errors[f.key] = str(error)
            continue
        if f.kind == "secret":
            if raw:
                result.changes[f.key] = value
        elif value != _comparable(f, current.get(f.key)):
            result.changes[f.key] = value
    return result


def _parse(f: Field, raw: str) -> Any:
    if f.kind == "bool":
        return raw == "true"
    if f.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("Enter a number.") from None
        return int(number) if isinstance(f.default, int) and number.is_integer() else number
    if f.kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    if f.kind == "choice" and raw not in {c.value for c in f.choices}:
        raise ValueError("Choose one of the options.")
    return raw


def _comparable(f: Field, shown: Any) -> Any:
    """The current value in the form ``_parse`` returns, to tell a change from a re-submit."""
    if f.kind == "list":
        return [part.strip() for part in str(shown or "").split(",") if part.strip()]
    if f.kind == "number" and shown not in (None, ""):
        number = float(shown)
        return int(number) if isinstance(f.default, int) and number.is_integer() else number
    return shown
