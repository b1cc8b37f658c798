"""The console's sections for Lightspeed Retail (R-Series): how orders land, and the connection."""

from __future__ import annotations

from m2pos.settings_fields import Choice, Field, Section

ORDER_SECTION = Section(
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

CONNECTION_SECTION = Section(
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
