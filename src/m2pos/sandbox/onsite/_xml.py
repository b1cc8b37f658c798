"""XML in and out: safe parsing of request bodies, typed reads, and the server's number formats.

Parsing goes through defusedxml with DTDs forbidden, so entity expansion ("billion laughs"), external
entities and DTD retrieval are refused before any expansion happens.

Formats follow a real server's output [V]: ``<?xml version='1.0' encoding='UTF-8'?>``, quantities and
prices with 3 decimals (``5.000``, ``10.000``), document totals with 2 (``50.00``), booleans
``true``/``false``, timestamps ``2015-03-19T01:32:06.310836``, references ``<customer uri="…"
id="13"/>`` and an empty ``<customer/>`` for none.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _safe_fromstring

from m2pos.sandbox.onsite._errors import bad_request

Element = ET.Element

Q3 = Decimal("0.001")
Q2 = Decimal("0.01")
_ID_IN_URI = re.compile(r"/(\d+)/?$")


def parse_body(body: bytes, root: str | tuple[str, ...]) -> Element:
    """Parse a request body whose root element must be ``root`` (or one of them)."""
    if not body.strip():
        raise bad_request(f"A <{root if isinstance(root, str) else root[0]}> body is required.")
    try:
        element: Element = _safe_fromstring(body, forbid_dtd=True)
    except DefusedXmlException as err:
        raise bad_request(f"Invalid XML: DTDs and entities are not allowed ({type(err).__name__}).") from None
    except ParseError as err:
        raise bad_request(f"Invalid XML: {err}.") from None
    roots = (root,) if isinstance(root, str) else root
    if element.tag not in roots:
        raise bad_request(f"Expected a <{roots[0]}> element, got <{element.tag}>.")
    return element


# -- reading -------------------------------------------------------------------------------------------


def text(el: Element, path: str) -> str | None:
    """The stripped text at ``path``: None when the element is absent, "" when it is empty."""
    node = el.find(path)
    if node is None:
        return None
    return (node.text or "").strip()


def decimal_value(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise bad_request(f"{name}: '{raw}' is not a number.") from None
    if not value.is_finite():
        raise bad_request(f"{name}: '{raw}' is not a number.")
    return value


def decimal_at(el: Element, path: str) -> Decimal | None:
    raw = text(el, path)
    if raw is None or raw == "":
        return None
    return decimal_value(raw, path)


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def bool_value(raw: str, name: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise bad_request(f"{name}: '{raw}' is not true or false.")


def bool_at(el: Element, path: str) -> bool | None:
    raw = text(el, path)
    return None if raw is None else bool_value(raw, path)


def ref_id(node: Element | None, name: str) -> int | None:
    """The id of a reference element: its ``id`` attribute, else the id at the end of its ``uri``;
    None for an empty reference (``<customer/>``)."""
    if node is None:
        return None
    raw = node.get("id")
    if raw is None and node.get("uri"):
        match = _ID_IN_URI.search(node.get("uri", ""))
        raw = match.group(1) if match else None
    if raw is None:
        inner = node.findtext("id")
        raw = inner.strip() if inner and inner.strip() else None
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name}: '{raw}' is not an id.") from None


# -- writing -------------------------------------------------------------------------------------------


def q3(value: Decimal) -> Decimal:
    out = value.quantize(Q3, rounding=ROUND_HALF_UP)
    return out if out else Decimal("0.000")


def q2(value: Decimal) -> Decimal:
    out = value.quantize(Q2, rounding=ROUND_HALF_UP)
    return out if out else Decimal("0.00")


def f3(value: Decimal | float | int) -> str:
    return f"{q3(Decimal(str(value)))}"


def f2(value: Decimal | float | int) -> str:
    return f"{q2(Decimal(str(value)))}"


def fbool(value: Any) -> str:
    return "true" if value else "false"


def sub(parent: Element, tag: str, value: str | None = None, **attrib: str) -> Element:
    node = ET.SubElement(parent, tag, attrib)
    if value is not None and value != "":
        node.text = value
    return node


def ref(parent: Element, tag: str, uri: str | None, ident: int | None) -> Element:
    """``<tag uri="…" id="…"/>``, or ``<tag/>`` for no reference."""
    if ident is None or uri is None:
        return ET.SubElement(parent, tag)
    return ET.SubElement(parent, tag, {"uri": uri, "id": str(ident)})


def element(tag: str, uri: str | None = None, ident: int | None = None, full: bool | None = None) -> Element:
    attrib: dict[str, str] = {}
    if uri is not None:
        attrib["uri"] = uri
    if ident is not None:
        attrib["id"] = str(ident)
    if full is not None:
        attrib["full_render"] = fbool(full)
    return ET.Element(tag, attrib)


def to_bytes(root: Element) -> bytes:
    # ElementTree writes empty elements as "<x />"; the server writes "<x/>". " />" cannot occur in
    # text or attribute values (">" is escaped there), so the replacement only touches tags.
    return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True)).replace(b" />", b"/>")
