"""An immutable, fluent builder of Magento ``searchCriteria`` query parameters.

Filters inside one group are OR-ed, groups are AND-ed (domain notes §3). Values are rendered the
way Magento compares them: datetimes as UTC ``YYYY-MM-DD HH:MM:SS``, ``in``/``nin`` lists
comma-joined, flags as 1/0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Literal, get_args

ConditionType = Literal[
    "eq",
    "finset",
    "from",
    "gt",
    "gteq",
    "in",
    "like",
    "lt",
    "lteq",
    "moreq",
    "neq",
    "nfinset",
    "nin",
    "nlike",
    "notnull",
    "null",
    "to",
]
CONDITION_TYPES: frozenset[str] = frozenset(get_args(ConditionType))
Direction = Literal["ASC", "DESC"]
KeyStyle = Literal["snake", "camel"]
Scalar = str | int | float | Decimal | bool | date | datetime

MAX_PAGE_SIZE = 300  # Magento's "Maximum SearchCriteria pageSize" when input limits are on
_LIST_CONDITIONS = frozenset({"in", "nin"})
_VALUELESS_CONDITIONS = frozenset({"null", "notnull"})


class SearchCriteriaError(ValueError):
    """A search the builder refuses to send because Magento would refuse or misread it."""


def format_datetime(value: datetime) -> str:
    """Magento's UTC timestamp format; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise SearchCriteriaError(
            f"datetime {value.isoformat()} has no time zone; Magento compares UTC timestamps, "
            "so pass an aware datetime (e.g. datetime.now(UTC))"
        )
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition. ``in``/``nin`` take a list; ``null``/``notnull`` take no value."""

    field: str
    condition_type: ConditionType = "eq"
    value: Scalar | tuple[Scalar, ...] | None = None

    def __post_init__(self) -> None:
        if not self.field:
            raise SearchCriteriaError("a filter needs a field name")
        if self.condition_type not in CONDITION_TYPES:
            raise SearchCriteriaError(
                f"unknown condition type {self.condition_type!r}; "
                f"Magento knows {', '.join(sorted(CONDITION_TYPES))}"
            )
        value = self.value
        if self.condition_type in _LIST_CONDITIONS:
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise SearchCriteriaError(
                    f"'{self.condition_type}' on {self.field!r} takes a list of values, not {value!r}"
                )
            values = tuple(value)
            if not values:
                raise SearchCriteriaError(
                    f"'{self.condition_type}' on {self.field!r} needs at least one value"
                )
            object.__setattr__(self, "value", values)
        elif self.condition_type not in _VALUELESS_CONDITIONS:
            if value is None:
                raise SearchCriteriaError(f"'{self.condition_type}' on {self.field!r} needs a value")
            if not isinstance(value, Scalar):
                raise SearchCriteriaError(
                    f"'{self.condition_type}' on {self.field!r} takes a single value; "
                    "use 'in' or 'nin' for lists"
                )

    def rendered_value(self) -> str:
        if self.condition_type in _VALUELESS_CONDITIONS:
            # Magento's collection only applies IS [NOT] NULL when some value is present.
            return "1" if self.value is None else format_value(self.value)  # type: ignore[arg-type]
        if isinstance(self.value, tuple):
            return ",".join(format_value(v) for v in self.value)
        assert self.value is not None  # checked in __post_init__
        return format_value(self.value)


@dataclass(frozen=True, slots=True)
class SortOrder:
    field: str
    direction: Direction = "ASC"

    def __post_init__(self) -> None:
        if self.direction not in ("ASC", "DESC"):
            raise SearchCriteriaError(f"sort direction must be ASC or DESC, not {self.direction!r}")


def _check_page(page_size: int | None, current_page: int | None) -> None:
    if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SearchCriteriaError(
            f"page size {page_size} is outside 1–{MAX_PAGE_SIZE}: Magento refuses pages above "
            f"{MAX_PAGE_SIZE} when its web API input limits are on ('Maximum SearchCriteria pageSize')"
        )
    if current_page is not None and current_page < 1:
        raise SearchCriteriaError(f"current page must be 1 or more, not {current_page}")


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """Immutable: every method returns a new criteria.

    >>> SearchCriteria().where("updated_at", "gteq", since).where("state", "in", ["new", "processing"])
    """

    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None

    def __post_init__(self) -> None:
        _check_page(self.page_size, self.current_page)

    def where(
        self, field: str, condition: ConditionType, value: Scalar | Iterable[Scalar] | None = None
    ) -> SearchCriteria:
        """AND a new group holding one filter."""
        return self.any_of(Filter(field, condition, value))  # type: ignore[arg-type]

    def any_of(self, *filters: Filter) -> SearchCriteria:
        """AND a new group whose filters are OR-ed."""
        if not filters:
            raise SearchCriteriaError("a filter group needs at least one filter")
        return replace(self, filter_groups=(*self.filter_groups, tuple(filters)))

    def between(self, field: str, start: Scalar, end: Scalar) -> SearchCriteria:
        """``from``/``to`` range, inclusive; they go in two AND-ed groups (in one group they OR)."""
        return self.where(field, "from", start).where(field, "to", end)

    def order_by(self, field: str, direction: Direction = "ASC") -> SearchCriteria:
        return replace(self, sort_orders=(*self.sort_orders, SortOrder(field, direction)))

    def with_sort_orders(self, *orders: SortOrder) -> SearchCriteria:
        return replace(self, sort_orders=tuple(orders))

    def with_page_size(self, page_size: int) -> SearchCriteria:
        return replace(self, page_size=page_size)

    def with_current_page(self, current_page: int) -> SearchCriteria:
        return replace(self, current_page=current_page)

    def validate(self) -> None:
        """Refuse what Magento would misread: a ``from`` without ``to`` (or the reverse)."""
        from_fields: dict[str, int] = {}
        to_fields: dict[str, int] = {}
        for index, group in enumerate(self.filter_groups):
            in_group = {f.field for f in group if f.condition_type == "from"} & {
                f.field for f in group if f.condition_type == "to"
            }
            if in_group:
                raise SearchCriteriaError(
                    f"'from' and 'to' on {sorted(in_group)} are in the same filter group, where "
                    "Magento ORs them; put them in separate groups (use between())"
                )
            for f in group:
                if f.condition_type == "from":
                    from_fields[f.field] = index
                elif f.condition_type == "to":
                    to_fields[f.field] = index
        unpaired = set(from_fields) ^ set(to_fields)
        if unpaired:
            raise SearchCriteriaError(
                f"'from' and 'to' must be used together; unpaired on {sorted(unpaired)}. "
                "Use 'gteq'/'lteq' for an open range"
            )

    def to_params(self, style: KeyStyle = "snake") -> list[tuple[str, str]]:
        """Query parameters in Magento's bracket syntax.

        ``style="snake"`` is the documented spelling (``filter_groups``/``condition_type``);
        ``"camel"`` is the schema's (``filterGroups``/``conditionType``). Magento accepts both.
        """
        self.validate()
        groups_key, condition_key = (
            ("filter_groups", "condition_type") if style == "snake" else ("filterGroups", "conditionType")
        )
        params: list[tuple[str, str]] = []
        for i, group in enumerate(self.filter_groups):
            for j, flt in enumerate(group):
                prefix = f"searchCriteria[{groups_key}][{i}][filters][{j}]"
                params.append((f"{prefix}[field]", flt.field))
                params.append((f"{prefix}[value]", flt.rendered_value()))
                params.append((f"{prefix}[{condition_key}]", flt.condition_type))
        for k, order in enumerate(self.sort_orders):
            params.append((f"searchCriteria[sortOrders][{k}][field]", order.field))
            params.append((f"searchCriteria[sortOrders][{k}][direction]", order.direction))
        if self.page_size is not None:
            params.append(("searchCriteria[pageSize]", str(self.page_size)))
        if self.current_page is not None:
            params.append(("searchCriteria[currentPage]", str(self.current_page)))
        return params
