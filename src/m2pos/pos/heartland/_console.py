"""The console's sections for Heartland Retail: how orders land, and the connection."""

from __future__ import annotations

from m2pos.settings_fields import Choice, Field, Section

ORDER_SECTION = Section(
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

CONNECTION_SECTION = Section(
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
