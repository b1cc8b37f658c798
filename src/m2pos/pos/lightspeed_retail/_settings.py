"""The Lightspeed Retail (R-Series) adapter's settings: its ``[pos]`` keys and
``[pos.lightspeed_retail]``. A problem is a :class:`~m2pos.settings.SettingsError` naming each key
as written in the TOML file. Every key is documented in ``docs/pos/lightspeed_retail.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from m2pos.pos.common.settings import CachedOptions, HttpPosSettings, http_url, validate_pos_keys
from m2pos.settings import PosSettings

DOCS = "docs/pos/lightspeed_retail.md"

DocumentKind = Literal["sale", "quote"]
SkuField = Literal["customSku", "systemSku", "upc", "ean", "manufacturerSku"]


class RetailOptions(CachedOptions):
    """``[pos.lightspeed_retail]``."""

    download_orders_as: DocumentKind = "sale"
    sku_field: SkuField = "customSku"
    shop_id: int = Field(default=1, ge=1)
    register_id: int = Field(default=1, ge=1)
    employee_id: int = Field(default=1, ge=1)
    payment_type: str = Field(default="Magento", min_length=1)
    default_customer_id: int | None = Field(default=None, ge=1)
    no_product_found_sku: str = Field(default="NO-PRODUCT-FOUND", min_length=1)
    shipping_sku: str = Field(default="SHIPPING", min_length=1)
    refund_sku: str = Field(default="REFUND", min_length=1)
    tax_sku: str = Field(default="MAGENTO-TAX", min_length=1)


class RetailSettings(HttpPosSettings):
    """The ``[pos]`` keys of ``kind = "lightspeed_retail"``."""

    kind: Literal["lightspeed_retail"] = "lightspeed_retail"
    base_url: str = "https://api.lightspeedapp.com/API/V3/"
    token_url: str = "https://cloud.lightspeedapp.com/auth/oauth/token"  # noqa: S105 - a URL
    account_id: str = Field(min_length=1, pattern=r"^\d+$")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr | None = None  # the first one; afterwards the rotated pair lives in token_file
    token_file: Path = Path(".m2pos-lightspeed-retail-tokens.json")
    max_retry_after_seconds: float = Field(default=60.0, ge=0)
    lightspeed_retail: RetailOptions = RetailOptions()

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("base_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        return value.rstrip("/") + "/"

    @field_validator("refresh_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def options(self) -> RetailOptions:
        return self.lightspeed_retail

    @property
    def account_url(self) -> str:
        return f"{self.base_url}Account/{self.account_id}/"


def retail_settings(pos: PosSettings, source: str = "settings") -> RetailSettings:
    """Validate the R-Series keys of ``[pos]``; raise :class:`SettingsError` naming every bad key."""
    return validate_pos_keys(RetailSettings, pos, source, DOCS)
