"""Records in R-Series' JSON shapes, as recorded (``shared/reference/lightspeed-retail``): every
value a string (``"true"``, ``"2.46"``), a listing as ``{"@attributes": {"count", "offset",
"limit"}, "<Resource>": …}``, and the quirk of every relation and listing: **one** record is an
object, several are an array, none is absent (listings) or ``""`` (contact collections)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from m2pos.sandbox.lightspeed_retail._store import Customer, Item, Sale, SaleLine, Store


def num(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def flag(value: bool) -> str:
    return "true" if value else "false"


def one_or_many(records: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    return records[0] if len(records) == 1 else records


def collection(name: str, records: list[dict[str, Any]]) -> dict[str, Any] | str:
    return {name: one_or_many(records)} if records else ""


def error_body(status: int, message: str) -> dict[str, str]:
    names = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    return {
        "httpCode": str(status),
        "httpMessage": names.get(status, "Error"),
        "message": message,
        "errorClass": "Exception",
    }


def item_json(item: Item, store: Store, relations: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "itemID": str(item.item_id),
        "systemSku": item.system_sku,
        "defaultCost": "0",
        "avgCost": "0",
        "discountable": "true",
        "tax": flag(item.tax),
        "archived": flag(item.archived),
        "itemType": item.item_type,
        "serialized": "false",
        "description": item.description,
        "modelYear": "0",
        "upc": item.upc,
        "ean": item.ean,
        "customSku": item.custom_sku,
        "manufacturerSku": item.manufacturer_sku,
        "createTime": item.time_stamp,
        "timeStamp": item.time_stamp,
        "categoryID": "0",
        "taxClassID": "1",
        "departmentID": "0",
        "itemMatrixID": "0",
        "manufacturerID": "0",
        "seasonID": "0",
        "defaultVendorID": "0",
        "Prices": {
            "ItemPrice": [
                {"amount": num(item.price), "useTypeID": "1", "useType": "Default"},
                {"amount": "0", "useTypeID": "2", "useType": "MSRP"},
            ]
        },
    }
    if "ItemShops" in relations:
        shops = []
        total = sum(item.qoh.values(), Decimal(0))
        for shop_id in (0, *sorted(store.shops)):  # shopID 0: the total over the shops
            qoh = total if shop_id == 0 else item.qoh.get(shop_id, Decimal(0))
            shops.append(
                {
                    "itemShopID": str(item.item_id * 10 + shop_id),
                    "qoh": num(qoh) if item.inventoried else "0",
                    "backorder": "0",
                    "componentQoh": "0",
                    "reorderPoint": "0",
                    "reorderLevel": "0",
                    "timeStamp": item.time_stamp,
                    "itemID": str(item.item_id),
                    "shopID": str(shop_id),
                }
            )
        out["ItemShops"] = {"ItemShop": one_or_many(shops)}
    return out


def customer_json(customer: Customer, relations: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "customerID": str(customer.customer_id),
        "firstName": customer.first,
        "lastName": customer.last,
        "title": "",
        "company": customer.company,
        "creditAccountID": "0",
        "customerTypeID": "0",
        "discountID": "0",
        "taxCategoryID": "0",
        "createTime": customer.create_time,
        "timeStamp": customer.time_stamp,
        "archived": flag(customer.archived),
    }
    if "Contact" in relations:
        keys = ("address1", "address2", "city", "state", "zip", "country")
        addresses = [
            {k: a.get(k, "") for k in keys}
            | {"countryCode": a.get("country", ""), "stateCode": a.get("state", "")}
            for a in customer.addresses
        ] or [{k: "" for k in (*keys, "countryCode", "stateCode")}]
        out["Contact"] = {
            "custom": "",
            "noEmail": flag(not customer.emails),
            "noPhone": flag(not customer.phones),
            "noMail": "true",
            "Addresses": {"ContactAddress": one_or_many(addresses)},
            "Phones": collection("ContactPhone", [{"number": p, "useType": "Home"} for p in customer.phones]),
            "Emails": collection(
                "ContactEmail",
                [
                    {"address": e, "useType": "Primary" if i == 0 else "Secondary"}
                    for i, e in enumerate(customer.emails)
                ],
            ),
            "Websites": "",
            "timeStamp": customer.time_stamp,
        }
    return out


def line_json(line: SaleLine, sale: Sale) -> dict[str, Any]:
    out: dict[str, Any] = {
        "saleLineID": str(line.sale_line_id),
        "createTime": sale.time_stamp,
        "timeStamp": sale.time_stamp,
        "unitQuantity": num(line.quantity),
        "unitPrice": num(line.unit_price),
        "normalUnitPrice": "0",
        "discountAmount": num(line.discount),
        "discountPercent": "0",
        "avgCost": "0",
        "fifoCost": "0",
        "tax": flag(line.tax),
        "tax1Rate": "0",
        "tax2Rate": "0",
        "isLayaway": "false",
        "isWorkorder": "false",
        "isSpecialOrder": "false",
        "displayableSubtotal": num(line.total),
        "displayableUnitPrice": num(line.unit_price),
        "calcLineDiscount": num(line.discount),
        "calcTransactionDiscount": "0",
        "calcTotal": num(line.total),
        "calcSubtotal": num(line.total),
        "calcTax1": "0",
        "calcTax2": "0",
        "taxClassID": "1",
        "customerID": str(sale.customer_id),
        "discountID": "0",
        "employeeID": str(sale.employee_id),
        "itemID": str(line.item_id),
        "noteID": "0",
        "parentSaleLineID": "0",
        "shopID": str(sale.shop_id),
        "saleID": str(sale.sale_id),
    }
    if line.note:
        out["noteID"] = str(line.sale_line_id)
        out["Note"] = {"noteID": str(line.sale_line_id), "note": line.note, "isPublic": "false"}
    return out


def sale_json(sale: Sale, relations: set[str]) -> dict[str, Any]:
    total = sale.total
    out: dict[str, Any] = {
        "saleID": str(sale.sale_id),
        "timeStamp": sale.time_stamp,
        "discountPercent": "0",
        "completed": flag(sale.completed),
        "archived": "false",
        "voided": flag(sale.voided),
        "enablePromotions": "false",
        "isTaxInclusive": "false",
        "referenceNumber": sale.reference_number,
        "referenceNumberSource": sale.reference_number_source,
        "tax1Rate": "0",
        "tax2Rate": "0",
        "change": "0",
        "receiptPreference": "printed",
        "displayableSubtotal": num(total),
        "ticketNumber": f"2200000{sale.sale_id:05d}",
        "calcDiscount": "0",
        "calcTotal": num(total),
        "calcSubtotal": num(total),
        "calcTaxable": "0",
        "calcNonTaxable": num(total),
        "calcAvgCost": "0",
        "calcFIFOCost": "0",
        "calcTax1": "0",
        "calcTax2": "0",
        "calcPayments": num(sale.paid),
        "total": num(total),
        "totalDue": num(total),
        "displayableTotal": num(total),
        "balance": num(total - sale.paid),
        "customerID": str(sale.customer_id),
        "discountID": "0",
        "employeeID": str(sale.employee_id),
        "quoteID": str(sale.quote_id),
        "registerID": str(sale.register_id),
        "shipToID": str(sale.ship_to_id),
        "shopID": str(sale.shop_id),
        "taxCategoryID": str(sale.tax_category_id),
        "taxTotal": "0",
    }
    if sale.note:
        out["Note"] = {"note": sale.note, "isPublic": "false"}
    if sale.lines and ("SaleLines" in relations or "all" in relations):
        out["SaleLines"] = {"SaleLine": one_or_many([line_json(line, sale) for line in sale.lines])}
    if sale.payments and ("SalePayments" in relations or "all" in relations):
        out["SalePayments"] = {
            "SalePayment": one_or_many(
                [
                    {
                        "salePaymentID": str(p.sale_payment_id),
                        "amount": num(p.amount),
                        "paymentTypeID": str(p.payment_type_id),
                        "saleID": str(sale.sale_id),
                    }
                    for p in sale.payments
                ]
            )
        }
    if sale.ship_to is not None and ("ShipTo" in relations or "all" in relations):
        out["ShipTo"] = {"shipToID": str(sale.ship_to_id), **sale.ship_to}
    return out
