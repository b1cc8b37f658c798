"""The adapter's parser against real recorded R-Series responses (``recorded/``: VCR cassettes of
github.com/marketplacer/lightspeed_pos, MIT), and the sandbox's answers against the same shapes:
one ``SaleLine`` is an object, several an array; every value a string; the error body."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml

from m2pos.pos.lightspeed_retail._client import http_error
from m2pos.pos.lightspeed_retail._mapping import read_customer, read_item, read_sale, records

from .conftest import Env

RECORDED = Path(__file__).parent / "recorded"


def _bodies(name: str) -> list[tuple[int, dict[str, Any]]]:
    cassette = yaml.safe_load((RECORDED / name).read_text())
    return [
        (i["response"]["status"]["code"], json.loads(i["response"]["body"]["string"]))
        for i in cassette["http_interactions"]
    ]


def test_one_sale_line_is_an_object_and_several_are_an_array() -> None:
    (_, _), (_, with_line) = _bodies("sales-create.yml")
    assert isinstance(with_line["Sale"]["SaleLines"]["SaleLine"], dict)
    sale = read_sale(with_line["Sale"])
    assert (sale.id, sale.completed, sale.voided, sale.total) == (121, False, False, Decimal("2.46"))
    assert [(line.item_id, line.quantity, line.unit_price) for line in sale.lines] == [
        (1, 2, Decimal("1.23"))
    ]
    ((_, updated),) = _bodies("sales-update.yml")
    assert isinstance(updated["Sale"]["SaleLines"]["SaleLine"], list)
    assert len(read_sale(updated["Sale"]).lines) == len(updated["Sale"]["SaleLines"]["SaleLine"]) > 1
    ((_, listing),) = _bodies("sales-show.yml")
    (shown,) = [read_sale(r) for r in records(listing, "Sale")]
    assert shown.lines == () and shown.quote_id == 0


def test_a_sale_line_listing_and_its_item() -> None:
    ((_, listing),) = _bodies("sales-sale_lines.yml")
    (line,) = records(listing, "SaleLine")  # one record: an object, read as a list of one
    item = read_item(line["Item"], "customSku")
    assert (item.id, item.sku, item.archived, item.inventoried) == (1, "testitem1", True, True)
    assert read_item(line["Item"], "systemSku").sku == "210000000001"


def test_a_customer_with_empty_contact_collections() -> None:
    ((_, listing),) = _bodies("customers-show.yml")
    (customer,) = [read_customer(r) for r in records(listing, "Customer")]
    assert (customer.id, customer.email, customer.name) == ("1", "", "cust first cust last")
    assert customer.billing is None and not customer.merged


def test_the_error_body_gives_the_message() -> None:
    ((status, body),) = _bodies("categories-create_invalid.yml")
    request = httpx.Request("POST", "https://api.lightspeedapp.com/API/V3/Account/1/Category.json")
    error = http_error(httpx.Response(status, json=body, request=request))
    assert not error.retryable and "name cannot be blank." in error.message and "400" in error.message


def _shape(value: Any) -> Any:
    """Keys and value kinds: what a parser relies on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _keys(value: dict[str, Any]) -> set[str]:
    return {k for k, v in value.items() if not isinstance(v, dict | list)}


async def test_the_sandbox_answers_in_the_recorded_shapes(env: Env) -> None:
    pos = env.adapter()
    one = env.order(items=[{"sku": "MUG-001", "qty": 1}], shipping_method="freeshipping_freeshipping")
    await pos.create_document(one, one.increment_id or "")
    many = env.order("simple")
    await pos.create_document(many, many.increment_id or "")
    (_, _), (_, recorded) = _bodies("sales-create.yml")
    recorded_sale, recorded_line = recorded["Sale"], recorded["Sale"]["SaleLines"]["SaleLine"]
    for order in (one, many):
        (sale,) = env.control.sales(order.increment_id)
        raw = sale["raw"]
        assert _keys(recorded_sale) - {"Shop"} <= _keys(raw)
        assert all(isinstance(v, str) for k, v in raw.items() if k in _keys(recorded_sale))
        lines = raw["SaleLines"]["SaleLine"]
        first = lines if isinstance(lines, dict) else lines[0]
        assert _keys(recorded_line) <= _keys(first)
        assert _shape({k: first[k] for k in _keys(recorded_line)}) == _shape(recorded_line)
    assert isinstance(env.control.sales(many.increment_id)[0]["raw"]["SaleLines"]["SaleLine"], list)
    # The recorded request itself, through the adapter's client: one line comes back as an object.
    cassette = yaml.safe_load((RECORDED / "sales-create.yml").read_text())
    body = json.loads(cassette["http_interactions"][1]["request"]["body"]["string"])
    answer = await pos.client.post("Sale.json", body)
    assert isinstance(answer["Sale"]["SaleLines"]["SaleLine"], dict)
    assert answer["@attributes"] == {"count": "1"}
    assert read_sale(answer["Sale"]).lines[0].quantity == 2
