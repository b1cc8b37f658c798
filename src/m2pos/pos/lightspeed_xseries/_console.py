"""The console's sections for Lightspeed X-Series: how orders land, and the connection."""

from __future__ import annotations

from m2pos.settings_fields import Choice, Field, Section

ORDER_SECTION = Section(
    "Lightspeed X-Series",
    (
        Field(
            "pos.lightspeed_xseries.pickup_shipping_methods",
            "Shipping methods picked up in store",
            "list",
            "Magento shipping methods (carrier_method, separated by commas) whose sale waits for pickup; "
            "every other order's sale waits for dispatch.",
            default=["instore_pickup"],
        ),
        Field(
            "pos.lightspeed_xseries.sku_field",
            "Match products on",
            "choice",
            default="sku",
            choices=(
                Choice("sku", "SKU", "The product's SKU holds the Magento SKU."),
                Choice("supplier_code", "Supplier code", "The supplier code holds the Magento SKU."),
                Choice("product_id", "Product id", "X-Series' product id holds the Magento SKU."),
            ),
        ),
        Field(
            "pos.lightspeed_xseries.payment_type",
            "Payment type",
            "text",
            "The X-Series payment type of what was paid online (it must exist in X-Series).",
            default="Magento",
        ),
        Field(
            "pos.lightspeed_xseries.register_id",
            "Register id",
            "text",
            "The register the sales are made on (empty: the first open register).",
            default="",
        ),
    ),
    intro="How Magento orders land in Lightspeed X-Series: as sales awaiting dispatch or pickup.",
    notes=("Items whose SKU X-Series lacks go on the No Product Found product; the order still transfers.",),
)

CONNECTION_SECTION = Section(
    "Lightspeed X-Series",
    (
        Field(
            "pos.base_url",
            "API address",
            "text",
            "https://{your domain prefix}.retail.lightspeed.app/api/",
            default="",
        ),
        Field(
            "pos.token",
            "Token",
            "secret",
            "A personal token (Setup › Personal tokens) or an OAuth access token.",
        ),
    ),
)
