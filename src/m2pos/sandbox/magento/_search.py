"""``searchCriteria`` parsing and its translation to SQL, following Magento's collection processors.

- Query keys are PHP-style (``searchCriteria[filter_groups][0][filters][0][field]``). Magento turns
  each key into a setter via ``snakeCaseToUpperCamelCase`` and PHP method names are case-insensitive,
  so ``filter_groups``, ``filterGroups`` and ``filtergroups`` all work; we normalise the same way.
- Filters in one group are OR-ed, groups are AND-ed (``FilterProcessor::addFilterGroupToCollection``).
- Each filter becomes one MySQL condition (``Pdo\\Mysql::prepareSqlCondition``): ``from`` is ``>=``
  and ``to`` is ``<=`` on their own, so a range needs two groups; ``in``/``nin`` split a string on
  commas; ``like`` is MySQL ``LIKE`` (case-insensitive); text comparisons ignore case as MySQL's
  default collation does.
- A sort order without direction sorts DESC; page size/current page follow ``Data\\Collection``:
  the page is clamped to ``[1, last page]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from m2pos.sandbox.magento._entities import FieldType
from m2pos.sandbox.magento._errors import bad_request, internal_error, invalid_type
from m2pos.sandbox.magento._store import Entity, mysql_number

CONDITIONS = (
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
)
_OPERATORS = {"eq": "=", "neq": "!=", "gt": ">", "lt": "<", "gteq": ">=", "lteq": "<=", "moreq": ">="}
_OPERATORS.update({"from": ">=", "to": "<="})
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]00:?00)?$")
SORT_DIRECTION_ERROR = (
    "The sort order has to be specified as %1 for ascending order or %2 for descending order."
)
MAX_PAGE_SIZE_ERROR = "Maximum SearchCriteria pageSize is %max"
MAX_ITEMS_ERROR = 'Maximum items of type "%type" is %max'


# -- PHP-style query parsing ---------------------------------------------------------------------


def parse_php_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild PHP's ``$_GET`` nesting from ``a[b][c]=v`` pairs; the last duplicate wins."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        if not head:
            continue
        parts = [head]
        if rest:
            parts.extend(p for p in re.findall(r"([^\[\]]*)\]", "[" + rest))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `a[]=v` appends
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return root


def _norm(key: str) -> str:
    return key.replace("_", "").lower()


def _normalised(node: Any) -> dict[str, Any]:
    return {_norm(k): v for k, v in node.items()} if isinstance(node, dict) else {}


_NUMERIC = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _as_int(value: Any) -> int:
    """PHP's ``is_numeric`` then ``(int)`` cast, as the REST TypeProcessor does for int parameters."""
    text = str(value).strip()
    if not _NUMERIC.fullmatch(text):
        raise invalid_type(value, "int")
    return int(float(text))


# -- criteria ------------------------------------------------------------------------------------


@dataclass
class Filter:
    field: str | None
    value: str | None
    condition_type: str | None


@dataclass
class SortOrder:
    field: str | None
    direction: str | None  # upper-cased, or None when the client omitted it


@dataclass
class SearchCriteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[SortOrder] | None = None
    page_size: int | None = None
    current_page: int | None = None

    def echo(self) -> dict[str, Any]:
        """The ``search_criteria`` object of a search result (snake_case keys, nulls omitted)."""
        groups = []
        for group in self.filter_groups:
            filters = []
            for f in group:
                item: dict[str, Any] = {}
                if f.field is not None:
                    item["field"] = f.field
                if f.value is not None:
                    item["value"] = f.value
                item["condition_type"] = f.condition_type or "eq"
                filters.append(item)
            groups.append({"filters": filters})
        out: dict[str, Any] = {"filter_groups": groups}
        if self.sort_orders is not None:
            orders = []
            for s in self.sort_orders:
                entry: dict[str, Any] = {}
                if s.field is not None:
                    entry["field"] = s.field
                if s.direction is not None:
                    entry["direction"] = s.direction
                orders.append(entry)
            out["sort_orders"] = orders
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out


@dataclass(frozen=True)
class Limits:
    enabled: bool = False
    max_page_size: int = 300
    default_page_size: int = 20
    max_array_items: int = 20


def _check_array(items: list[Any], type_name: str, limits: Limits) -> None:
    if limits.enabled and len(items) > limits.max_array_items:
        raise bad_request(MAX_ITEMS_ERROR, {"type": type_name, "max": limits.max_array_items})


