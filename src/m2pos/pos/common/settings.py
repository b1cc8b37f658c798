"""What every POS adapter's settings share: the ``[pos]`` keys of an HTTP client, the cache keys of
its options table, and the validation that names each bad key as written in the TOML file.

``PosSettings`` lets every POS add its own keys; an adapter declares them as a subclass of
:class:`HttpPosSettings` and validates with :func:`validate_pos_keys`.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from m2pos.settings import PosSettings, SettingsError, describe_validation_error


class PosModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class CachedOptions(PosModel):
    """The look-up caches (products by SKU, customers by e-mail) of a POS's options table."""

    cache_seconds: float = Field(default=300.0, ge=0)
    cache_entries: int = Field(default=10_000, ge=1)


class HttpPosSettings(PosModel):
    """The ``[pos]`` keys of every POS reached over HTTP."""

    requests_per_second: float = Field(default=20.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    # A Retry-After longer than this is not waited for in the request: the item is retried later.
    max_retry_after_seconds: float = Field(default=10.0, ge=0)


def http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// (or http:// for a local sandbox)")
    return value


def api_root(value: str, suffix: str = "/api") -> str:
    """``https://host/x``, ``https://host/x/api`` or ``…/api/`` → ``https://host/x/api/``."""
    value = http_url(value).rstrip("/")
    return (value if value.endswith(suffix) else value + suffix) + "/"


S = TypeVar("S", bound=PosModel)


def validate_pos_keys(model: type[S], pos: PosSettings, source: str, docs: str) -> S:
    """``[pos]`` as ``model``; a problem is a :class:`SettingsError` naming every bad key."""
    data = {"kind": pos.kind, "requests_per_second": pos.requests_per_second, **(pos.model_extra or {})}
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error, source, "pos", docs)) from None
