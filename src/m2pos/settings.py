"""The merchant's settings: one validated model, read from TOML with environment overrides.

``m2pos.toml`` (or ``--config PATH``) is overlaid with ``M2POS_<SECTION>__<KEY>`` variables, e.g.
``M2POS_ORDERS__MODE=wait_for_invoice``; a variable's value is read as a TOML value when it parses
as one (``true``, ``10``, ``[1, 2]``) and as a plain string otherwise. Unknown keys, wrong types
and contradictory values are refused with a :class:`SettingsError` naming each key. Every key is
documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_CONFIG_PATH = Path("m2pos.toml")
ENV_PREFIX = "M2POS_"

OrderMode = Literal["auto_invoice", "wait_for_invoice"]


class SettingsError(ValueError):
    """Settings that cannot be used; the message names every offending key."""

    def problems(self) -> dict[str, str]:
        """Each offending key (as written in the file) and what is wrong with it.

        Read back from the message's ``  key: problem`` lines, the one format every validator
        writes; a problem that names no key is under ``""``.
        """
        found: dict[str, str] = {}
        for line in str(self).splitlines()[1:]:
            key, _, problem = line.strip().partition(": ")
            if problem and " " not in key:
                found.setdefault(key, problem)
            else:
                found.setdefault("", line.strip())
        if not found:
            found[""] = str(self)
        return found


class _Section(BaseModel):
    # Numbers coerce to text so that a numeric-looking secret in an environment variable still loads.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class MagentoSettings(_Section):
    base_url: str = "http://127.0.0.1:8081"
    store_code: str = "default"
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    bearer_token: SecretStr | None = None
    store_ids: tuple[int, ...] | None = None  # None: orders from every store view
    page_size: int = Field(default=100, ge=1, le=300)
    timeout_seconds: float = Field(default=60.0, gt=0)
    requests_per_second: float = Field(default=20.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local sandbox)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        oauth = [self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret]
        given = sum(v is not None for v in oauth)
        if self.bearer_token is not None and given:
            raise ValueError(
                "give either the four OAuth 1.0a credentials (consumer_key, consumer_secret, "
                "access_token, access_token_secret) or bearer_token, not both"
            )
        if 0 < given < 4:
            missing = [
                name
                for name, value in zip(
                    ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
                    oauth,
                    strict=True,
                )
                if value is None
            ]
            raise ValueError(f"OAuth 1.0a needs all four credentials; missing: {', '.join(missing)}")
        return self

    @property
    def has_credentials(self) -> bool:
        return self.bearer_token is not None or self.consumer_key is not None


class OrderSettings(_Section):
    download_orders: bool = True
    download_credit_memos: bool = True
    mode: OrderMode = "auto_invoice"
    # Orders created earlier are never downloaded; None means "when m2pos first ran".
    start_date: datetime | None = None
    poll_interval_seconds: float = Field(default=10.0, ge=1)
    # Payment methods whose orders count as paid without an authorisation (e.g. ["checkmo"]).
    paid_methods: tuple[str, ...] = ()
    # Auto-Invoice: capture online through the gateway where the payment method can.
    capture_online: bool = True
    # Re-read this much before the cursor each cycle: Magento stamps updated_at before commit.
    overlap_seconds: int = Field(default=120, ge=0)
    # The reconciliation pass re-checks orders created within this window.
    reconcile_window_hours: float = Field(default=48.0, gt=0)
    reconcile_every_seconds: float = Field(default=600.0, gt=0)
    # A failing item is retried with backoff, then marked "needs attention".
    max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    concurrency: int = Field(default=8, ge=1, le=256)
    # At most this many orders read per cycle (0: all); the rest in the next cycles, oldest change
    # first. Distributed mode works backlogs in such slices so that one store does not hold a worker.
    max_orders_per_cycle: int = Field(default=0, ge=0)
    # Skipped "invoiced by something else" this many times in a day → warn about another auto-invoicer.
    foreign_invoice_warning_threshold: int = Field(default=3, ge=1)

    @field_validator("start_date")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _retry_bounds(self) -> Self:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must not be smaller than retry_base_seconds")
        return self


class PosSettings(_Section):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)  # each POS adds keys

    kind: str = "memory"
    requests_per_second: float = Field(default=20.0, gt=0)

    def __repr_args__(self) -> Any:
        # The POS's own keys are plain values until its adapter validates them: mask the secret ones.
        for key, value in super().__repr_args__():
            yield key, ("**********" if key is not None and _is_secret_key(key) else value)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        from m2pos.pos.registry import POS_KINDS  # the registry imports this module

        if value not in POS_KINDS:
            raise ValueError(f"unknown POS {value!r}; one of {', '.join(POS_KINDS)}")
        return value


class CreditMemoSettings(_Section):
    # Put returned items back in the POS's stock: as Magento did (read from its stock movements),
    # always, or never. See docs/credit-memos.md.
    restock: Literal["as_magento", "always", "never"] = "as_magento"


class InventorySettings(_Section):
    # The POS is the inventory master: push its on-hand minus reserved to Magento's source items.
    sync: bool = True
    source_code: str = "default"
    # Magento's list of SKUs is read again after this long (new products appear then).
    catalog_refresh_seconds: float = Field(default=600.0, ge=0)


class StateSettings(_Section):
    database_url: str = "sqlite:///m2pos.db"
    # Key that encrypts the secrets saved from the web console (M2POS_SECRET_KEY takes precedence).
    secret_key_file: str = ".m2pos-secret-key"  # noqa: S105 - a file name, not a secret

    @field_validator("database_url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgresql+psycopg2:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class NotificationSettings(_Section):
    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    sender: str = "m2pos@localhost"
    recipients: tuple[str, ...] = ()
    digest_minutes: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _recipients_when_enabled(self) -> Self:
        if self.enabled and not self.recipients:
            raise ValueError("notifications are enabled but recipients is empty")
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("choose smtp_ssl or smtp_starttls, not both")
        return self


class WebSettings(_Section):
    """The web console (``m2pos web``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    session_hours: float = Field(default=12.0, gt=0)
    # Failed logins allowed per user name, and per address, in 15 minutes; then logins wait.
    login_attempts: int = Field(default=5, ge=1)
    # Mark session cookies Secure; None: when the request came over HTTPS (or a proxy said so).
    secure_cookies: bool | None = None
    # Bearer token Prometheus sends to scrape /metrics (Authorization: Bearer …); unset: no /metrics.
    metrics_token: SecretStr | None = None


class WorkerSettings(_Section):
    """Distributed mode (``m2pos worker``, ``m2pos scheduler``; docs/deploy.md)."""

    # Celery's broker: redis://host:6379/0 or amqp://user:password@host:5672//
    broker_url: str = "redis://127.0.0.1:6379/0"
    queue: str = Field(default="m2pos", pattern=r"^[A-Za-z0-9_.:-]{1,128}$")  # one per deployment
    # A store's lease: renewed while its cycle runs; a dead worker's expires after this long.
    lease_seconds: float = Field(default=120.0, ge=5)
    # A queued cycle whose message never arrived (a broker lost it) is queued again after this long.
    stale_queue_seconds: float = Field(default=600.0, gt=0)
    scheduler_tick_seconds: float = Field(default=1.0, gt=0)
    # A cycle that finds its store busy (another cycle runs) tries again after this long.
    busy_retry_seconds: float = Field(default=5.0, gt=0)
    # A store's default orders.max_orders_per_cycle: backlogs are worked in slices of this size,
    # each queued behind the other stores' cycles, so that no store holds a worker for long.
    orders_per_slice: int = Field(default=500, ge=1)
    # Redis holding the stores' request budgets, shared by every worker (default: the broker's,
    # when the broker is Redis). With RabbitMQ and no Redis, each worker paces by itself.
    budget_url: str | None = None


class Settings(_Section):
    magento: MagentoSettings = MagentoSettings()
    orders: OrderSettings = OrderSettings()
    pos: PosSettings = PosSettings()
    state: StateSettings = StateSettings()
    notifications: NotificationSettings = NotificationSettings()
    credit_memos: CreditMemoSettings = CreditMemoSettings()
    inventory: InventorySettings = InventorySettings()
    web: WebSettings = WebSettings()
    worker: WorkerSettings = WorkerSettings()

    @model_validator(mode="after")
    def _restock_signal_needs_the_stock_sync(self) -> Self:
        if self.credit_memos.restock == "as_magento" and not self.inventory.sync:
            raise ValueError(
                'credit_memos.restock = "as_magento" reads what Magento did from its stock movements, '
                'which m2pos observes only with inventory.sync = true; set restock to "always" or "never"'
            )
        return self


@dataclass(frozen=True)
class SettingsLayers:
    """Where settings come from, lowest first: defaults, the file, the console, the environment.

    The console's layer lives in the database (``m2pos.settings_store``); a key set by an
    environment variable cannot be changed from the console.
    """

    file: dict[str, Any]
    environment: dict[str, Any]
    source: str

    def resolve(self, console: Mapping[str, Any] | None = None) -> Settings:
        data = merge(self.file, console or {})
        return settings_from_dict(merge(data, self.environment), source=self.source)


def read_layers(path: Path | None = None, environ: Mapping[str, str] | None = None) -> SettingsLayers:
    """Read ``path`` (default ``m2pos.toml`` when it exists) and the ``M2POS_*`` variables."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    config_path = path if path is not None else DEFAULT_CONFIG_PATH
    if path is not None and not path.exists():
        raise SettingsError(f"{path}: no such settings file")
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{config_path}: not valid TOML: {error}") from None
    overrides: dict[str, Any] = {}
    _overlay_environment(overrides, environ)
    return SettingsLayers(data, overrides, str(config_path))


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The file overlaid with the environment, validated (without the console's saved settings)."""
    return read_layers(path, environ).resolve()


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top``'s keys over it, section by section."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = merge(below, value)
        else:
            merged[key] = value
    return merged


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"orders": {"mode": …}}`` → ``{"orders.mode": …}``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`."""
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        *sections, key = dotted.split(".")
        target = nested
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value
    return nested


def settings_from_dict(data: Mapping[str, Any], source: str = "settings") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error, source)) from None


def describe_validation_error(
    error: ValidationError, source: str, section: str = "", docs: str = "docs/configuration.md"
) -> str:
    """One line per problem, each naming the key as it is written in the TOML file (``section``:
    where the validated model sits in it, e.g. ``pos``)."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in ((section,) if section else ()) + tuple(problem["loc"]))
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = f"unknown key (see {docs} for the keys m2pos reads)"
        elif problem["type"] == "literal_error":
            message = f"{message} (got {problem['input']!r})"
        lines.append(f"  {key or '(top level)'}: {message}")
    return f"{source}: invalid settings\n" + "\n".join(lines)


def _overlay_environment(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name.removeprefix(ENV_PREFIX).split("__")]
        target = data
        for part in path[:-1]:
            node = target.setdefault(part, {})
            if not isinstance(node, dict):
                raise SettingsError(f"{name}: {'.'.join(path[:-1])} is not a section")
            target = node
        target[path[-1]] = _env_value(raw)


def _env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def is_secret_key(key: str) -> bool:
    """Whether a settings key (its last part) names a secret: masked in logs, encrypted at rest."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf.endswith(("_file", "_url")):
        return False  # token_file, token_url: where a secret lives, not the secret
    return leaf in ("consumer_key", "api_token") or any(
        word in leaf for word in ("password", "secret", "token", "private")
    )


_is_secret_key = is_secret_key


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, so that logs can mask them."""
    candidates = [
        settings.magento.consumer_key,
        settings.magento.consumer_secret,
        settings.magento.access_token,
        settings.magento.access_token_secret,
        settings.magento.bearer_token,
        settings.notifications.smtp_password,
        settings.web.metrics_token,
    ]
    values = [c.get_secret_value() for c in candidates if c is not None]
    broker_password = urlsplit(settings.worker.broker_url).password
    if broker_password:
        values.append(broker_password)
    for key, value in (settings.pos.model_extra or {}).items():
        if isinstance(value, str) and _is_secret_key(key):
            values.append(value)
    return values
