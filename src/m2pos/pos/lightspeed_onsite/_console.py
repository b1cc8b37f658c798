"""The console's sections for Lightspeed OnSite: how orders land, and the connection."""

from __future__ import annotations

from m2pos.settings_fields import Choice, Field, Section

_ORDER_ONLY = ("pos.lightspeed_onsite.download_orders_as", "order")

ORDER_SECTION = Section(
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
)

CONNECTION_SECTION = Section(
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
)
