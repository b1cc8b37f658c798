"""``?fields=`` partial responses, ported from Magento's ``Webapi\\Rest\\Response\\FieldsFilter``.

Faithful quirks kept on purpose:
- keys not listed are dropped, so ``total_count`` disappears unless it is requested;
- a filter string with characters other than letters, digits, ``_``, ``[``, ``]`` and ``,``, or with
  unbalanced brackets, makes the whole response an empty JSON array ``[]``;
- a nested filter applied to an empty list/object yields ``null`` (PHP's ``applyFilter`` returns
  null when it never iterates), e.g. ``{"items": null}`` for an empty search with ``items[...]``.
"""

from __future__ import annotations

import re
from typing import Any

FilterTree = dict[str, "FilterTree | int"]

_ALLOWED = re.compile(r"[^\w\[\],]", re.ASCII)


def parse_fields(spec: str) -> FilterTree | None:
    """Parse ``items[entity_id,extension_attributes[shipping_assignments]],total_count``."""
    if not spec or _ALLOWED.search(spec):
        return None
    current: FilterTree = {}
    stack: list[FilterTree] = []
    parents: list[str | None] = []
    start: int | None = None
    element: str | None = None
    for pos, char in enumerate(spec):
        if char in "[],":
            if start is not None:
                element = spec[start:pos]
                current[element] = 1
            start = None
        if char == "[":
            parents.append(element)
            stack.append(current)
            current = {}
        elif char == "]":
            if not stack:
                return None
            inner = current
            current = stack.pop()
            parent = parents.pop()
            current[parent if parent is not None else ""] = inner
        elif char != "," and start is None:
            start = pos
    if stack:
        return None
    if start is not None:
        current[spec[start:]] = 1
    return current


def _is_sequential(value: dict[str, Any] | list[Any]) -> bool:
    return isinstance(value, list)


def _apply(response: dict[str, Any] | list[Any], tree: FilterTree) -> Any:
    if isinstance(response, list):
        if not response:
            return None
        return [_intersect(item, tree) if isinstance(item, dict) else item for item in response]
    if not response:
        return None  # an empty PHP array is "sequential": the loop never runs and the result is null
    return _intersect(response, tree)


def _intersect(data: dict[str, Any], tree: FilterTree) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in tree:
            continue
        sub = tree[key]
        if isinstance(value, dict | list) and isinstance(sub, dict):
            out[key] = _apply(value, sub)
        else:
            out[key] = value
    return out


def apply_fields(response: Any, spec: str | None) -> Any:
    """Filter a JSON-ready response; scalars (bare ints/bools) pass through untouched."""
    if not spec or not isinstance(response, dict | list):
        return response
    tree = parse_fields(spec)
    if tree is None:
        return []
    return _apply(response, tree)
