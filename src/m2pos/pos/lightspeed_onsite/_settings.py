"""The Lightspeed OnSite adapter's settings: the ``[pos]`` keys it reads and ``[pos.lightspeed_onsite]``.

``PosSettings`` lets every POS add its own keys; this module validates them, and a problem is a
:class:`~m2pos.settings.SettingsError` naming each key as it is written in the TOML file. Every key
is documented in ``docs/pos/lightspeed_onsite.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from m2pos import __version__
from m2pos.settings import PosSettings, SettingsError, describe_validation_error

DEMO_APP_ID = "com.lightspeed.onsite.demo"
DOCS = "docs/pos/lightspeed_onsite.md"

DocumentKind = Literal["invoice", "order"]
SkuField = Literal["code", "upc", "manufacturer_sku", "product_id"]
TaxMode = Literal["tax_code_name", "line"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class OnSiteOptions(_Model):
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
    cache_seconds: float = Field(default=300.0, ge=0)
    cache_entries: int = Field(default=10_000, ge=1)


class OnSiteSettings(_Model):
    """The ``[pos]`` keys of ``kind = "lightspeed_onsite"``."""

    kind: Literal["lightspeed_onsite"] = "lightspeed_onsite"
    requests_per_second: float = Field(default=20.0, gt=0)
    base_url: str = "https://127.0.0.1:9630/api/"
    username: str = Field(min_length=1)
    password: SecretStr
    app_id: str = DEMO_APP_ID
    app_version: str = __version__
    app_private_id: SecretStr
    verify_tls: bool = True
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    session_file: Path | None = Path(".m2pos-onsite-session")
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_retry_after_seconds: float = Field(default=10.0, ge=0)
    lightspeed_onsite: OnSiteOptions = OnSiteOptions()

    @field_validator("base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local sandbox)")
        value = value.rstrip("/")
        if not value.endswith("/api"):
            value += "/api"
        return value + "/"

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
    data = {"kind": pos.kind, "requests_per_second": pos.requests_per_second, **(pos.model_extra or {})}
    try:
        settings = _Root.model_validate({"pos": data}).pos
    except ValidationError as error:
        text = describe_validation_error(error, source).replace("docs/configuration.md", DOCS)
        raise SettingsError(text) from None
    problems = _contradictions(settings)
    if problems:
        raise SettingsError(f"{source}: invalid settings\n" + "\n".join(problems))
    return settings


class _Root(BaseModel):
    model_config = ConfigDict(frozen=True)

    pos: OnSiteSettings