def parse_criteria(query: dict[str, Any], limits: Limits) -> SearchCriteria:
    """Build criteria from the nested query; a missing ``searchCriteria`` is a required-field error."""
    raw = None
    for key, value in query.items():
        if _norm(key) == "searchcriteria":
            raw = value
    if raw is None:
        # The 2.1 text was "%fieldName is a required field."; 2.4 uses the InputException::requiredField
        # phrase below (the same one the OAuth layer uses) — the exact 2.4 text here is inferred.
        raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": "searchCriteria"})
    node = _normalised(raw)  # a scalar (e.g. searchCriteria=all) is an empty criteria
    criteria = SearchCriteria()
    groups_raw = node.get("filtergroups")
    if isinstance(groups_raw, dict):
        _check_array(list(groups_raw), "\\Magento\\Framework\\Api\\Search\\FilterGroup", limits)
        for group_raw in groups_raw.values():
            filters_raw = _normalised(group_raw).get("filters")
            group: list[Filter] = []
            if isinstance(filters_raw, dict):
                _check_array(list(filters_raw), "\\Magento\\Framework\\Api\\Filter", limits)
                for f_raw in filters_raw.values():
                    f = _normalised(f_raw)
                    value = f.get("value")
                    if isinstance(value, dict):
                        raise invalid_type("Array", "string")
                    group.append(Filter(f.get("field"), value, f.get("conditiontype") or None))
            criteria.filter_groups.append(group)
    sorts_raw = node.get("sortorders")
    if isinstance(sorts_raw, dict):
        _check_array(list(sorts_raw), "\\Magento\\Framework\\Api\\SortOrder", limits)
        criteria.sort_orders = []
        for s_raw in sorts_raw.values():
            s = _normalised(s_raw)
            direction = s.get("direction")
            if direction is not None:
                direction = str(direction).upper()
                if direction not in ("ASC", "DESC"):
                    raise bad_request(SORT_DIRECTION_ERROR, ["ASC", "DESC"])
            criteria.sort_orders.append(SortOrder(s.get("field"), direction))
    if "pagesize" in node:
        criteria.page_size = _as_int(node["pagesize"])
    if "currentpage" in node:
        criteria.current_page = _as_int(node["currentpage"])
    if limits.enabled:
        if criteria.page_size is None:
            criteria.page_size = limits.default_page_size
        elif criteria.page_size > limits.max_page_size:
            raise bad_request(MAX_PAGE_SIZE_ERROR, {"max": limits.max_page_size})
    return criteria


# -- SQL -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMap:
    """How an entity's search field names map to columns, and what an unknown field does."""

    entity: Entity
    aliases: dict[str, str] = field(default_factory=dict)
    unknown_field_error: str | None = None  # None: SQL error, i.e. a masked 500 like MySQL's

    def column(self, name: str | None) -> tuple[str, FieldType]:
        key = self.aliases.get(name or "", name or "")
        kind = self.entity.types.get(key)
        if kind is None or key == "nested":
            if self.unknown_field_error:
                raise bad_request(self.unknown_field_error, [name or ""])
            raise internal_error()
        return f'"{key}"', kind


def _normalise_date(value: str) -> str:
    """MySQL casts the string to DATETIME when comparing with a datetime column."""
    if _DATE_ONLY.match(value):
        return value + " 00:00:00"
    iso = _ISO.match(value)
    if iso:
        return f"{iso.group(1)} {iso.group(2)}"
    return value


def _operand(kind: FieldType, name: str, value: Any) -> Any:
    if kind in ("I", "N"):
        return mysql_number(value if value is not None else 0)
    text = "" if value is None else str(value)
    return _normalise_date(text) if name.endswith("_at") else text


def _condition(col: str, kind: FieldType, name: str, cond: str, value: Any) -> tuple[str, list[Any]]:
    text_cmp = " COLLATE NOCASE" if kind == "S" else ""
    if cond in ("null",):
        return f"{col} IS NULL", []
    if cond == "notnull":
        return f"{col} IS NOT NULL", []
    if cond in ("like", "nlike"):
        op = "LIKE" if cond == "like" else "NOT LIKE"
        return f"CAST({col} AS TEXT) {op} ? ESCAPE '\\'", ["" if value is None else str(value)]
    if cond in ("in", "nin"):
        values = str(value if value is not None else "").split(",")
        marks = ", ".join("?" * len(values))
        op = "IN" if cond == "in" else "NOT IN"
        return f"{col}{text_cmp} {op} ({marks})", [_operand(kind, name, v) for v in values]
    if cond in ("finset", "nfinset"):
        test = f"find_in_set(?, {col}) > 0"
        return (test if cond == "finset" else f"NOT ({test})"), ["" if value is None else str(value)]
    op = _OPERATORS.get(cond, "=")  # an unknown condition falls through to MySQL's "= ?"
    return f"{col}{text_cmp} {op} ?", [_operand(kind, name, value)]


def where_clause(criteria: SearchCriteria, fields: FieldMap) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for group in criteria.filter_groups:
        ors: list[str] = []
        for f in group:
            col, kind = fields.column(f.field)
            cond = (f.condition_type or "eq").lower()
            sql, args = _condition(col, kind, f.field or "", cond, f.value)
            ors.append(sql)
            params.extend(args)
        if ors:
            clauses.append("(" + " OR ".join(ors) + ")")
    return " AND ".join(clauses), params


def order_clause(criteria: SearchCriteria, fields: FieldMap) -> str:
    parts: list[str] = []
    for s in criteria.sort_orders or []:
        col, kind = fields.column(s.field)
        collate = " COLLATE NOCASE" if kind == "S" else ""
        parts.append(f"{col}{collate} {'ASC' if s.direction == 'ASC' else 'DESC'}")
    # No ORDER BY in Magento means MySQL's primary-key order; also the tie-breaker for stable pages.
    parts.append(f'"{fields.entity.key}" ASC')
    return ", ".join(parts)


@dataclass
class Page:
    limit: int | None
    offset: int


def page_for(criteria: SearchCriteria, total: int) -> Page:
    """``Data\\Collection::getCurPage``: pages below 1 become 1, past the end the last page."""
    size = criteria.page_size
    if not size:  # no (or zero) page size: Magento applies no LIMIT at all
        return Page(None, 0)
    if size < 0:  # Zend_Db_Select::limitPage turns a non-positive row count into 1
        size = 1
    last = max(1, -(-total // size))
    page = criteria.current_page if criteria.current_page is not None else 1
    page = min(max(page, 1), last)
    return Page(size, (page - 1) * size)


def check_array_limit(items: list[Any], type_name: str, limits: Limits) -> None:
    _check_array(items, type_name, limits)
