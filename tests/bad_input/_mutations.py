"""Valid Magento documents from the sandbox's generator, and hypothesis mutations of one field."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from m2pos.magento.models import (
    Address,
    AppliedTax,
    CreditMemo,
    CreditMemoItem,
    DocumentComment,
    Order,
    OrderItem,
    Payment,
    StatusHistory,
)
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.sandbox.magento._search import SearchCriteria

Path = tuple[int | str, ...]

_SANDBOX = MagentoSandbox(orders=40, seed=3, data_anchor=datetime(2025, 3, 1, tzinfo=UTC))
ORDERS: list[dict[str, Any]] = _SANDBOX.backend.search("orders", SearchCriteria())["items"]
MEMOS: list[dict[str, Any]] = _SANDBOX.backend.search("creditmemos", SearchCriteria())["items"]
assert len(ORDERS) >= 10 and len(MEMOS) >= 3, "the sandbox should generate enough documents"

# Fields that hold nested models: name → (model, is a list of them).
_NESTED: dict[type[BaseModel], dict[str, tuple[type[BaseModel], bool]]] = {
    Order: {
        "items": (OrderItem, True),
        "payment": (Payment, False),
        "billing_address": (Address, False),
        "shipping_address": (Address, False),
        "status_histories": (StatusHistory, True),
        "applied_taxes": (AppliedTax, True),
    },
    CreditMemo: {"items": (CreditMemoItem, True), "comments": (DocumentComment, True)},
}

_SHIPPING: Path = ("extension_attributes", "shipping_assignments", 0, "shipping")
_TAXES: Path = ("extension_attributes", "applied_taxes")


def _model_paths(doc: Any, model: type[BaseModel], prefix: Path) -> Iterator[Path]:
    if not isinstance(doc, dict):
        return
    nested = _NESTED.get(model, {})
    for key, value in doc.items():
        if key not in model.model_fields:
            continue
        yield (*prefix, key)
        if key in nested:
            inner, many = nested[key]
            if many and isinstance(value, list):
                for index, element in enumerate(value):
                    yield (*prefix, key, index)
                    yield from _model_paths(element, inner, (*prefix, key, index))
            elif not many:
                yield from _model_paths(value, inner, (*prefix, key))
        elif isinstance(value, list):  # a list of texts (street, additional_information)
            yield from ((*prefix, key, index) for index in range(len(value)))


def read_paths(doc: dict[str, Any], model: type[BaseModel]) -> list[Path]:
    """Every path of ``doc`` that ``model`` reads, including the lifted extension attributes."""
    paths = list(_model_paths(doc, model, ()))
    if model is Order:
        # The containers the lifted fields are read through, each of which may be malformed.
        paths.extend(_SHIPPING[:n] for n in range(1, len(_SHIPPING) + 1) if has(doc, _SHIPPING[:n]))
        if has(doc, _TAXES):
            paths.append(_TAXES)
        shipping = get(doc, _SHIPPING) if has(doc, _SHIPPING) else None
        if isinstance(shipping, dict):
            if "method" in shipping:
                paths.append((*_SHIPPING, "method"))
            if "address" in shipping:
                paths.append((*_SHIPPING, "address"))
                paths.extend(_model_paths(shipping["address"], Address, (*_SHIPPING, "address")))
        taxes = get(doc, _TAXES) if has(doc, _TAXES) else None
        if isinstance(taxes, list) and "applied_taxes" not in doc:
            for index, tax in enumerate(taxes):
                paths.extend(_model_paths(tax, AppliedTax, (*_TAXES, index)))
    return paths


def has(doc: Any, path: Path) -> bool:
    for part in path:
        if isinstance(part, int):
            if not isinstance(doc, list) or part >= len(doc):
                return False
        elif not isinstance(doc, dict) or part not in doc:
            return False
        doc = doc[part]
    return True


def get(doc: Any, path: Path) -> Any:
    for part in path:
        doc = doc[part]
    return doc


DELETE = object()


def mutated(doc: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with ``path`` set to ``value`` (or removed, for ``DELETE``)."""
    out = copy.deepcopy(doc)
    parent = get(out, path[:-1])
    last = path[-1]
    if value is DELETE:
        del parent[last]  # a list element is removed, a key dropped
    else:
        parent[last] = value
    return out


def locations(path: Path) -> tuple[str, ...]:
    """Where pydantic may report a change at ``path``: a container of lifted fields, any of them."""
    if path == _SHIPPING[: len(path)]:
        lifted = ("shipping_address", "shipping_method")
        return (*lifted, "applied_taxes") if path == ("extension_attributes",) else lifted
    if path == _TAXES:
        return ("applied_taxes",)
    return (location(path),)


def location(path: Path) -> str:
    """Where pydantic reports ``path``: lifted shipping fields under their top-level names."""
    if path[: len(_SHIPPING)] == _SHIPPING:
        rest = path[len(_SHIPPING) :]
        path = ("shipping_method",) if rest == ("method",) else ("shipping_address", *rest[1:])
    elif path[: len(_TAXES)] == _TAXES:
        path = ("applied_taxes", *path[len(_TAXES) :])
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


ODD_TEXTS = [
    "",
    " ",
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "1e999999",
    "-1e999999",
    "1e-999999",
    "0x1F",
    "1_000",
    "1,5",
    "١٢٣",  # Arabic-Indic digits
    "１２",  # full-width digits
    " 12 ",
    "9" * 5000,
    "\u202eGNP.exe",  # right-to-left override
    "שלום עולם",  # RTL text
    "a\u200bb\u200d",  # zero-width space and joiner
    "\ufeffBOM",
    "😀🛒👩‍👩‍👧",
    "e\u0301\u0301\u0301",  # combining accents
    "Z\u0351\u0366\u0336",  # zalgo
    "\x00nul",
    "&amp;",
    "Tom &amp; Jerry",
    "&lt;!ENTITY xxe SYSTEM 'file:///etc/passwd'&gt;",
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>&xxe;',
    "<script>alert(1)</script>",
    "SKU/WITH/SLASHES",
    "/",
    "../../etc/passwd",
    "SKU%2F01",
    "0000-00-00 00:00:00",
    "2025-02-30 10:00:00",
    "2025-01-30T02:08:08+14:00",
    "9999-12-31 23:59:59",
    "true",
    "null",
]

ODD_NUMBERS = [
    0,
    -1,
    2**31,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    -0.0,
    1e-300,
    1e308,
    -1e308,
    0.1 + 0.2,
    123456789012345678.9,
]


def json_values() -> st.SearchStrategy[Any]:
    """What a JSON body can hold in place of any one field (orjson-decodable values only)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
    )
    return st.one_of(
        st.just(DELETE),
        st.none(),
        st.booleans(),
        st.sampled_from(ODD_TEXTS),
        st.sampled_from(ODD_NUMBERS),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.lists(scalars, max_size=3),
        st.dictionaries(st.text(max_size=8), scalars, max_size=3),
        st.just({}),
        st.just([]),
    )


def python_values() -> st.SearchStrategy[Any]:
    """Also what only a Python caller can pass: NaN and infinities, ints past 64 bits."""
    return st.one_of(
        json_values(),
        st.sampled_from([float("nan"), float("inf"), float("-inf"), 10**400, -(10**400)]),
        st.integers(),
    )
