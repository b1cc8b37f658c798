"""The console's forms: which sections each page shows, how settings read in a form, and how a
submitted form becomes settings changes. The fields themselves are declared in
``m2pos.settings_fields`` and, for each POS, in its ``PosKind``. No I/O here;
``m2pos.settings_store`` validates and saves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from m2pos.pos.registry import POS_KINDS
from m2pos.settings import Settings, flatten
from m2pos.settings_fields import (
    BASIC,
    MAGENTO_CONNECTION,
    MODE,
    NOTIFICATIONS,
    POLL,
    Choice,
    Field,
    Section,
)

__all__ = [
    "NOTIFICATIONS",
    "Choice",
    "Field",
    "FormResult",
    "Section",
    "connection_sections",
    "order_sections",
]


@dataclass
class FormResult:
    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # settings key → problem


def order_sections(pos_kind: str) -> list[Section]:
    pos = POS_KINDS.get(pos_kind)
    return [BASIC, MODE, POLL] + ([pos.order_section] if pos and pos.order_section else [])


def connection_sections(pos_kind: str) -> list[Section]:
    pos = POS_KINDS.get(pos_kind)
    return [MAGENTO_CONNECTION] + ([pos.connection_section] if pos and pos.connection_section else [])


def current_values(settings: Settings, fields: Sequence[Field]) -> dict[str, Any]:
    """What each field shows. A secret shows only whether it is set: its value never leaves here."""
    flat = flatten(settings.model_dump(mode="python"))
    values: dict[str, Any] = {}
    for f in fields:
        value = flat.get(f.key, f.default)
        if f.kind == "secret":
            values[f.key] = bool(value)
        elif isinstance(value, float) and value.is_integer():
            values[f.key] = int(value)  # 10, not 10.0
        elif f.kind == "list":
            values[f.key] = ", ".join(str(v) for v in value or ())
        else:
            values[f.key] = "" if value is None else value
    return values


def read_form(
    fields: Sequence[Field], form: Mapping[str, Sequence[str]], current: Mapping[str, Any], locked: set[str]
) -> FormResult:
    """The changes a submitted form makes (only what differs from ``current``), and field errors.

    ``form`` maps each field name to its submitted values: a checkbox sends a hidden "false" before
    the box's "true", so the last value counts and an unticked box still says so. A disabled field
    sends nothing and is left as it is, unless a field it depends on switched it off.
    """
    result = FormResult()
    for f in fields:
        if f.key in locked:
            continue
        submitted = form.get(f.name)
        if not submitted:
            if f.kind == "bool" and f.enabled_when is not None and current.get(f.key):
                result.changes[f.key] = False  # disabled by its dependency: it cannot stay on
            continue
        raw = submitted[-1].strip()
        try:
            value = _parse(f, raw)
        except ValueError as error:
            result.errors[f.key] = str(error)
            continue
        if f.kind == "secret":
            if raw:
                result.changes[f.key] = value
        elif value != _comparable(f, current.get(f.key)):
            result.changes[f.key] = value
    return result


def _parse(f: Field, raw: str) -> Any:
    if f.kind == "bool":
        return raw == "true"
    if f.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("Enter a number.") from None
        return int(number) if isinstance(f.default, int) and number.is_integer() else number
    if f.kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    if f.kind == "choice" and raw not in {c.value for c in f.choices}:
        raise ValueError("Choose one of the options.")
    return raw


def _comparable(f: Field, shown: Any) -> Any:
    """The current value in the form ``_parse`` returns, to tell a change from a re-submit."""
    if f.kind == "list":
        return [part.strip() for part in str(shown or "").split(",") if part.strip()]
    if f.kind == "number" and shown not in (None, ""):
        number = float(shown)
        return int(number) if isinstance(f.default, int) and number.is_integer() else number
    return shown
