"""Orders and invoices: line items, reservations, voids, invoicing, returns, deposits, totals,
LOCK/UNLOCK around edits, and finding a document again by its web order number."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .conftest import OnSite, dec, parse

VOID = "<order><flags><voided>true</voided></flags></order>"


def _stock(onsite: OnSite, code: str) -> tuple[Any, Any, Any]:
    inv = onsite.sandbox.control.inventory(code)
    return inv["total"], inv["reserved"], inv["available"]


def _order_with_lines(onsite: OnSite, wo: str = "100000001") -> tuple[int, int, int]:
    onsite.sandbox.control.set_stock("24-WG084", 10)
    onsite.sandbox.control.set_stock("24-WG086", 4)
    brick, strap = onsite.product_id("24-WG084"), onsite.product_id("24-WG086")
    order = onsite.create_order(wo)
    assert onsite.lock(f"/api/orders/{order}/").status_code == 204
    assert onsite.add_line("order", order, brick, "3", "5.00", "<reserved>true</reserved>").status_code == 201
    assert onsite.add_line("order", order, strap, "1", "17.00").status_code == 201  # not reserved
    return order, brick, strap


def test_reserved_lines_move_reserved_and_available(onsite: OnSite) -> None:
    order, brick, _ = _order_with_lines(onsite)
    assert _stock(onsite, "24-WG084") == (10, 3, 7)
    assert _stock(onsite, "24-WG086") == (4, 0, 4)
    inv = parse(onsite.get(f"/api/product_inventory/{brick}/"))
    assert [dec(inv, "reserved"), dec(inv, "available"), dec(inv, "total")] == [3, 7, 10]
    listed = parse(onsite.get("/api/products/", filter='code == "24-WG084"'))
    assert dec(listed[0], "inventory/available") == 7
    reserved = [dec(li, "reserved") for li in parse(onsite.get(f"/api/orders/{order}/")).iter("lineitem")]
    assert reserved == [3, 0]
    partial = onsite.add_line("order", order, brick, "2", "5.00", "<reserved>1</reserved>")
    assert dec(parse(partial), "reserved") == 1 and _stock(onsite, "24-WG084") == (10, 4, 6)
    too_much = onsite.add_line("order", order, brick, "2", "5.00", "<reserved>3</reserved>")
    assert too_much.status_code == 400
    assert onsite.sandbox.control.check_inventory() == []


def test_line_update_and_delete_keep_the_books(onsite: OnSite) -> None:
    order, _, _ = _order_with_lines(onsite)
    line_id = parse(onsite.get(f"/api/orders/{order}/lineitems/"))[0].get("id")
    uri = f"/api/orders/{order}/lineitems/{line_id}/"
    changed = onsite.put(uri, "<lineitem><quantity>5</quantity></lineitem>")
    assert changed.status_code == 200 and dec(parse(changed), "reserved") == 5  # fully reserved stays so
    assert _stock(onsite, "24-WG084") == (10, 5, 5)
    assert onsite.put(uri, "<lineitem><reserved>false</reserved></lineitem>").status_code == 200
    assert _stock(onsite, "24-WG084") == (10, 0, 10)
    assert onsite.put(uri, "<lineitem><reserved>true</reserved></lineitem>").status_code == 200
    assert onsite.request("DELETE", uri).status_code == 204
    assert _stock(onsite, "24-WG084") == (10, 0, 10)
    assert onsite.get(uri).status_code == 404
    assert onsite.sandbox.control.check_inventory() == []


def test_void_releases_the_reservation(onsite: OnSite) -> None:
    order, _, _ = _order_with_lines(onsite)
    uri = f"/api/orders/{order}/"
    assert onsite.unlock(uri).status_code == 204
    assert onsite.put(uri, VOID).status_code == 409  # edits need the lock
    assert onsite.lock(uri).status_code == 204
    voided = parse(onsite.put(uri, VOID))
    assert voided.findtext("flags/voided") == "true" and voided.findtext("status") == "Voided"
    assert _stock(onsite, "24-WG084") == (10, 0, 10)
    assert onsite.add_line("order", order, onsite.product_id("MUG-001"), "1").status_code == 400
    assert onsite.put(uri, "<order><flags><voided>false</voided></flags></order>").status_code == 400
    assert onsite.put(uri, VOID).status_code == 200  # voiding again changes nothing
    assert _stock(onsite, "24-WG084") == (10, 0, 10)


def test_converting_an_order_releases_and_deducts(onsite: OnSite) -> None:
    order, _, _ = _order_with_lines(onsite)
    onsite.post(
        f"/api/orders/{order}/payments/",
        "<payment><payment_method>Magento</payment_method><amount>10</amount></payment>",
    )
    invoice_id = onsite.sandbox.control.convert_order(order)
    assert _stock(onsite, "24-WG084") == (7, 0, 7)
    assert _stock(onsite, "24-WG086") == (3, 0, 3)
    invoice = parse(onsite.get(f"/api/invoices/{invoice_id}/"))
    assert dec(invoice, "totals/paid") == 10 and len(invoice.find("lineitems")) == 2  # type: ignore[arg-type]
    assert parse(onsite.get(f"/api/orders/{order}/")).findtext("status") == "Converted"
    assert onsite.add_line("order", order, onsite.product_id("MUG-001"), "1").status_code == 400


def test_invoice_deducts_and_a_return_restocks(onsite: OnSite) -> None:
    onsite.sandbox.control.set_stock("MUG-001", 8)
    mug = onsite.product_id("MUG-001")
    invoice = onsite.create(
        "invoices",
        "<invoice><invoice_customer><customer/></invoice_customer><import_id>100000007</import_id></invoice>",
    )
    assert onsite.add_line("invoice", invoice, mug, "2", "14.00").status_code == 409  # not locked
    assert onsite.lock(f"/api/invoices/{invoice}/").status_code == 204
    assert (
        onsite.add_line("invoice", invoice, mug, "2", "14.00", "<reserved>true</reserved>").status_code == 201
    )
    assert _stock(onsite, "MUG-001") == (6, 0, 6)
    assert onsite.unlock(f"/api/invoices/{invoice}/").status_code == 204
    full = parse(onsite.get(f"/api/invoices/{invoice}/"))
    assert full.findtext("invoice_id") == f"I-{invoice}" and full.findtext("invoice_status") == "Unpaid"
    assert full.find("lineitems/lineitem/reserved") is None  # no reservations on invoices
    ret = onsite.create(
        "invoices",
        "<invoice><invoice_customer><customer/></invoice_customer>"
        f'<returned_invoice><invoice id="{invoice}"/></returned_invoice></invoice>',
    )
    assert onsite.lock(f"/api/invoices/{ret}/").status_code == 204
    assert onsite.add_line("invoice", ret, mug, "-1", "14.00").status_code == 201
    assert _stock(onsite, "MUG-001") == (7, 0, 7)
    rendered = parse(onsite.get(f"/api/invoices/{ret}/"))
    assert rendered.find("returned_invoice/invoice").get("id") == str(invoice)  # type: ignore[union-attr]
    assert (
        dec(rendered, "totals/total") == Decimal("-14.00")
        and rendered.findtext("invoice_status") == "Refund Due"
    )
    bad_return = "<invoice><returned_invoice><invoice id='999'/></returned_invoice></invoice>"
    assert onsite.post("/api/invoices/", bad_return).status_code == 400


def test_deposit_on_an_order_and_no_payments_on_invoices(onsite: OnSite) -> None:
    order, _, _ = _order_with_lines(onsite)
    paid = onsite.post(
        f"/api/orders/{order}/payments/",
        "<payment><payment_method>magento</payment_method><amount>20.00</amount></payment>",
    )
    assert paid.status_code == 201
    payment = parse(paid)
    assert payment.findtext("type") == "Deposit" and payment.findtext("payment_method") == "Magento"
    full = parse(onsite.get(f"/api/orders/{order}/"))
    assert (dec(full, "totals/total"), dec(full, "totals/paid"), dec(full, "totals/remaining_balance")) == (
        Decimal("32.00"),
        Decimal("20.00"),
        Decimal("12.00"),
    )
    assert full.find("payments/payment").get("id") == payment.get("id")  # type: ignore[union-attr]
    unknown = onsite.post(
        f"/api/orders/{order}/payments/",
        "<payment><payment_method>Bitcoin</payment_method><amount>1</amount></payment>",
    )
    assert unknown.status_code == 400
    invoice = onsite.create("invoices", "<invoice/>")
    assert onsite.lock(f"/api/invoices/{invoice}/").status_code == 204
    refused = onsite.post(
        f"/api/invoices/{invoice}/payments/",
        "<payment><payment_method>Magento</payment_method><amount>5</amount></payment>",
    )
    assert refused.status_code == 405 and "invoices" in parse(refused).findtext("message", "")
    assert onsite.get(f"/api/invoices/{invoice}/payments/").status_code == 200
    assert dec(parse(onsite.get(f"/api/invoices/{invoice}/")), "totals/paid") == 0


def test_find_an_order_by_web_order_number(onsite: OnSite) -> None:
    first = onsite.create_order("000000042")
    onsite.create_order("000000043")
    found = parse(onsite.get("/api/orders/", filter='web_order_number == "000000042"'))
    assert found.get("total_count") == "1" and found[0].get("id") == str(first)
    assert found[0].find("web_order_number") is None  # listings show a few fields; the full render has it
    assert parse(onsite.get(f"/api/orders/{first}/")).findtext("web_order_number") == "000000042"
    assert parse(onsite.get("/api/orders/", filter='web_order_number == "0042"')).get("total_count") == "0"
    duplicate = onsite.create_order("000000042")  # the server does not enforce uniqueness
    again = parse(onsite.get("/api/orders/", filter='web_order_number == "000000042"'))
    assert [o.get("id") for o in again] == [str(first), str(duplicate)]
    refused = onsite.get("/api/invoices/", filter='web_order_number == "000000042"')
    assert refused.status_code == 400  # invoices have no web_order_number: use import_id
    assert onsite.sandbox.control.orders("000000043")[0]["display_id"] == "O-2"


def test_documents_need_a_customer_or_a_name_and_lines_are_separate(onsite: OnSite) -> None:
    walk_in = "<order><order_customer><customer/></order_customer></order>"
    assert onsite.post("/api/orders/", walk_in).status_code == 400
    named = onsite.post(
        "/api/orders/", "<order><order_customer><customer/><mainname>Pat</mainname></order_customer></order>"
    )
    assert named.status_code == 201 and parse(named).find("order_customer/customer").get("id") is None  # type: ignore[union-attr]
    assert (
        onsite.post(
            "/api/orders/", "<order><order_customer><customer id='9999'/></order_customer></order>"
        ).status_code
        == 400
    )
    nested = (
        "<order><order_customer><customer id='2'/></order_customer><lineitems><lineitem>"
        "<quantity>1</quantity></lineitem></lineitems></order>"
    )
    assert onsite.post("/api/orders/", nested).status_code == 400
    order = int(parse(named).get("id", "0"))
    onsite.lock(f"/api/orders/{order}/")
    assert onsite.add_line("order", order, 999999, "1").status_code == 400
    assert onsite.add_line("order", order, onsite.product_id("MUG-001"), "0").status_code == 400


def test_no_product_found_line_carries_the_web_description(onsite: OnSite) -> None:
    helper = onsite.sandbox.control.create_product(
        "NO-PRODUCT-FOUND", "No Product Found", 0, inventoried=False
    )
    order = onsite.create_order()
    onsite.lock(f"/api/orders/{order}/")
    line = onsite.post(
        f"/api/orders/{order}/lineitems/",
        f'<lineitem><lineitem_product><product id="{helper}"/><description>HEADPH-BT/2 Bluetooth Headphones'
        "</description></lineitem_product><quantity>1</quantity><sell_price>129.00</sell_price></lineitem>",
    )
    rendered = parse(line)
    assert rendered.findtext("lineitem_product/description") == "HEADPH-BT/2 Bluetooth Headphones"
    assert rendered.findtext("lineitem_product/code") == "NO-PRODUCT-FOUND"
    assert dec(rendered, "sells/total") == 129 and dec(rendered, "sells/base") == 0


def test_totals_with_a_tax_code(onsite: OnSite) -> None:
    codes = parse(onsite.get("/api/tax_codes/", filter='name == "US-CA-*-Rate 1"'))
    ca = codes[0].get("id")
    assert codes[0].findtext("rate") == "8.250"
    shipping = onsite.sandbox.control.create_product("SHIP", "Shipping", 0, inventoried=False, taxable=False)
    order = onsite.create(
        "orders", f'<order><order_customer><customer id="2"/></order_customer><tax_code id="{ca}"/></order>'
    )
    onsite.lock(f"/api/orders/{order}/")
    onsite.add_line("order", order, onsite.product_id("MUG-001"), "2", "14.00")
    onsite.add_line("order", order, shipping, "1", "5.00")
    totals = parse(onsite.get(f"/api/orders/{order}/")).find("totals")
    assert totals is not None
    assert (dec(totals, "subtotal"), dec(totals, "tax"), dec(totals, "total")) == (
        Decimal("33.00"),
        Decimal("2.31"),
        Decimal("35.31"),
    )
    notes = "<order><internal_notes>Magento #100000001</internal_notes><tax_code id='1'/></order>"
    updated = parse(onsite.put(f"/api/orders/{order}/", notes))
    assert updated.findtext("internal_notes") == "Magento #100000001" and dec(updated, "totals/tax") == 0
    methods = parse(onsite.get("/api/payment_methods/"))
    assert methods[0].tag == "payment_method" and "Magento" in [m.findtext("name") for m in methods]
