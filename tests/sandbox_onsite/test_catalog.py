"""Customers, products and product inventory: create, read, filters, paging, locked updates."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from m2pos.sandbox.magento._catalog import build_catalog
from m2pos.sandbox.onsite._catalog import MISSING_SKUS

from .conftest import OnSite, dec, parse

JANE = (
    "<customer><name><first>Jane</first><last>Doe</last></name><email>Jane.Doe@Example.com</email>"
    "<billing_address><address1>1 Oak Ave</address1><city>Austin</city><state>TX</state><zip>73301</zip>"
    "<country>US</country></billing_address></customer>"
)


def _codes(root: Any) -> list[str]:
    return [p.findtext("code", "") for p in root]


def test_product_lookups_by_each_sku_field(onsite: OnSite) -> None:
    pid = onsite.product_id("MUG-350/BLK")
    full = parse(onsite.get(f"/api/products/{pid}/"))
    assert full.get("full_render") == "true" and full.findtext("description") == "Travel Mug 350ml Black"
    upc, mfr = full.findtext("upc"), full.findtext("manufacturer_sku")
    assert upc and mfr
    for flt in (
        f'upc == "{upc}"',
        f'manufacturer_sku == "{mfr}"',
        f"id == {pid}",
        '(code == "MUG-350/BLK")',
    ):
        found = parse(onsite.get("/api/products/", filter=flt))
        assert found.get("total_count") == "1" and found[0].get("id") == str(pid), flt
    listed = found[0]
    assert listed.get("full_render") == "false"
    assert [c.tag for c in listed] == ["code", "flags", "sell_price", "description", "inventory"]
    assert parse(onsite.get("/api/products/", filter='code == "mug-350/blk"')).get("total_count") == "0"
    assert parse(onsite.get("/api/products/", filter='code ==[c] "mug-350/blk"')).get("total_count") == "1"


def test_demo_catalogue_matches_the_magento_sandbox_except_the_missing_skus(onsite: OnSite) -> None:
    magento = build_catalog()
    for sku in ("MUG-001", "ABC/10", "MH01-S-Gray", "24-WG084", "WARRANTY-2Y"):
        assert sku in magento.by_sku
        onsite.product_id(sku)
    for sku in MISSING_SKUS:
        assert sku in magento.by_sku
        assert parse(onsite.get("/api/products/", filter=f'code == "{sku}"')).get("total_count") == "0"
    master = parse(onsite.get(f"/api/products/{onsite.product_id('MH01')}/"))
    assert master.findtext("flags/master_model") == "true" and master.findtext("flags/inventoried") == "false"


def test_filters_contains_in_and_logic(onsite: OnSite) -> None:
    sprite = parse(onsite.get("/api/products/", filter='(description contains[cd] "SPRITE")'))
    assert sorted(_codes(sprite)) == ["24-WG082-blue", "24-WG084", "24-WG086", "24-WG088"]
    both = parse(onsite.get("/api/products/", filter='code IN {"24-WG084", "MUG-001", "NOPE"}'))
    assert sorted(_codes(both)) == ["24-WG084", "MUG-001"]
    cheap = parse(onsite.get("/api/products/", filter='description beginswith "Sprite" AND sell_price < 18'))
    assert sorted(_codes(cheap)) == ["24-WG084", "24-WG086"]
    either = parse(onsite.get("/api/products/", filter='code == "MUG-001" OR code == "ABC/10"'))
    assert sorted(_codes(either)) == ["ABC/10", "MUG-001"]
    bad = onsite.get("/api/products/", filter='colour == "red"')
    assert bad.status_code == 400 and "unknown field" in parse(bad).findtext("message", "")
    assert onsite.get("/api/products/", filter='code == "unterminated').status_code == 400


def test_paging_with_total_count(onsite: OnSite) -> None:
    everything = parse(onsite.get("/api/products/"))
    total = int(everything.get("total_count", "0"))
    assert total == len(everything) > 40
    seen: list[str] = []
    for offset in range(0, total, 7):
        page = parse(onsite.get("/api/products/", count=7, offset=offset))
        assert page.get("total_count") == str(total) and len(page) <= 7
        seen += [p.get("id", "") for p in page]
    assert seen == [p.get("id") for p in everything]
    ordered = parse(onsite.get("/api/products/", order_by="sell_price:desc", count=3))
    prices = [Decimal(p.findtext("sell_price", "0")) for p in ordered]
    assert prices == sorted(prices, reverse=True)
    assert onsite.get("/api/products/", count="x").status_code == 400


def test_create_products_and_duplicate_codes(onsite: OnSite) -> None:
    body = (
        "<product><code>SHIPPING</code><description>Shipping</description><sell_price>0</sell_price>"
        "<flags><inventoried>false</inventoried><taxable>false</taxable><editable_sell>true</editable_sell></flags>"
        "</product>"
    )
    response = onsite.post("/api/products/", body)
    assert response.status_code == 201 and response.headers["location"].endswith(
        f"/api/products/{parse(response).get('id')}/"
    )
    created = parse(response)
    assert created.findtext("flags/inventoried") == "false" and created.findtext("flags/taxable") == "false"
    assert onsite.post("/api/products/", body).status_code == 400
    assert (
        onsite.post("/api/products/", "<product><description>no code</description></product>").status_code
        == 400
    )


def test_product_update_needs_the_lock_and_archive_is_visible(onsite: OnSite) -> None:
    pid = onsite.product_id("MUG-001")
    uri = f"/api/products/{pid}/"
    assert onsite.put(uri, "<product><description>Renamed</description></product>").status_code == 409
    assert onsite.lock(uri).status_code == 204
    updated = onsite.put(uri, "<product><description>Renamed</description></product>")
    assert updated.status_code == 200 and parse(updated).findtext("description") == "Renamed"
    assert onsite.unlock(uri).status_code == 204
    archived = onsite.sandbox.control.archive_product("MUG-001")
    assert archived["flags"]["current"] is False
    assert parse(onsite.get(uri)).findtext("flags/current") == "false"
    assert onsite.sandbox.control.rename_product("MUG-001", description="Mug")["description"] == "Mug"


def test_customers_create_find_and_merged_to(onsite: OnSite) -> None:
    cid = onsite.create("customers", JANE)
    full = parse(onsite.get(f"/api/customers/{cid}/"))
    assert full.findtext("name/first") == "Jane" and full.findtext("billing_address/city") == "Austin"
    assert full.find("merged_to/customer") is not None and full.find("merged_to/customer").get("id") is None  # type: ignore[union-attr]
    exact = parse(onsite.get("/api/customers/", filter='email == "jane.doe@example.com"'))
    assert exact.get("total_count") == "0"  # == is case-sensitive, as in NSPredicate
    folded = parse(onsite.get("/api/customers/", filter='email ==[c] "jane.doe@example.com"'))
    assert [c.get("id") for c in folded] == [str(cid)]
    by_name = parse(
        onsite.get("/api/customers/", filter='name.last contains[cd] "DOE" AND name.first == "Jane"')
    )
    assert str(cid) in [c.get("id") for c in by_name]
    twin = onsite.create("customers", JANE)
    onsite.sandbox.control.merge_customers(twin, cid)
    merged = parse(onsite.get(f"/api/customers/{twin}/"))
    assert merged.find("merged_to/customer").get("id") == str(cid)  # type: ignore[union-attr]
    live = parse(
        onsite.get("/api/customers/", filter='email ==[c] "jane.doe@example.com" AND merged_to == nil')
    )
    assert [c.get("id") for c in live] == [str(cid)]
    assert onsite.post("/api/customers/", "<customer><email>x@y.z</email></customer>").status_code == 400


def test_demo_customers_include_a_merged_duplicate(onsite: OnSite) -> None:
    customers = onsite.sandbox.control.customers()
    merged = [c for c in customers if c["merged_to"]]
    assert len(merged) == 1
    twins = onsite.sandbox.control.customers(merged[0]["email"])
    assert len(twins) == 2


def test_customer_update_with_lock(onsite: OnSite) -> None:
    cid = onsite.create("customers", JANE)
    uri = f"/api/customers/{cid}/"
    change = (
        "<customer><shipping_address><address1>9 Elm St</address1><city>Denver</city>"
        "</shipping_address></customer>"
    )
    assert onsite.put(uri, change).status_code == 409
    other = onsite.new_client()
    assert other.lock(uri).status_code == 204
    assert onsite.lock(uri).status_code == 423
    assert onsite.put(uri, change).status_code == 423
    assert other.unlock(uri).status_code == 204
    assert onsite.lock(uri).status_code == 204
    updated = parse(onsite.put(uri, change))
    assert updated.findtext("shipping_address/city") == "Denver" and updated.findtext("name/first") == "Jane"
    assert onsite.unlock(uri).status_code == 204
    assert onsite.unlock(uri).status_code == 204  # idempotent
    assert onsite.put(uri, change).status_code == 409


def test_lock_expires(make_onsite: Any) -> None:
    onsite = make_onsite(lock_timeout_seconds=0.3)
    cid = onsite.create("customers", JANE)
    other = onsite.new_client()
    assert onsite.lock(f"/api/customers/{cid}/").status_code == 204
    assert other.lock(f"/api/customers/{cid}/").status_code == 423
    time.sleep(0.4)
    assert other.lock(f"/api/customers/{cid}/").status_code == 204


def test_product_inventory_and_adjustments(onsite: OnSite) -> None:
    pid = onsite.product_id("24-WG084")
    onsite.sandbox.control.set_stock("24-WG084", 10)
    inv = parse(onsite.get(f"/api/product_inventory/{pid}/"))
    assert inv.find("product").get("id") == str(pid)  # type: ignore[union-attr]
    assert [c.tag for c in inv][1:] == [
        "available",
        "reserved",
        "coming_for_stock",
        "coming_for_customer",
        "warehouses",
        "in_transit",
        "total",
    ]
    assert (dec(inv, "total"), dec(inv, "available")) == (Decimal(10), Decimal(10))
    adjusted = onsite.post(
        f"/api/product_inventory/{pid}/adjust_inventory/",
        "<adjustment><quantity>-3</quantity><cost>2.00</cost><note>damaged</note></adjustment>",
    )
    assert adjusted.status_code == 200 and dec(parse(adjusted), "total") == 7
    assert onsite.sandbox.control.inventory(pid)["total"] == 7
    moves = onsite.sandbox.control.stock_movements("24-WG084")
    assert [m["reason"] for m in moves][-2:] == ["set_stock", "adjust_inventory"]
    assert onsite.post(f"/api/product_inventory/{pid}/adjust_inventory/", "<adjustment/>").status_code == 400
    listing = parse(onsite.get("/api/product_inventory/", filter=f"id == {pid}"))
    assert listing.tag == "product_inventories" and listing.get("total_count") == "1"
    low = parse(onsite.get("/api/product_inventory/", filter="available < 0"))
    assert all(dec(i, "available") < 0 for i in low)
