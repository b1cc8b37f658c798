"""The Lightspeed OnSite adapter's settings: the ``[pos]`` keys it reads and ``[pos.lightspeed_onsite]``.

``PosSettings`` lets every POS add its own keys; this module validates them, and a problem is a
:class:`~m2pos.settings.SettingsError` naming each key as it is written in the TOML file. Every key
is documented in ``docs/pos/lightspeed_onsite.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from m2pos import __version__
from m2pos.pos.common.settings import CachedOptions, HttpPosSettings, api_root, validate_pos_keys
from m2pos.settings import PosSettings, SettingsError

DEMO_APP_ID = "com.lightspeed.onsite.demo"
DOCS = "docs/pos/lightspeed_onsite.md"

DocumentKind = Literal["invoice", "order"]
SkuField = Literal["code", "upc", "manufacturer_sku", "product_id"]
TaxMode = Literal["tax_code_name", "line"]


class OnSiteOptions(CachedOptions):
    """``[pos.lightspeed_onsite]``."""

    download_orders_as: DocumentKind = "invoice"
    reserve_order_inventory: bool = False
    create_order_deposits: bool = False
    sku_field: SkuField = "code"
    default_customer_id: int | None = Field(default=None, ge=1)
    deposit_payment_method: str = Field(default="Magento", min_length=1)
    tax_mode: TaxMode = "tax_code_name"
    no_tax_code: str = Field(default="No Tax", min_length=1)
    no_product_found_code: str = Field(default="NO-PRODUCT-FOUND", min_length=1)
    shipping_product_code: str = Field(default="SHIPPING", min_length=1)
    refund_product_code: str = Field(default="REFUND", min_length=1)
    tax_product_code: str = Field(default="MAGENTO-TAX", min_length=1)


class OnSiteSettings(HttpPosSettings):
    """The ``[pos]`` keys of ``kind = "lightspeed_onsite"``."""

    kind: Literal["lightspeed_onsite"] = "lightspeed_onsite"
    base_url: str = "https://127.0.0.1:9630/api/"
    username: str = Field(min_length=1)
    password: SecretStr
    app_id: str = DEMO_APP_ID
    app_version: str = __version__
    app_private_id: SecretStr
    verify_tls: bool = True
    ca_file: Path | None = None
    session_file: Path | None = Path(".m2pos-onsite-session")
    lightspeed_onsite: OnSiteOptions = OnSiteOptions()

    @field_validator("base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return api_root(value)

    @field_validator("app_id")
    @classmethod
    def _reverse_domain(cls, value: str) -> str:
        if not value or any(c.isspace() or c == "/" for c in value):
            raise ValueError("must be the application identifier, e.g. com.example.m2pos (no spaces or /)")
        return value

    @field_validator("session_file", mode="before")
    @classmethod
    def _empty_disables(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def options(self) -> OnSiteOptions:
        return self.lightspeed_onsite


def _contradictions(settings: OnSiteSettings) -> list[str]:
    options = settings.lightspeed_onsite
    problems = []
    if options.download_orders_as == "invoice":
        if options.reserve_order_inventory:
            problems.append(
                "  pos.lightspeed_onsite.reserve_order_inventory: only works with "
                'download_orders_as = "order": a Lightspeed invoice takes the stock at once, so there is '
                'nothing to reserve. Set download_orders_as = "order" or remove reserve_order_inventory.'
            )
        if options.create_order_deposits:
            problems.append(
                "  pos.lightspeed_onsite.create_order_deposits: only works with "
                'download_orders_as = "order": Lightspeed OnSite does not accept payments on invoices '
                'through its API. Set download_orders_as = "order" or remove create_order_deposits.'
            )
    if settings.ca_file is not None and not settings.verify_tls:
        problems.append("  pos.ca_file: is only used with verify_tls = true; remove one of them.")
    return problems


def onsite_settings(pos: PosSettings, source: str = "settings") -> OnSiteSettings:
    """Validate the OnSite keys of ``[pos]``; raise :class:`SettingsError` naming every bad key."""
    settings = validate_pos_keys(OnSiteSettings, pos, source, DOCS)
    problems = _contradictions(settings)
    if problems:
        raise SettingsError(f"{source}: invalid settings\n" + "\n".join(problems))
    return settings
