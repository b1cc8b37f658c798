"""The Heartland Retail adapter's settings: the ``[pos]`` keys it reads and ``[pos.heartland]``.

A problem is a :class:`~m2pos.settings.SettingsError` naming each key as written in the TOML file;
every key is documented in ``docs/pos/heartland.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from m2pos.pos.common.settings import CachedOptions, HttpPosSettings, api_root, validate_pos_keys
from m2pos.settings import PosSettings

DOCS = "docs/pos/heartland.md"

SkuField = Literal["public_id", "upc", "id"]
TaxMode = Literal["heartland", "line"]


class HeartlandOptions(CachedOptions):
    """``[pos.heartland]``."""

    location_id: int = Field(default=1, ge=1)  # order source, ship-from and stock location
    distribute: bool = False  # commit stock at location_id when the order lands
    auto_invoice: bool = False  # distribute and invoice at once (stock leaves at once)
    create_payments: bool = True
    payment_type: str = Field(default="Magento", min_length=1)
    shipping_method: str = Field(default="Web Shipping", min_length=1)
    sku_field: SkuField = "public_id"
    reference_field: str = Field(default="magento_order_number", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    default_customer_id: int | None = Field(default=None, ge=1)
    tax_mode: TaxMode = "line"
    no_product_found_code: str = Field(default="NO-PRODUCT-FOUND", min_length=1)
    refund_product_code: str = Field(default="REFUND", min_length=1)
    tax_product_code: str = Field(default="MAGENTO-TAX", min_length=1)


class HeartlandSettings(HttpPosSettings):
    """The ``[pos]`` keys of ``kind = "heartland"``."""

    kind: Literal["heartland"] = "heartland"
    requests_per_second: float = Field(default=10.0, gt=0)
    base_url: str
    api_token: SecretStr
    heartland: HeartlandOptions = HeartlandOptions()

    @field_validator("base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                "must be https://{subdomain}.retail.heartland.us/api/ (or http:// for a local sandbox)"
            )
        return api_root(value)

    @field_validator("api_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must be a Heartland API token (Settings › My Account › API Tokens)")
        return value

    @property
    def options(self) -> HeartlandOptions:
        return self.heartland


def heartland_settings(pos: PosSettings, source: str = "settings") -> HeartlandSettings:
    """Validate the Heartland keys of ``[pos]``; raise :class:`SettingsError` naming every bad key."""
    return validate_pos_keys(HeartlandSettings, pos, source, DOCS)
