"""The Lightspeed X-Series adapter's settings: the ``[pos]`` keys it reads and
``[pos.lightspeed_xseries]``. A problem is a :class:`~m2pos.settings.SettingsError` naming each key
as written in the TOML file; every key is documented in ``docs/pos/lightspeed_xseries.md``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from m2pos.settings import PosSettings, SettingsError, describe_validation_error

DOCS = "docs/pos/lightspeed_xseries.md"

SkuField = Literal["sku", "supplier_code", "product_id"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class XSeriesOptions(_Model):
    """``[pos.lightspeed_xseries]``."""

    register_id: str | None = None  # None: the first open register
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
    cache_seconds: float = Field(default=300.0, ge=0)
    cache_entries: int = Field(default=10_000, ge=1)


class XSeriesSettings(_Model):
    """The ``[pos]`` keys of ``kind = "lightspeed_xseries"``."""

    kind: Literal["lightspeed_xseries"] = "lightspeed_xseries"
    requests_per_second: float = Field(default=20.0, gt=0)
    base_url: str = "https://example.retail.lightspeed.app/api/"
    token: SecretStr  # a personal token or an OAuth2 access token (sent as a Bearer token)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_retry_after_seconds: float = Field(default=300.0, ge=0)
    # X-Series counts requests over a 5-minute window; the client spreads its requests over it.
    rate_limit_window_seconds: float = Field(default=300.0, gt=0)
    lightspeed_xseries: XSeriesOptions = XSeriesOptions()

    @field_validator("base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local sandbox)")
        value = value.rstrip("/")
        if value.endswith("/api/2.0"):
            value = value[: -len("/2.0")]
        if not value.endswith("/api"):
            value += "/api"
        return value + "/"

    @property
    def options(self) -> XSeriesOptions:
        return self.lightspeed_xseries


def xseries_settings(pos: PosSettings, source: str = "settings") -> XSeriesSettings:
    """Validate the X-Series keys of ``[pos]``; raise :class:`SettingsError` naming every bad key."""
    data = {"kind": pos.kind, "requests_per_second": pos.requests_per_second, **(pos.model_extra or {})}
    try:
        return _Root.model_validate({"pos": data}).pos
    except ValidationError as error:
        text = describe_validation_error(error, source).replace("docs/configuration.md", DOCS)
        raise SettingsError(text) from None


class _Root(BaseModel):
    model_config = ConfigDict(frozen=True)

    pos: XSeriesSettings
