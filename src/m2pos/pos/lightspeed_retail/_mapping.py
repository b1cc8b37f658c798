"""R-Series JSON in and out.

In: every value is a string (``"true"``, ``"2.46"``); a listing is ``{"@attributes": …, "Sale": …}``
and — the quirk — one record comes back as an object, several as an array, none as nothing (or
``""`` inside a contact). ``records`` undoes that once, for listings and relations alike.
Out: the bodies as in the recorded requests (``SaleLines: [{"SaleLine": {…}}]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from m2pos.pos.common.customers import CustomerDetails, PosCustomer, PostalAddress
from m2pos.pos.common.plan import PlannedLine

SOURCE = "Magento"  # referenceNumberSource of every document m2pos makes


def records(value: Any, name: str) -> list[dict[str, Any]]:
    """The records under ``name`` in ``value``: object → [object], array → array, missing/"" → []."""
    if not isinstance(value, dict):
        return []
    inner = value.get(name)
    if isinstance(inner, list):
        return [r for r in inner if isinstance(r, dict)]
    return [inner] if isinstance(inner, dict) else []


def number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def truth(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def text(value: Decimal) -> str:
    return format(value, "f")


# -- items --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetailItem:
    id: int
    sku: str  # the value of the configured SKU field
    description: str
    archived: bool = False
    inventoried: bool = True
    price: Decimal = Decimal(0)
    qoh: dict[int, Decimal] = field(default_factory=dict, compare=False)  # shopID → on hand


def read_item(record: dict[str, Any], sku_field: str) -> RetailItem:
    prices = records(record.get("Prices"), "ItemPrice")
    price = next((number(p.get("amount")) for p in prices if p.get("useType") == "Default"), Decimal(0))
    shops = records(record.get("ItemShops"), "ItemShop")
    return RetailItem(
        id=int(record["itemID"]),
        sku=str(record.get(sku_field) or ""),
        description=str(record.get("description") or ""),
        archived=truth(record.get("archived")),
        inventoried=str(record.get("itemType") or "default") != "non_inventory",
        price=price,
        qoh={int(s["shopID"]): number(s.get("qoh")) for s in shops if str(s.get("shopID", "")).isdigit()},
    )


def item_body(sku_field: str, sku: str, description: str, *, taxable: bool) -> dict[str, Any]:
    return {
        "description": description,
        sku_field: sku,
        "itemType": "non_inventory",
        "tax": taxable,
        "discountable": False,
        "Prices": {"ItemPrice": [{"amount": "0", "useType": "Default"}]},
    }


# -- customers ----------------------------------------------------------------------------------------


def _address(record: dict[str, Any]) -> PostalAddress | None:
    found = PostalAddress(
        address1=str(record.get("address1") or ""),
        address2=str(record.get("address2") or ""),
        city=str(record.get("city") or ""),
        state=str(record.get("stateCode") or record.get("state") or ""),
        zip=str(record.get("zip") or ""),
        country=str(record.get("countryCode") or record.get("country") or ""),
    )
    return None if found.is_empty else found


def read_customer(record: dict[str, Any]) -> PosCustomer:
    raw_contact = record.get("Contact")
    contact: dict[str, Any] = raw_contact if isinstance(raw_contact, dict) else {}
    emails = records(contact.get("Emails"), "ContactEmail")
    addresses = [_address(a) for a in records(contact.get("Addresses"), "ContactAddress")]
    billing = addresses[0] if addresses else None
    shipping = addresses[1] if len(addresses) > 1 else billing
    name = " ".join(p for p in (str(record.get("firstName") or ""), str(record.get("lastName") or "")) if p)
    return PosCustomer(
        id=str(record["customerID"]),
        email=str(emails[0].get("address") or "") if emails else "",
        name=name or str(record.get("company") or ""),
        merged=truth(record.get("archived")),  # archived customers are never matched
        modified=str(record.get("timeStamp") or ""),
        billing=billing,
        shipping=shipping,
        complete="Contact" in record,
    )


def _address_body(address: PostalAddress) -> dict[str, str]:
    return {
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
    }


def contact_body(details: CustomerDetails) -> dict[str, Any]:
    """Billing first, then the shipping address when it differs (R-Series keeps a list) [I]."""
    addresses = [a for a in (details.billing, details.shipping) if a is not None]
    if len(addresses) == 2 and addresses[0].covers(addresses[1]) and addresses[1].covers(addresses[0]):
        addresses = addresses[:1]
    contact: dict[str, Any] = {
        "Emails": {"ContactEmail": [{"address": details.email, "useType": "Primary"}]},
        "Addresses": {"ContactAddress": [_address_body(a) for a in addresses]},
    }
    if details.phone:
        contact["Phones"] = {"ContactPhone": [{"number": details.phone, "useType": "Home"}]}
    return contact


def customer_body(details: CustomerDetails) -> dict[str, Any]:
    return {
        "firstName": details.first,
        "lastName": details.last,
        "company": details.company,
        "Contact": contact_body(details),
    }


# -- sales --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInfo:
    id: int
    item_id: int
    quantity: Decimal
    unit_price: Decimal
    note: str = ""


@dataclass(frozen=True)
class SaleInfo:
    id: int
    reference: str
    source: str
    completed: bool
    voided: bool
    quote_id: int
    customer_id: int
    total: Decimal
    lines: tuple[LineInfo, ...] = ()

    @property
    def kind(self) -> str:
        return "quote" if self.quote_id else "sale"


def read_sale(record: dict[str, Any]) -> SaleInfo:
    lines = []
    for line in records(record.get("SaleLines"), "SaleLine"):
        raw_note = line.get("Note")
        note: dict[str, Any] = raw_note if isinstance(raw_note, dict) else {}
        lines.append(
            LineInfo(
                id=int(line["saleLineID"]),
                item_id=int(line.get("itemID") or 0),
                quantity=number(line.get("unitQuantity")),
                unit_price=number(line.get("unitPrice")),
                note=str(note.get("note") or ""),
            )
        )
    return SaleInfo(
        id=int(record["saleID"]),
        reference=str(record.get("referenceNumber") or ""),
        source=str(record.get("referenceNumberSource") or ""),
        completed=truth(record.get("completed")),
        voided=truth(record.get("voided")),
        quote_id=int(record.get("quoteID") or 0),
        customer_id=int(record.get("customerID") or 0),
        total=number(record.get("calcTotal") or record.get("total")),
        lines=tuple(lines),
    )


def read_sales(data: dict[str, Any]) -> list[SaleInfo]:
    return [read_sale(r) for r in records(data, "Sale")]


@dataclass(frozen=True)
class SaleSpec:
    reference: str
    shop_id: int
    register_id: int
    employee_id: int
    customer_id: int | None
    note: str
    lines: Sequence[tuple[int, PlannedLine[Any]]]  # (itemID, line)
    payment_type_id: int | None  # None: no payment (quotes)
    quote: bool = False
    ship_to: dict[str, Any] | None = None


def line_body(item_id: int, line: PlannedLine[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "itemID": item_id,
        "unitQuantity": text(line.qty),
        "unitPrice": text(line.unit_price),
        "tax": False,  # the whole Magento tax is its own line (tax_mode "line")
    }
    if line.description:
        body["Note"] = {"note": line.description}
    return body


def sale_body(spec: SaleSpec) -> dict[str, Any]:
    total = sum((line.total for _id, line in spec.lines), Decimal(0))
    body: dict[str, Any] = {
        "employeeID": spec.employee_id,
        "shopID": spec.shop_id,
        "registerID": spec.register_id,
        "taxCategoryID": 0,
        "customerID": spec.customer_id or 0,
        "referenceNumber": spec.reference,
        "referenceNumberSource": SOURCE,
        "completed": not spec.quote and spec.payment_type_id is not None,
        "Note": {"note": spec.note},
        "SaleLines": [{"SaleLine": line_body(item_id, line)} for item_id, line in spec.lines],
    }
    if spec.payment_type_id is not None and not spec.quote:
        body["SalePayments"] = [
            {"SalePayment": {"paymentTypeID": spec.payment_type_id, "amount": text(total)}}
        ]
    if spec.quote:
        body["Quote"] = {"notes": spec.note}
    if spec.ship_to:
        body["ShipTo"] = spec.ship_to
    return body


def ship_to_body(
    first: str, last: str, company: str, phone: str, address: PostalAddress | None
) -> dict[str, Any]:
    contact: dict[str, Any] = {}
    if address is not None:
        contact["Addresses"] = {"ContactAddress": [_address_body(address)]}
    if phone:
        contact["Phones"] = {"ContactPhone": [{"number": phone, "useType": "Home"}]}
    return {"firstName": first, "lastName": last, "company": company, "Contact": contact}
