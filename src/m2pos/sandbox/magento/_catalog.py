"""A small deterministic catalogue: simple, virtual, configurable (with child simples) and bundle
products, some SKUs containing ``/``, and MSI source items on two sources."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from m2pos.sandbox.magento._store import Doc

DEFAULT_SOURCE = "default"
SECOND_SOURCE = "warehouse_east"
COLOR_ATTRIBUTE_ID = 93
SIZE_ATTRIBUTE_ID = 144
_COLORS = {"Black": 49, "Blue": 50, "Gray": 52, "Green": 53, "Red": 58}
_SIZES = {"S": 168, "M": 169, "L": 170, "XL": 171}

_SIMPLES = [
    ("MUG-001", "Aurora Ceramic Mug", 14.0),
    ("MUG-350/BLK", "Travel Mug 350ml Black", 22.5),
    ("ABC/10", "Cotton Tote Bag 10L", 18.0),
    ("LAMP/E27-WHT", "Desk Lamp E27 White", 49.99),
    ("24-WG082-blue", "Sprite Stasis Ball 65 cm", 27.0),
    ("24-WG084", "Sprite Foam Yoga Brick", 5.0),
    ("24-WG086", "Sprite Yoga Strap 8 foot", 17.0),
    ("24-WG088", "Sprite Foam Roller", 19.0),
    ("24-WB04", "Overnight Duffle", 45.0),
    ("24-MB01", "Joust Duffle Bag", 34.0),
    ("24-UG06", "Affirm Water Bottle", 7.0),
    ("24-UB02", "Impulse Duffle", 74.0),
    ("NB-A5/DOT", "Dotted Notebook A5", 12.25),
    ("PEN-GEL-07", "Gel Pen 0.7mm", 2.95),
    ("CANDLE-SOY-L", "Soy Candle Large", 29.0),
    ("TEA-EARL-100", "Earl Grey Tea 100g", 9.5),
    ("SOCK-WOOL-M", "Merino Wool Socks M", 16.0),
    ("CAP-BASE-NVY", "Baseball Cap Navy", 24.0),
    ("UMB-COMPACT", "Compact Umbrella", 31.0),
    ("HEADPH-BT/2", "Bluetooth Headphones Gen 2", 129.0),
]
_VIRTUALS = [("WARRANTY-2Y", "Extended Warranty 2 Years", 39.0), ("GIFTWRAP", "Gift Wrapping", 4.5)]
_CONFIGURABLES = [
    ("MH01", "Chaz Kangeroo Hoodie", 52.0, ("Gray", "Black"), ("S", "M", "L")),
    ("WS12", "Radiant Tee", 22.0, ("Blue", "Green"), ("S", "M", "L")),
    ("MJ04", "Kenobi Trail Jacket", 47.0, ("Black", "Red"), ("M", "L", "XL")),
    ("WP07", "Aeon Capri", 48.0, ("Black", "Blue"), ("S", "M")),
]
_BUNDLES = [
    (
        "24-WG080",
        "Sprite Yoga Companion Kit",
        [
            ("Sprite Stasis Ball", ["24-WG082-blue"]),
            ("Sprite Foam Yoga Brick", ["24-WG084"]),
            ("Sprite Yoga Strap", ["24-WG086"]),
            ("Sprite Foam Roller", ["24-WG088"]),
        ],
    ),
    (
        "OFFICE-KIT",
        "Home Office Kit",
        [("Lamp", ["LAMP/E27-WHT"]), ("Notebook", ["NB-A5/DOT"]), ("Pens", ["PEN-GEL-07"])],
    ),
]


@dataclass
class BundleSelection:
    selection_id: int
    option_id: int
    product_id: int
    qty: float


@dataclass
class Product:
    id: int
    sku: str
    name: str
    type_id: str
    price: float
    weight: float
    cost: float
    visibility: int = 4
    parent_id: int | None = None
    children: list[int] = field(default_factory=list)
    super_attributes: dict[int, int] = field(default_factory=dict)  # attribute_id -> option value
    bundle_options: list[tuple[int, str, list[BundleSelection]]] = field(default_factory=list)

    @property
    def is_virtual(self) -> bool:
        return self.type_id == "virtual"


class Catalog:
    def __init__(self, products: list[Product]) -> None:
        self.products = products
        self.by_id = {p.id: p for p in products}
        self.by_sku = {p.sku: p for p in products}

    def sellable(self, type_id: str) -> list[Product]:
        return [p for p in self.products if p.type_id == type_id and p.visibility == 4]


def build_catalog() -> Catalog:
    """The same catalogue for every seed: tests can name SKUs."""
    products: list[Product] = []
    next_id = 1

    def add(p: Product) -> Product:
        nonlocal next_id
        products.append(p)
        next_id += 1
        return p

    for sku, name, price in _SIMPLES:
        add(Product(next_id, sku, name, "simple", price, 1.0, round(price * 0.45, 2)))
    for sku, name, price in _VIRTUALS:
        add(Product(next_id, sku, name, "virtual", price, 0.0, 0.0))
    for sku, name, price, colors, sizes in _CONFIGURABLES:
        parent = add(Product(next_id, sku, name, "configurable", 0.0, 1.0, 0.0))
        for size in sizes:
            for color in colors:
                child_price = price + (2.0 if size == "XL" else 0.0)
                child = add(
                    Product(
                        next_id,
                        f"{sku}-{size}-{color}",
                        f"{name}-{size}-{color}",
                        "simple",
                        child_price,
                        1.0,
                        round(child_price * 0.4, 2),
                        visibility=1,
                        parent_id=parent.id,
                        super_attributes={
                            COLOR_ATTRIBUTE_ID: _COLORS[color],
                            SIZE_ATTRIBUTE_ID: _SIZES[size],
                        },
                    )
                )
                parent.children.append(child.id)
    by_sku = {p.sku: p for p in products}
    option_id = 1
    selection_id = 1
    for sku, name, options in _BUNDLES:
        bundle = add(Product(next_id, sku, name, "bundle", 0.0, 0.0, 0.0))
        for title, skus in options:
            selections = []
            for child_sku in skus:
                selections.append(BundleSelection(selection_id, option_id, by_sku[child_sku].id, 1.0))
                selection_id += 1
            bundle.bundle_options.append((option_id, title, selections))
            option_id += 1
    return Catalog(products)


def product_document(p: Product, catalog: Catalog, created_at: str) -> Doc:
    """``catalog-data-product-interface`` as ``GET /V1/products`` returns it (no ``stock_item`` in lists)."""
    ext: dict[str, Any] = {
        "website_ids": [1],
        "category_links": [{"position": 0, "category_id": "2"}],
    }
    if p.type_id == "configurable":
        children = [catalog.by_id[c] for c in p.children]
        options = []
        for pos, (attr_id, label) in enumerate(((COLOR_ATTRIBUTE_ID, "Color"), (SIZE_ATTRIBUTE_ID, "Size"))):
            values = sorted({c.super_attributes[attr_id] for c in children})
            options.append(
                {
                    "id": p.id * 10 + pos,
                    "attribute_id": str(attr_id),
                    "label": label,
                    "position": pos,
                    "values": [{"value_index": v} for v in values],
                    "product_id": p.id,
                }
            )
        ext["configurable_product_options"] = options
        ext["configurable_product_links"] = list(p.children)
    if p.type_id == "bundle":
        ext["bundle_product_options"] = [
            {
                "option_id": option_id,
                "title": title,
                "required": True,
                "type": "select",
                "position": n,
                "sku": p.sku,
                "product_links": [
                    {
                        "id": str(s.selection_id),
                        "sku": catalog.by_id[s.product_id].sku,
                        "option_id": option_id,
                        "qty": s.qty,
                        "position": 0,
                        "is_default": True,
                        "price": 0.0,
                        "price_type": 0,
                        "can_change_quantity": 0,
                    }
                    for s in selections
                ],
            }
            for n, (option_id, title, selections) in enumerate(p.bundle_options)
        ]
    custom = [
        {"attribute_code": "url_key", "value": p.sku.lower().replace("/", "-")},
        {"attribute_code": "tax_class_id", "value": "0" if p.is_virtual else "2"},
    ]
    if p.super_attributes:
        custom += [{"attribute_code": "color", "value": str(p.super_attributes[COLOR_ATTRIBUTE_ID])}]
        custom += [{"attribute_code": "size", "value": str(p.super_attributes[SIZE_ATTRIBUTE_ID])}]
    doc: Doc = {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "attribute_set_id": 9 if p.super_attributes or p.type_id == "configurable" else 4,
        "price": p.price,
        "status": 1,
        "visibility": p.visibility,
        "type_id": p.type_id,
        "created_at": created_at,
        "updated_at": created_at,
        "extension_attributes": ext,
        "product_links": [],
        "options": [],
        "media_gallery_entries": [],
        "tier_prices": [],
        "custom_attributes": custom,
    }
    if p.type_id not in ("virtual", "configurable", "bundle"):
        doc["weight"] = p.weight
    return doc


def initial_source_items(catalog: Catalog, rng: random.Random) -> list[Doc]:
    """Physical per-source quantities for every product that has stock (simple and virtual)."""
    items: list[Doc] = []
    for p in catalog.products:
        if p.type_id not in ("simple", "virtual"):
            continue
        qty = float(rng.choice((0, 3, 8, 15, 25, 40, 60, 100, 150)))
        items.append({"sku": p.sku, "source_code": DEFAULT_SOURCE, "quantity": qty, "status": int(qty > 0)})
        if p.id % 3 == 0:
            qty2 = float(rng.randint(0, 30))
            items.append(
                {"sku": p.sku, "source_code": SECOND_SOURCE, "quantity": qty2, "status": int(qty2 > 0)}
            )
    return items
