"""Lenient parsing: a document that does not parse becomes a value, not an exception.

One malformed order in a page (``"grand_total": "abc"``, an item that is not an object) must not
block every other order of the stream. With ``on_invalid="yield"`` the paginated reads hand such a
document over as an :class:`InvalidDocument` that says which fields were wrong and how, and the
stream goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import orjson
from pydantic import ValidationError

T = TypeVar("T")

OnInvalid = Literal["raise", "yield"]

EXCERPT_CHARS = 300
_VALUE_CHARS = 40

# pydantic error type → what was wrong, in words a merchant's support person can act on.
_PROBLEMS = {
    "decimal_parsing": "not a number",
    "decimal_type": "not a number",
    "finite_number": "not a finite number",
    "int_parsing": "not a whole number",
    "int_type": "not a whole number",
    "int_from_float": "not a whole number",
    "bool_parsing": "not a 0/1 flag",
    "bool_type": "not a 0/1 flag",
    "string_type": "not a text",
    "model_type": "not an object",
    "model_attributes_type": "not an object",
    "dict_type": "not an object",
    "tuple_type": "not a list",
    "list_type": "not a list",
    "datetime_type": "not a date and time",
    "datetime_parsing": "not a date and time",
    "missing": "missing",
}


@dataclass(frozen=True, slots=True)
class InvalidDocument:
    """A document Magento sent that m2pos cannot read, reported instead of raised.

    ``kind`` is ``"order"`` or ``"credit memo"``; ``entity_id`` and ``increment_id`` are taken from
    the raw document when they are readable (None otherwise); ``raw_excerpt`` is the start of the
    document as JSON; ``errors`` name each bad field and what was wrong, e.g.
    ``grand_total: not a number ('abc')`` or ``items[1]: not an object (5)``.
    """

    kind: str
    entity_id: int | None
    increment_id: str | None
    raw_excerpt: str
    errors: tuple[str, ...]

    def __str__(self) -> str:
        name = f"{self.kind} {self.increment_id or self.entity_id or '(no id)'}"
        return f"Magento sent an unreadable {name}: {'; '.join(self.errors)}"


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<document>"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def describe(error: ValidationError) -> tuple[str, ...]:
    """One line per bad field: ``location: problem (value received)``."""
    lines = []
    for item in error.errors(include_url=False):
        kind = item["type"]
        problem = _PROBLEMS.get(kind)
        if problem is None:
            message = str(item["msg"])
            problem = message.removeprefix("Value error, ") if kind == "value_error" else message
            problem = problem[:1].lower() + problem[1:]
        where = _location(tuple(item["loc"]))
        lines.append(
            f"{where}: {problem}" if kind == "missing" else f"{where}: {problem} ({_shown(item['input'])})"
        )
    return tuple(lines)


def _excerpt(raw: Any) -> str:
    try:
        text = orjson.dumps(raw, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        text = repr(raw)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _identity(raw: Any) -> tuple[int | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    entity_id = raw.get("entity_id")
    increment_id = raw.get("increment_id")
    try:
        number = int(entity_id) if entity_id is not None and not isinstance(entity_id, bool) else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        number = None
    text = str(increment_id) if isinstance(increment_id, str | int) and increment_id != "" else None
    return number, text


def invalid_document(kind: str, raw: Any, errors: tuple[str, ...]) -> InvalidDocument:
    entity_id, increment_id = _identity(raw)
    return InvalidDocument(kind, entity_id, increment_id, _excerpt(raw), errors)


def lenient(parse: Callable[[Any], T], kind: str) -> Callable[[Any], T | InvalidDocument]:
    """``parse``, with a document that fails validation returned as an :class:`InvalidDocument`."""

    def parse_or_report(raw: Any) -> T | InvalidDocument:
        try:
            return parse(raw)
        except ValidationError as exc:
            return invalid_document(kind, raw, describe(exc))

    return parse_or_report
