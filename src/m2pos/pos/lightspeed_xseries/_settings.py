"""The Lightspeed X-Series adapter's settings: the ``[pos]`` keys it reads and
``[pos.lightspeed_xseries]``. A problem is a :class:`~m2pos.settings.SettingsError` naming each key
as written in the TOML file; every key is documented in ``docs/pos/lightspeed_xseries.md``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from m2pos.pos.common.settings import CachedOptions, HttpPosSettings, api_root, http_url, validate_pos_keys
from m2pos.settings import PosSettings

DOCS = "docs/pos/lightspeed_xseries.md"

SkuField = Literal["sku", "supplier_code", "product_id"]


class XSeriesOptions(CachedOptions):
    """``[pos.lightspeed_xseries]``."""

    register_id: str | None = None  # None: the first open register
    create_payments: bool = True
    payment_type: str = Field(default="Magento", min_length=1)
    user_id: str | None = None  # None: the token's user (X-Series' default)
    # Magento shipping methods (carrier_method) whose sale waits for pickup, not dispatch:
    # Magento's In-Store Pickup is carrier "instore", method "pickup".
    pickup_shipping_methods: tuple[str, ...] = ("instore_pickup",)
    sku_field: SkuField = "sku"
    default_customer_id: str | None = None
    source: str = Field(default="Magento", min_length=1)
    no_tax_name: str = Field(default="No Tax", min_length=1)
    no_product_found_sku: str = Field(default="NO-PRODUCT-FOUND", min_length=1)
    shipping_product_sku: str = Field(default="SHIPPING", min_length=1)
    refund_product_sku: str = Field(default="REFUND", min_length=1)
    tax_product_sku: str = Field(default="MAGENTO-TAX", min_length=1)

    @field_validator("register_id", "user_id", "default_customer_id", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value  # an emptied console field means "not set"


class XSeriesSettings(HttpPosSettings):
    """The ``[pos]`` keys of ``kind = "lightspeed_xseries"``."""

    kind: Literal["lightspeed_xseries"] = "lightspeed_xseries"
    base_url: str = "https://example.retail.lightspeed.app/api/"
    token: SecretStr  # a personal token or an OAuth2 access token (sent as a Bearer token)
    max_retry_after_seconds: float = Field(default=300.0, ge=0)
    # X-Series counts requests over a 5-minute window; the client spreads its requests over it.
    rate_limit_window_seconds: float = Field(default=300.0, gt=0)
    lightspeed_xseries: XSeriesOptions = XSeriesOptions()

    @field_validator("base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return api_root(http_url(value).rstrip("/").removesuffix("/2.0"))

    @property
    def options(self) -> XSeriesOptions:
        return self.lightspeed_xseries


def xseries_settings(pos: PosSettings, source: str = "settings") -> XSeriesSettings:
    """Validate the X-Series keys of ``[pos]``; raise :class:`SettingsError` naming every bad key."""
    return validate_pos_keys(XSeriesSettings, pos, source, DOCS)
