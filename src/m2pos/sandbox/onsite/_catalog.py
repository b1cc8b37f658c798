"""The OnSite sandbox's demo data: products (with the Magento sandbox's SKUs as product codes, minus a
few so that "No Product Found" lines happen), stock, customers (some with the Magento sandbox's
e-mails, one merged duplicate), tax codes and payment methods. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from m2pos.sandbox.magento._catalog import build_catalog
from m2pos.sandbox.magento._datagen import make_customer

# Magento SKUs deliberately absent from the OnSite catalogue: orders with them need "No Product Found".
MISSING_SKUS = ("HEADPH-BT/2", "CANDLE-SOY-L", "WS12-L-Green")

TAX_CODES = (
    ("No Tax", Decimal("0")),
    ("US-CA-*-Rate 1", Decimal("8.25")),
    ("US-NY-*-Rate 1", Decimal("8.375")),
)
PAYMENT_METHODS = (
    "Cash",
    "Check",
    "Visa",
    "MasterCard",
    "American Express",
    "Gift Card",
    "On Account",
    "Magento",
)

_NOUNS = (
    "Mug",
    "Scarf",
    "Notebook",
    "Candle",
    "Lamp",
    "Poster",
    "Bottle",
    "Cap",
    "Sock",
    "Tote",
    "Pen",
    "Frame",
)
_ADJECTIVES = (
    "Classic",
    "Organic",
    "Vintage",
    "Compact",
    "Deluxe",
    "Urban",
    "Nordic",
    "Bright",
    "Soft",
    "Bold",
)
_STOCK_LEVELS = (0, 0, 2, 5, 8, 12, 20, 35, 50, 100)


@dataclass
class DemoProduct:
    code: str
    description: str
    sell_price: Decimal
    cost: Decimal
    upc: str
    manufacturer_sku: str
    inventoried: bool = True
    master_model: bool = False
    taxable: bool = True
    stock: Decimal = Decimal("0")


@dataclass
class DemoCustomer:
    first: str
    last: str
    email: str
    phone: str
    company: str = ""
    address: dict[str, str] = field(default_factory=dict)
    merged_into_previous: bool = False


def _upc(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(11)]
    check = (10 - (sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits)) % 10)) % 10
    return "".join(map(str, digits)) + str(check)


def demo_products(extra: int, seed: int) -> list[DemoProduct]:
    """The Magento sandbox's simple/virtual SKUs and configurable children as product codes (its
    configurable parents as master models), then ``extra`` generated products ``LS-00001``…"""
    rng = random.Random(seed * 7_919 + 17)
    out: list[DemoProduct] = []
    catalog = build_catalog()
    for p in catalog.products:
        if p.sku in MISSING_SKUS or p.type_id == "bundle":
            continue
        price = Decimal(str(p.price)).quantize(Decimal("0.001"))
        cost = Decimal(str(p.cost)).quantize(Decimal("0.001"))
        master = p.type_id == "configurable"
        inventoried = p.type_id == "simple"
        out.append(
            DemoProduct(
                code=p.sku,
                description=p.name,
                sell_price=price,
                cost=cost,
                upc=_upc(rng),
                manufacturer_sku=f"MFR-{p.id:04d}",
                inventoried=inventoried,
                master_model=master,
                taxable=p.type_id != "virtual",
                stock=Decimal(rng.choice(_STOCK_LEVELS)) if inventoried else Decimal("0"),
            )
        )
    for n in range(1, extra + 1):
        price = Decimal(rng.randint(300, 15000)) / 100
        out.append(
            DemoProduct(
                code=f"LS-{n:05d}",
                description=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {n}",
                sell_price=price.quantize(Decimal("0.001")),
                cost=(price * Decimal("0.45")).quantize(Decimal("0.001")),
                upc=_upc(rng),
                manufacturer_sku=f"MFR-LS-{n:05d}",
                stock=Decimal(rng.choice(_STOCK_LEVELS)),
            )
        )
    return out


def demo_customers(seed: int, count: int = 12) -> list[DemoCustomer]:
    """Magento's customers 1, 3, 5, … (same seed → same e-mails), the first one also as a merged
    duplicate (an older record whose ``merged_to`` points to the survivor)."""
    out: list[DemoCustomer] = []
    for index in range(1, 2 * count, 2):
        person = make_customer(index, seed, guest=False)
        address = {
            "address1": person.address.street[0],
            "address2": "",
            "city": person.address.city,
            "state": person.address.region_code,
            "zip": person.address.postcode,
            "country": person.address.country_id,
        }
        customer = DemoCustomer(person.firstname, person.lastname, person.email, person.address.telephone)
        customer.address = address
        if index == 1:
            out.append(
                DemoCustomer(
                    person.firstname, person.lastname, person.email, person.address.telephone, address=address
                )
            )
            customer.merged_into_previous = True
        out.append(customer)
    return out
