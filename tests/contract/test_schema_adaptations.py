"""The two narrow adaptations for projections and partial stock items (see ``swagger.py``'s docstring)."""

from __future__ import annotations

import pytest

from tests.contract.swagger import ContractError, load_schema

ORDERS = "/rest/default/V1/orders"
STOCK_ITEM = "/rest/default/V1/products/AB%2F10/stockItems/1"
PROJECTION = [("searchCriteria[pageSize]", "2"), ("fields", "items[entity_id,increment_id],total_count")]
PROJECTED = {"items": [{"entity_id": 1, "increment_id": "000000001"}], "total_count": 1}


def test_a_projection_may_lack_required_keys() -> None:
    load_schema().check_response("GET", ORDERS, 200, PROJECTED, PROJECTION)


def test_without_fields_the_same_body_is_refused() -> None:
    with pytest.raises(ContractError, match="'search_criteria' is a required property"):
        load_schema().check_response("GET", ORDERS, 200, PROJECTED, [("searchCriteria[pageSize]", "2")])
    with pytest.raises(ContractError, match="'grand_total' is a required property"):
        load_schema().check_response("GET", ORDERS, 200, PROJECTED)


def test_a_projection_still_has_typed_keys() -> None:
    wrong = {"items": [{"entity_id": "one", "increment_id": 1}], "total_count": "1"}
    with pytest.raises(ContractError) as caught:
        load_schema().check_response("GET", ORDERS, 200, wrong, PROJECTION)
    assert "items/0/entity_id" in str(caught.value)
    assert "items/0/increment_id" in str(caught.value)
    assert "total_count" in str(caught.value)


def test_an_error_answer_to_a_projection_is_not_relaxed() -> None:
    with pytest.raises(ContractError, match="'message' is a required property"):
        load_schema().check_response("GET", ORDERS, 400, {"parameters": {"max": 300}}, PROJECTION)


def test_the_legacy_stock_item_body_may_be_partial() -> None:
    load_schema().check_request("PUT", STOCK_ITEM, [], {"stockItem": {"qty": 12, "is_in_stock": True}})


def test_the_partial_stock_item_is_still_typed_and_wrapped() -> None:
    schema = load_schema()
    with pytest.raises(ContractError, match="is_in_stock"):
        schema.check_request("PUT", STOCK_ITEM, [], {"stockItem": {"qty": 12, "is_in_stock": "yes"}})
    with pytest.raises(ContractError, match="'stockItem' is a required property"):
        schema.check_request("PUT", STOCK_ITEM, [], {"qty": 12, "is_in_stock": True})


def test_the_partial_stock_item_relaxation_does_not_leak() -> None:
    schema = load_schema()
    schema.check_request("PUT", STOCK_ITEM, [], {"stockItem": {"qty": 1, "is_in_stock": True}})
    with pytest.raises(ContractError, match="'min_qty' is a required property"):
        schema.validate_definition(
            "catalog-inventory-data-stock-item-interface", {"qty": 1, "is_in_stock": True}
        )
    # Another body that embeds a stock item keeps every required key (the product save's stock item).
    product = {
        "product": {
            "sku": "A",
            "extension_attributes": {"stock_item": {"qty": 1, "is_in_stock": True}},
        }
    }
    with pytest.raises(ContractError, match="'min_qty' is a required property"):
        schema.check_request("PUT", "/rest/default/V1/products/A", [], product)
