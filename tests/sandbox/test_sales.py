"""Invoices, credit memos, cancel/hold/unhold and comments: Magento's validations and state machine."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from .conftest import Magento

VALIDATION = "Invoice Document Validation Error(s):\n"


def order_of(m: Magento, order_id: int) -> dict[str, Any]:
    resp = m.get(f"/V1/orders/{order_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_invoice_moves_new_order_to_processing(magento: Magento, schema_validate: Any) -> None:
    placed = magento.sandbox.control.place_order("simple", payment="checkmo")
    oid = placed["entity_id"]
    assert (placed["state"], placed["status"]) == ("new", "pending")
    assert "total_invoiced" not in placed and "total_paid" not in placed
    resp = magento.post(f"/V1/order/{oid}/invoice", {"capture": False, "notify": False})
    assert resp.status_code == 200
    invoice_id = resp.json()
    assert isinstance(invoice_id, int)
    order = order_of(magento, oid)
    assert (order["state"], order["status"]) == ("processing", "processing")
    assert order["total_invoiced"] == order["grand_total"] == order["total_paid"]
    assert order["subtotal_invoiced"] == order["subtotal"]
    assert order["shipping_invoiced"] == order["shipping_amount"]
    assert order["total_due"] == 0
    assert order["payment"]["amount_paid"] == order["grand_total"]
    assert all(i["qty_invoiced"] == i["qty_ordered"] for i in order["items"])
    invoice = magento.get(f"/V1/invoices/{invoice_id}").json()
    assert invoice["state"] == 2
    assert invoice["order_id"] == oid
    assert invoice["grand_total"] == order["grand_total"]
    assert invoice["total_qty"] == sum(i["qty_ordered"] for i in order["items"])
    schema_validate("sales-data-invoice-interface", invoice)
    schema_validate("sales-data-order-interface", order)
    found = magento.get(
        "/V1/invoices",
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": oid,
        },
    )
    assert [i["entity_id"] for i in found.json()["items"]] == [invoice_id]


def test_invoice_twice_is_refused(magento: Magento) -> None:
    oid = magento.sandbox.control.place_order("simple")["entity_id"]
    assert magento.post(f"/V1/order/{oid}/invoice", {}).status_code == 200
    again = magento.post(f"/V1/order/{oid}/invoice", {"capture": True})
    assert again.status_code == 400
    assert again.json()["message"].startswith(VALIDATION)
    assert "The order does not allow an invoice to be created." in again.json()["message"]
    assert "parameters" not in again.json()


@pytest.mark.parametrize(
    ("payment", "action", "status"),
    [
        ("checkmo", "hold", "holded"),
        ("payment_review", None, "payment_review"),
        ("checkmo", "cancel", "canceled"),
    ],
)
def test_invoice_refused_in_blocked_states(
    magento: Magento, payment: str, action: str | None, status: str
) -> None:
    control = magento.sandbox.control
    oid = control.place_order("simple", payment=payment)["entity_id"]
    if action:
        getattr(control, action)(oid)
    resp = magento.post(f"/V1/order/{oid}/invoice", {})
    assert resp.status_code == 400
    lines = resp.json()["message"].split("\n")
    assert lines[:2] == [
        VALIDATION.strip(),
        f"An invoice cannot be created when an order has a status of {status}",
    ]


def test_partial_invoices_and_quantity_validation(magento: Magento) -> None:
    placed = magento.sandbox.control.place_order(items=[{"sku": "MUG-001", "qty": 3}])
    oid = placed["entity_id"]
    item_id = placed["items"][0]["item_id"]
    too_many = magento.post(f"/V1/order/{oid}/invoice", {"items": [{"order_item_id": item_id, "qty": 4}]})
    assert too_many.status_code == 400
    assert 'uninvoiced quantity for product SKU "MUG-001".' in too_many.json()["message"]
    stranger = magento.post(f"/V1/order/{oid}/invoice", {"items": [{"orderItemId": 999999, "qty": 1}]})
    assert "not part of the original order" in stranger.json()["message"]
    first = magento.post(f"/V1/order/{oid}/invoice", {"items": [{"order_item_id": item_id, "qty": 1}]}).json()
    order = order_of(magento, oid)
    assert order["items"][0]["qty_invoiced"] == 1
    assert order["state"] == "processing"
    second = magento.post(f"/V1/order/{oid}/invoice", {}).json()
    inv1, inv2 = (magento.get(f"/V1/invoices/{i}").json() for i in (first, second))
    assert inv1["shipping_amount"] == order["shipping_amount"]  # shipping goes on the first invoice
    assert inv2["shipping_amount"] == 0
    assert inv1["total_qty"] == 1 and inv2["total_qty"] == 2
    assert round(inv1["grand_total"] + inv2["grand_total"], 2) == order["grand_total"]
    assert order_of(magento, oid)["total_invoiced"] == order["grand_total"]


def test_configurable_and_bundle_lines(magento: Magento, schema_validate: Any) -> None:
    placed = magento.sandbox.control.place_order("mixed")
    schema_validate("sales-data-order-interface", placed)
    items = placed["items"]
    parent = next(i for i in items if i["product_type"] == "configurable")
    child = next(i for i in items if i.get("parent_item_id") == parent["item_id"])
    assert parent["sku"] == child["sku"] and child["product_type"] == "simple"
    assert child["price"] == 0 and parent["price"] > 0
    assert child["parent_item"]["item_id"] == parent["item_id"]
    bundle = next(i for i in items if i["product_type"] == "bundle")
    parts = [i for i in items if i.get("parent_item_id") == bundle["item_id"]]
    assert bundle["row_total"] == 0 and sum(p["row_total"] for p in parts) > 0
    money_rows = [i for i in items if i["product_type"] != "bundle" and i not in [child]]
    assert round(sum(i["row_total"] for i in money_rows), 2) == placed["subtotal"]
    assert "shipping_address" not in placed
    shipping = placed["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert shipping["address"]["address_type"] == "shipping" and shipping["method"] and "total" in shipping
    # Invoicing through the child id invoices the configurable parent.
    resp = magento.post(
        f"/V1/order/{placed['entity_id']}/invoice", {"items": [{"order_item_id": child["item_id"], "qty": 1}]}
    )
    assert resp.status_code == 200, resp.text
    invoice = magento.get(f"/V1/invoices/{resp.json()}").json()
    assert {i["order_item_id"] for i in invoice["items"]} == {parent["item_id"], child["item_id"]}
    order = order_of(magento, placed["entity_id"])
    assert next(i for i in order["items"] if i["item_id"] == parent["item_id"])["qty_invoiced"] == 1


def test_payment_kinds(magento: Magento) -> None:
    control = magento.sandbox.control
    captured = control.place_order("simple", payment="captured")
    assert (captured["state"], captured["total_paid"]) == ("processing", captured["grand_total"])
    assert "does not allow an invoice" in magento.post(f"/V1/order/{captured['entity_id']}/invoice", {}).text
    authorised = control.place_order("simple", payment="authorised")
    assert authorised["state"] == "processing" and "total_invoiced" not in authorised
    assert authorised["payment"]["amount_authorized"] == authorised["grand_total"]
    inv = magento.post(f"/V1/order/{authorised['entity_id']}/invoice", {"capture": True}).json()
    assert magento.get(f"/V1/invoices/{inv}").json()["transaction_id"]
    comments = order_of(magento, authorised["entity_id"])["status_histories"]
    assert comments[0]["comment"].startswith("Captured amount of $")
    virtual = control.place_order("virtual")
    magento.post(f"/V1/order/{virtual['entity_id']}/invoice", {})
    assert order_of(magento, virtual["entity_id"])["state"] == "complete"
    free = control.place_order("simple", payment="free")
    assert free["grand_total"] == 0 and free["payment"]["method"] == "free"
    free_inv = magento.post(f"/V1/order/{free['entity_id']}/invoice", {}).json()
    assert magento.get(f"/V1/invoices/{free_inv}").json()["grand_total"] == 0
    shipped = control.place_order("simple")
    control.ship(shipped["entity_id"])
    magento.post(f"/V1/order/{shipped['entity_id']}/invoice", {})
    assert order_of(magento, shipped["entity_id"])["state"] == "complete"


def test_full_refund_closes_and_returns_only_listed_items(magento: Magento, schema_validate: Any) -> None:
    control = magento.sandbox.control
    placed = control.place_order(items=[{"sku": "MUG-001", "qty": 2}, {"sku": "ABC/10", "qty": 1}])
    oid = placed["entity_id"]
    mug = placed["items"][0]
    control.invoice(oid)
    control.ship(oid)  # MSI deducts the source at shipment
    before = {s["sku"]: s["quantity"] for s in control.stock() if s["source_code"] == "default"}
    body = {"arguments": {"extension_attributes": {"return_to_stock_items": [mug["item_id"]]}}}
    resp = magento.post(f"/V1/order/{oid}/refund", body)
    assert resp.status_code == 200, resp.text
    memo = magento.get(f"/V1/creditmemo/{resp.json()}").json()
    schema_validate("sales-data-creditmemo-interface", memo)
    order = order_of(magento, oid)
    assert memo["state"] == 2 and memo["grand_total"] == order["grand_total"]
    assert (order["state"], order["status"]) == ("closed", "closed")
    assert order["total_refunded"] == order["grand_total"]
    after = {s["sku"]: s["quantity"] for s in control.stock() if s["source_code"] == "default"}
    assert after["MUG-001"] == before["MUG-001"] + 2  # shipped and returned: back to the source
    assert after["ABC/10"] == before["ABC/10"]  # shipped, not returned: nothing moves
    moves = [m for m in control.stock_movements() if m["creditmemo_id"] is not None]
    assert [(m["sku"], m["delta"], m["reason"], m["creditmemo_id"]) for m in moves] == [
        ("MUG-001", 2.0, "return_to_stock", resp.json())
    ]
    again = magento.post(f"/V1/order/{oid}/refund", {})
    assert again.json()["message"] == (
        "Creditmemo Document Validation Error(s):\n"
        "A creditmemo can not be created when an order has a status of closed"
    )


def test_partial_refund_and_refund_validations(magento: Magento) -> None:
    control = magento.sandbox.control
    placed = control.place_order(items=[{"sku": "MUG-001", "qty": 2}])
    oid = placed["entity_id"]
    item_id = placed["items"][0]["item_id"]
    not_paid = magento.post(f"/V1/order/{oid}/refund", {})
    assert not_paid.status_code == 400
    assert not_paid.json()["message"].endswith("The order does not allow a creditmemo to be created.")
    control.invoice(oid)
    too_much_shipping = magento.post(f"/V1/order/{oid}/refund", {"arguments": {"shipping_amount": 999}})
    assert too_much_shipping.json() == {
        "message": "Maximum shipping amount allowed to refund is: %1",
        "parameters": [f"${placed['shipping_amount']:,.2f}"],
    }
    bad_return = magento.post(
        f"/V1/order/{oid}/refund",
        {"arguments": {"extension_attributes": {"return_to_stock_items": [424242]}}},
    )
    assert "return to stock argument contains product item" in bad_return.json()["message"]
    too_many = magento.post(f"/V1/order/{oid}/refund", {"items": [{"order_item_id": item_id, "qty": 5}]})
    assert "unrefunded quantity" in too_many.json()["message"]
    partial = magento.post(
        f"/V1/order/{oid}/refund",
        {"items": [{"order_item_id": item_id, "qty": 1}], "arguments": {"shipping_amount": 0}},
    )
    assert partial.status_code == 200, partial.text
    order = order_of(magento, oid)
    assert order["state"] == "processing"
    assert order["items"][0]["qty_refunded"] == 1
    assert order["total_refunded"] == magento.get(f"/V1/creditmemo/{partial.json()}").json()["grand_total"]
    # Not shipped and not returned (nothing listed, auto_return off): MSI deducts it from the source.
    moves = control.stock_movements()
    assert [(m["delta"], m["reason"]) for m in moves] == [(-1.0, "refund_without_return")]
    assert order["status_histories"][0]["comment"].startswith("We refunded $")


def test_auto_return_returns_everything(make_magento: Any) -> None:
    m = make_magento(auto_return=True)
    placed = m.sandbox.control.place_order("configurable")
    m.sandbox.control.invoice(placed["entity_id"])
    m.sandbox.control.ship(placed["entity_id"])
    assert m.post(f"/V1/order/{placed['entity_id']}/refund", {}).status_code == 200
    child_sku = next(i["sku"] for i in placed["items"] if i.get("parent_item_id"))
    moves = [(mv["sku"], mv["delta"], mv["reason"]) for mv in m.sandbox.control.stock_movements()]
    assert moves == [(child_sku, -1.0, "shipment"), (child_sku, 1.0, "return_to_stock")]


def test_cancel_hold_unhold(magento: Magento) -> None:
    control = magento.sandbox.control
    oid = control.place_order("simple")["entity_id"]
    assert magento.post(f"/V1/orders/{oid}/hold").json() is True
    assert order_of(magento, oid)["status"] == "holded"
    held_again = magento.post(f"/V1/orders/{oid}/hold")
    assert held_again.status_code == 400
    assert held_again.json() == {"message": "A hold action is not available."}
    assert magento.post(f"/V1/orders/{oid}/cancel").json() is False  # on hold: cannot cancel
    assert magento.post(f"/V1/orders/{oid}/unhold").json() is True
    order = order_of(magento, oid)
    assert (order["state"], order["status"]) == ("new", "pending")
    assert "hold_before_state" not in order
    assert magento.post(f"/V1/orders/{oid}/unhold").json() == {"message": "You cannot remove the hold."}
    assert magento.post(f"/V1/orders/{oid}/cancel").json() is True
    canceled = order_of(magento, oid)
    assert (canceled["state"], canceled["status"]) == ("canceled", "canceled")
    assert canceled["total_canceled"] == canceled["grand_total"]
    assert all(i["qty_canceled"] == i["qty_ordered"] for i in canceled["items"])
    assert magento.post(f"/V1/orders/{oid}/cancel").json() is False


def test_comments(magento: Magento, schema_validate: Any) -> None:
    oid = magento.sandbox.control.place_order("simple")["entity_id"]
    before = order_of(magento, oid)
    body = {
        "statusHistory": {
            "comment": "Imported to POS",
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": oid,
            "status": "complete",
        }
    }
    assert magento.post(f"/V1/orders/{oid}/comments", body).json() is True
    listed = magento.get(f"/V1/orders/{oid}/comments").json()
    schema_validate("sales-data-order-status-history-search-result-interface", listed)
    assert [c["comment"] for c in listed["items"]] == ["Imported to POS"]
    assert listed["items"][0]["status"] == "pending"  # the order's status, not the one sent
    after = order_of(magento, oid)
    assert after["status_histories"][0]["comment"] == "Imported to POS"
    assert after["updated_at"] == before["updated_at"]
    assert magento.post(f"/V1/orders/{oid}/comments", {}).json()["parameters"] == {
        "fieldName": "statusHistory"
    }


def test_missing_entities(magento: Magento, schema_validate: Any) -> None:
    for path in ("/V1/orders/4242", "/V1/invoices/4242", "/V1/creditmemo/4242"):
        resp = magento.get(path)
        assert resp.status_code == 404
        schema_validate("error-response", resp.json())
        assert resp.json() == {
            "message": "The entity that was requested doesn't exist. Verify the entity and try again."
        }
    assert magento.post("/V1/order/4242/invoice", {}).status_code == 404
    assert magento.get("/V1/orders/0").json() == {"message": "An ID is needed. Set the ID and try again."}
    bad = magento.get("/V1/orders/abc")
    assert bad.status_code == 400 and bad.json()["parameters"] == {"value": "abc", "type": "int"}
    undecodable = magento.request(
        "POST",
        "/V1/order/1/invoice",
        headers={"Content-Type": "application/json"},
        json=None,
        content=b"{not json",
    )
    assert undecodable.json() == {"message": "Decoding error."}


def test_concurrent_invoices_create_exactly_one(magento: Magento) -> None:
    oid = magento.sandbox.control.place_order("simple")["entity_id"]
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        status = magento.post(f"/V1/order/{oid}/invoice", {"capture": False}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [400] * 7
    found = magento.get(
        "/V1/invoices",
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": oid,
        },
    )
    assert found.json()["total_count"] == 1
