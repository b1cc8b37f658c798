"""The contract validator itself: it accepts real Magento payloads and rejects wrong ones."""

from __future__ import annotations

import json
import re

import pytest

from tests.contract.swagger import SCHEMA_PATH, ContractError, load_schema


def _tutorial_json(name: str, after: str) -> object:
    """The first JSON code block after ``after`` in one of Adobe's tutorial pages."""
    text = (SCHEMA_PATH.parent / name).read_text()
    block = re.search(r"```json\n(.*?)```", text[text.index(after) :], re.S)
    assert block is not None
    return json.loads(block.group(1))


def test_adobes_real_invoice_sample_follows_the_schema() -> None:
    invoice = _tutorial_json("tutorial-order-create-invoice.md", "## View the invoice")
    load_schema().check_response("GET", "/rest/default/V1/invoices/3", 200, invoice)


def test_a_wrongly_typed_field_is_rejected() -> None:
    invoice = _tutorial_json("tutorial-order-create-invoice.md", "## View the invoice")
    assert isinstance(invoice, dict)
    invoice["total_qty"] = "nine"
    with pytest.raises(ContractError, match="total_qty"):
        load_schema().check_response("GET", "/rest/default/V1/invoices/3", 200, invoice)


def test_a_missing_required_key_is_rejected_but_a_null_one_is_allowed() -> None:
    schema = load_schema()
    payment = {"method": "checkmo", "account_status": None, "additional_information": [], "cc_last4": None}
    schema.validate_definition("sales-data-order-payment-interface", payment)
    del payment["method"]
    with pytest.raises(ContractError, match="'method' is a required property"):
        schema.validate_definition("sales-data-order-payment-interface", payment)


def test_error_bodies_may_carry_named_parameters() -> None:
    message = "The consumer isn't authorized to access %resources."
    body = {"message": message, "parameters": {"resources": "x"}}
    load_schema().check_response("GET", "/rest/default/V1/orders", 401, body)
    with pytest.raises(ContractError, match="message"):
        load_schema().check_response("GET", "/rest/default/V1/orders", 401, {"parameters": []})


def test_query_parameters_must_be_declared_in_either_spelling() -> None:
    schema = load_schema()
    good = [
        ("searchCriteria[filter_groups][2][filters][1][condition_type]", "eq"),
        ("searchCriteria[filterGroups][0][filters][0][field]", "state"),
        ("searchCriteria[pageSize]", "100"),
        ("fields", "items[entity_id],total_count"),
    ]
    schema.check_request("GET", "/rest/default/V1/orders", good, None)
    with pytest.raises(ContractError, match="limit"):
        schema.check_request("GET", "/rest/default/V1/orders", [("limit", "10")], None)


def test_request_bodies_are_checked() -> None:
    schema = load_schema()
    schema.check_request("POST", "/rest/default/V1/order/3/invoice", [], {"capture": True, "notify": False})
    with pytest.raises(ContractError, match="capture"):
        schema.check_request("POST", "/rest/default/V1/order/3/invoice", [], {"capture": "yes"})
    with pytest.raises(ContractError, match="sourceItems"):
        schema.check_request("POST", "/rest/default/V1/inventory/source-items", [], {"items": []})


def test_paths_match_templates_with_encoded_slashes() -> None:
    route = load_schema().route("PUT", "/rest/default/V1/products/AB%2F10/stockItems/1")
    assert route.template == "/V1/products/{productSku}/stockItems/{itemId}"
    with pytest.raises(ContractError):
        load_schema().route("GET", "/rest/default/V1/no-such-route")
