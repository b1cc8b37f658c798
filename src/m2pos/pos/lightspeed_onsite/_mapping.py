"""Magento orders and credit memos → OnSite XML bodies, and OnSite XML → the records the adapter reads.

Body shapes follow ``docs/sandbox-onsite.md`` ("XML the adapter sends"); what is guessed about the
real server is listed in ``docs/pos/lightspeed_onsite.md``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal

from m2pos.pos.common.customers import CustomerDetails, PosCustomer, PostalAddress
from m2pos.pos.common.helpers import HelperProduct, HelperRecord
from m2pos.pos.common.plan import PlannedLine
from m2pos.pos.lightspeed_onsite._client import Element, decimal, flag, number, ref_id, sub, text

# The last line of a document's internal notes says what a complete document holds, so that a
# document left half-made by a crash is recognised (and resumed) instead of being taken as done.
_MARKER = re.compile(r"\[m2pos: (\d+) lines?(?:, (\d+) deposits?)?\]")


def completeness_marker(lines: int, deposits: int) -> str:
    return f"[m2pos: {lines} line{'s' if lines != 1 else ''}" + (
        f", {deposits} deposit{'s' if deposits != 1 else ''}]" if deposits else "]"
    )


def expected_counts(notes: str) -> tuple[int, int] | None:
    found = _MARKER.findall(notes or "")
    if not found:
        return None
    lines, deposits = found[-1]
    return int(lines), int(deposits or 0)


# -- records read from OnSite --------------------------------------------------------------------------


@dataclass(frozen=True)
class OnSiteProduct:
    id: int
    code: str
    description: str = ""
    sell_price: Decimal = Decimal(0)
    inventoried: bool = True
    master_model: bool = False


def read_product(node: Element) -> OnSiteProduct:
    return OnSiteProduct(
        id=int(node.get("id", "0")),
        code=text(node, "code"),
        description=text(node, "description"),
        sell_price=decimal(node, "sell_price"),
        inventoried=flag(node, "flags/inventoried"),
        master_model=flag(node, "flags/master_model"),
    )


def read_helper(node: Element) -> HelperRecord:
    current = node.find("flags/current")
    archived = current is not None and (current.text or "").strip().lower() in ("false", "0", "no")
    return HelperRecord(str(node.get("id", "")), text(node, "code"), text(node, "description"), archived)


def _read_address(node: Element | None) -> PostalAddress | None:
    if node is None:
        return None
    return PostalAddress(
        address1=text(node, "address1"),
        address2=text(node, "address2"),
        city=text(node, "city"),
        state=text(node, "state"),
        zip=text(node, "zip"),
        country=text(node, "country"),
    )


def read_customer(node: Element, complete: bool) -> PosCustomer:
    name = " ".join(p for p in (text(node, "name/first"), text(node, "name/last")) if p)
    return PosCustomer(
        id=str(node.get("id", "")),
        email=text(node, "email"),
        name=name or text(node, "company"),
        merged=ref_id(node, "merged_to/customer") is not None,
        modified=text(node, "datetime_modified"),
        billing=_read_address(node.find("billing_address")) if complete else None,
        shipping=_read_address(node.find("shipping_address")) if complete else None,
        complete=complete,
    )


@dataclass(frozen=True)
class LineInfo:
    id: int
    product_id: int | None
    quantity: Decimal
    sell_price: Decimal
    description: str
    reserved: Decimal


@dataclass(frozen=True)
class DocumentInfo:
    kind: str  # "order" | "invoice"
    id: int
    voided: bool = False
    posted: bool = False
    status: str = ""
    customer_id: int | None = None
    mainname: str = ""
    tax_code_id: int | None = None
    import_id: str = ""
    web_order_number: str = ""
    internal_notes: str = ""
    returned_invoice_id: int | None = None
    lines: tuple[LineInfo, ...] = ()
    payments: int = 0

    @property
    def display_id(self) -> str:
        return f"{'O' if self.kind == 'order' else 'I'}-{self.id}"

    @property
    def converted(self) -> bool:
        return self.kind == "order" and self.status.lower() == "converted"

    @property
    def complete(self) -> bool:
        expected = expected_counts(self.internal_notes)
        if expected is None:
            return True  # not made by m2pos, or before the marker existed: take it as it is
        lines, deposits = expected
        return len(self.lines) >= lines and self.payments >= deposits


def read_line(node: Element) -> LineInfo:
    return LineInfo(
        id=int(node.get("id", "0")),
        product_id=ref_id(node, "lineitem_product/product"),
        quantity=decimal(node, "quantity"),
        sell_price=decimal(node, "sell_price"),
        description=text(node, "lineitem_product/description"),
        reserved=decimal(node, "reserved"),
    )


def read_document(node: Element) -> DocumentInfo:
    kind = node.tag
    customer = node.find(f"{kind}_customer")
    lines = node.find("lineitems")
    payments = node.find("payments")
    status = text(node, "status") if kind == "order" else text(node, "invoice_status")
    return DocumentInfo(
        kind=kind,
        id=int(node.get("id", "0")),
        voided=flag(node, "flags/voided"),
        posted=flag(node, "flags/posted"),
        status=status,
        customer_id=ref_id(customer, "customer") if customer is not None else None,
        mainname=text(customer, "mainname"),
        tax_code_id=ref_id(node, "tax_code"),
        import_id=text(node, "import_id"),
        web_order_number=text(node, "web_order_number"),
        internal_notes=(node.findtext("internal_notes") or ""),
        returned_invoice_id=ref_id(node, "returned_invoice/invoice"),
        lines=tuple(read_line(n) for n in (lines if lines is not None else ()) if n.tag == "lineitem"),
        payments=sum(1 for n in (payments if payments is not None else ()) if n.tag == "payment"),
    )


# -- bodies sent to OnSite ---------------------------------------------------------------------------


def _address(parent: Element, tag: str, address: PostalAddress) -> None:
    node = sub(parent, tag)
    for name in ("address1", "address2", "city", "state", "zip", "country"):
        sub(node, name, getattr(address, name))


def customer_body(details: CustomerDetails) -> Element:
    root = ET.Element("customer")
    name = sub(root, "name")
    sub(name, "first", details.first)
    sub(name, "last", details.last)
    sub(root, "company", details.company)
    sub(root, "email", details.email)
    sub(root, "phone", details.phone)
    _addresses(root, details)
    return root


def customer_addresses_body(details: CustomerDetails) -> Element:
    root = ET.Element("customer")
    _addresses(root, details)
    return root


def _addresses(root: Element, details: CustomerDetails) -> None:
    billing = details.billing or details.shipping
    shipping = details.shipping or details.billing
    if billing is not None:
        _address(root, "billing_address", billing)
    if shipping is not None:
        _address(root, "shipping_address", shipping)


@dataclass(frozen=True)
class DocumentSpec:
    kind: str  # "order" | "invoice"
    reference: str  # Magento increment_id (orders: web_order_number; both: po)
    import_id: str
    customer_id: int | None
    mainname: str
    email: str = ""
    phone: str = ""
    zip: str = ""
    internal_notes: str = ""
    printed_notes: str = ""
    shipping_method: str = ""
    tax_code_id: int | None = None
    returned_invoice_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def document_body(spec: DocumentSpec) -> Element:
    root = ET.Element(spec.kind)
    block = sub(root, f"{spec.kind}_customer")
    if spec.customer_id is not None:
        sub(block, "customer", id=str(spec.customer_id))
    else:
        sub(block, "customer")
    sub(block, "mainname", spec.mainname[:120])
    if spec.email:
        sub(block, "phone_email", spec.email)
    if spec.phone:
        sub(block, "phone", spec.phone)
        sub(block, "mainphone", spec.phone)
    if spec.zip:
        sub(block, "zip", spec.zip)
    sub(block, "po", spec.reference)
    if spec.kind == "order":
        sub(root, "web_order_number", spec.reference)
    sub(root, "import_id", spec.import_id)
    sub(root, "internal_notes", spec.internal_notes)
    if spec.printed_notes:
        sub(root, "printed_notes", spec.printed_notes)
    if spec.shipping_method:
        sub(root, "shipping_method", spec.shipping_method[:120])
    if spec.tax_code_id is not None:
        sub(root, "tax_code", id=str(spec.tax_code_id))
    if spec.kind == "invoice" and spec.returned_invoice_id is not None:
        sub(sub(root, "returned_invoice"), "invoice", id=str(spec.returned_invoice_id))
    return root


def line_body(product_id: int, line: PlannedLine[OnSiteProduct], *, reserve: bool) -> Element:
    root = ET.Element("lineitem")
    product = sub(root, "lineitem_product")
    sub(product, "product", id=str(product_id))
    if line.description:
        sub(product, "description", line.description[:250])
    sub(root, "quantity", number(line.qty))
    sub(root, "sell_price", number(line.unit_price))
    if reserve:
        sub(root, "reserved", "true")
    return root


def quantity_body(quantity: Decimal) -> Element:
    root = ET.Element("lineitem")
    sub(root, "quantity", number(quantity))
    return root


def payment_body(method: str, amount: Decimal, number_text: str = "") -> Element:
    root = ET.Element("payment")
    sub(root, "payment_method", method)
    sub(root, "amount", number(amount))
    if number_text:
        sub(root, "number", number_text[:60])
    return root


def void_body(kind: str) -> Element:
    root = ET.Element(kind)
    sub(sub(root, "flags"), "voided", "true")
    return root


def helper_body(helper: HelperProduct) -> Element:
    root = ET.Element("product")
    sub(root, "code", helper.code)
    sub(root, "description", helper.description)
    sub(root, "sell_price", "0")
    sub(root, "cost", "0")
    flags = sub(root, "flags")
    sub(flags, "inventoried", "false")
    sub(flags, "taxable", "true" if helper.taxable else "false")
    sub(flags, "editable_sell", "true")
    sub(flags, "current", "true")
    sub(flags, "web", "false")
    return root
