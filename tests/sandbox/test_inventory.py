"""MSI source items and the legacy stock item route."""

from __future__ import annotations

from typing import Any

from .conftest import Magento


def default_qty(m: Magento, sku: str) -> float:
    return next(s["quantity"] for s in m.sandbox.control.stock(sku) if s["source_code"] == "default")


def test_source_items_upsert(magento: Magento, schema_validate: Any) -> None:
    body = {
        "sourceItems": [
            {"sku": "MUG-001", "source_code": "default", "quantity": 42, "status": 1},
            {"sku": "NEW-SKU", "source_code": "warehouse_east", "quantity": 5, "status": 1},
        ]
    }
    resp = magento.post("/V1/inventory/source-items", body)
    assert resp.status_code == 200
    assert resp.json() == []
    assert default_qty(magento, "MUG-001") == 42
    listed = magento.get(
        "/V1/inventory/source-items",
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "sku",
            "searchCriteria[filter_groups][0][filters][0][value]": "NEW-SKU",
        },
    ).json()
    schema_validate("inventory-api-data-source-item-search-results-interface", listed)
    assert listed["items"] == [
        {"sku": "NEW-SKU", "source_code": "warehouse_east", "quantity": 5.0, "status": 1}
    ]
    moves = magento.sandbox.control.stock_movements("MUG-001")
    assert moves[-1]["quantity_after"] == 42 and moves[-1]["reason"] == "source_items_save"


def test_source_items_validation(magento: Magento) -> None:
    empty = magento.post(
        "/V1/inventory/source-items", {"sourceItems": [{"sku": "", "source_code": "default"}]}
    )
    assert empty.status_code == 400
    assert empty.json()["errors"] == [
        {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}}
    ]
    unknown_source = magento.post(
        "/V1/inventory/source-items",
        {"sourceItems": [{"sku": "MUG-001", "source_code": "mars", "quantity": 1}]},
    )
    assert unknown_source.status_code == 400
    assert magento.post("/V1/inventory/source-items", {}).json()["parameters"] == {"fieldName": "sourceItems"}


def test_source_items_chunk_limit(make_magento: Any) -> None:
    m = make_magento(input_limits=True)
    items = [{"sku": f"SKU-{i}", "source_code": "default", "quantity": i, "status": 1} for i in range(21)]
    resp = m.post("/V1/inventory/source-items", {"sourceItems": items})
    assert resp.status_code == 400
    assert resp.json() == {
        "message": 'Maximum items of type "%type" is %max',
        "parameters": {"type": "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface", "max": 20},
    }
    assert m.post("/V1/inventory/source-items", {"sourceItems": items[:20]}).status_code == 200
    m.sandbox.control.set_config(input_limits=False)
    assert m.post("/V1/inventory/source-items", {"sourceItems": items}).status_code == 200


def test_legacy_stock_item_with_slash_in_sku(magento: Magento) -> None:
    body = {"stockItem": {"qty": 12, "is_in_stock": True}}
    resp = magento.put("/V1/products/ABC%2F10/stockItems/999", body, auth="admin")
    assert resp.status_code == 200, resp.text
    item_id = resp.json()
    assert isinstance(item_id, int)
    assert default_qty(magento, "ABC/10") == 12
    out = magento.put(
        "/V1/products/ABC%2F10/stockItems/1", {"stockItem": {"qty": 0, "is_in_stock": False}}, auth="admin"
    )
    assert out.json() == item_id  # {itemId} is ignored
    stock = next(s for s in magento.sandbox.control.stock("ABC/10") if s["source_code"] == "default")
    assert stock == {"sku": "ABC/10", "source_code": "default", "quantity": 0.0, "status": 0}
    missing = magento.put("/V1/products/NOPE/stockItems/1", body, auth="admin")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": 'The Product with the "%1" SKU doesn\'t exist.',
        "parameters": ["NOPE"],
    }


def test_products_search(magento: Magento, schema_validate: Any) -> None:
    resp = magento.get(
        "/V1/products",
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "type_id",
            "searchCriteria[filter_groups][0][filters][0][value]": "configurable",
            "searchCriteria[pageSize]": 10,
        },
    ).json()
    schema_validate("catalog-data-product-search-results-interface", resp)
    first = resp["items"][0]
    assert first["type_id"] == "configurable"
    links = first["extension_attributes"]["configurable_product_links"]
    assert links and "stock_item" not in first["extension_attributes"]
    bundles = magento.get(
        "/V1/products",
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "type_id",
            "searchCriteria[filter_groups][0][filters][0][value]": "bundle",
        },
    ).json()
    assert all(b["extension_attributes"]["bundle_product_options"] for b in bundles["items"])
