"""Read-only pydantic models of the Magento documents m2pos uses.

Choices, all following how Magento answers (domain notes §5–§8):

- Magento omits keys whose value is null, and newer versions send some as explicit null, so
  every key is optional: identifiers and texts default to ``None``, amounts and quantities to
  ``Decimal(0)``, 0/1 flags to ``False``. Unknown keys are ignored.
- Amounts are :class:`~decimal.Decimal` (pydantic converts JSON numbers through their shortest
  text form, so ``22.5`` stays exactly ``22.5``).
- Timestamps arrive as UTC text without an offset (``"2017-08-21 22:22:19"``); they become
  timezone-aware UTC datetimes.
- Lists are tuples and models are frozen: these are snapshots of Magento, not something to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

from m2pos.magento._lines import LineComponent, Row, SaleLine, merge_rows

__all__ = [
    "Address",
    "AppliedTax",
    "CreditMemo",
    "CreditMemoItem",
    "DocumentComment",
    "Invoice",
    "InvoiceItem",
    "LineComponent",
    "Order",
    "OrderItem",
    "Payment",
    "Product",
    "SaleLine",
    "SourceItem",
    "StatusHistory",
    "StockItem",
]

_ZERO = Decimal(0)


def json_number(value: Decimal | int | float) -> int | float:
    """A JSON number for a request body: integral values as int, others as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def parse_magento_datetime(value: Any) -> Any:
    """``"YYYY-MM-DD HH:MM:SS"`` (UTC, no offset) → aware UTC datetime; empty/zero dates → None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if not text or text.startswith("0000-00-00"):
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not a date and time") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return value


def _none_to_zero(value: Any) -> Any:
    return _ZERO if value is None or value == "" else value


def _none_to_false(value: Any) -> Any:
    return False if value is None else value


def _none_to_empty(value: Any) -> Any:
    return () if value is None else value


Timestamp = Annotated[datetime | None, BeforeValidator(parse_magento_datetime)]
# Magento keeps amounts in decimal(20,4) and quantities in decimal(12,4) columns: anything beyond that
# (1e30, 1e-9) cannot have come from a real store and would break the line arithmetic, so it is this
# field's error rather than an exception later.
_MONEY_LIMIT, _QTY_LIMIT, _PLACES = Decimal("1e16"), Decimal("1e8"), -4


def _magento_column(limit: Decimal) -> Callable[[Decimal], Decimal]:
    def check(value: Decimal) -> Decimal:
        if not value.is_finite() or abs(value) >= limit:
            raise ValueError(f"beyond what Magento stores (at most {limit:.0e} in magnitude)")
        if value and value.normalize().as_tuple().exponent < _PLACES:  # type: ignore[operator]
            raise ValueError("more than 4 decimal places, which Magento does not store")
        return value

    return check


Money = Annotated[Decimal, BeforeValidator(_none_to_zero), AfterValidator(_magento_column(_MONEY_LIMIT))]
Qty = Annotated[Decimal, BeforeValidator(_none_to_zero), AfterValidator(_magento_column(_QTY_LIMIT))]
Flag = Annotated[bool, BeforeValidator(_none_to_false)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Address(_Model):
    entity_id: int | None = None
    address_type: str | None = None  # "billing" or "shipping"
    firstname: str | None = None
    middlename: str | None = None
    lastname: str | None = None
    company: str | None = None
    street: Annotated[tuple[str, ...], BeforeValidator(_none_to_empty)] = ()
    city: str | None = None
    region: str | None = None
    region_code: str | None = None
    region_id: int | None = None
    postcode: str | None = None
    country_id: str | None = None
    telephone: str | None = None
    email: str | None = None
    vat_id: str | None = None
    customer_address_id: int | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.firstname, self.middlename, self.lastname) if p)


class Payment(_Model):
    entity_id: int | None = None
    parent_id: int | None = None
    method: str | None = None  # e.g. "checkmo", "banktransfer", "braintree"
    amount_ordered: Money = _ZERO
    base_amount_ordered: Money = _ZERO
    amount_authorized: Money = _ZERO
    amount_paid: Money = _ZERO
    base_amount_paid: Money = _ZERO
    amount_refunded: Money = _ZERO
    base_amount_refunded: Money = _ZERO
    shipping_amount: Money = _ZERO
    last_trans_id: str | None = None
    po_number: str | None = None
    cc_type: str | None = None
    cc_last4: str | None = None
    account_status: str | None = None
    additional_information: Annotated[tuple[str, ...], BeforeValidator(_none_to_empty)] = ()


class StatusHistory(_Model):
    """An order comment (``status_histories[]`` and ``/V1/orders/{id}/comments``)."""

    entity_id: int | None = None
    parent_id: int | None = None  # the order's entity_id
    comment: str | None = None
    status: str | None = None
    entity_name: str | None = None  # "order", "invoice", "creditmemo", "shipment"
    is_customer_notified: Flag = False
    is_visible_on_front: Flag = False
    created_at: Timestamp = None


class AppliedTax(_Model):
    """One tax of ``extension_attributes.applied_taxes``: ``title`` is the merchant's tax identifier."""

    code: str | None = None
    title: str | None = None
    percent: Money = _ZERO
    amount: Money = _ZERO
    base_amount: Money = _ZERO


class OrderItem(_Model):
    """One row of ``items[]``. Configurables and bundles have parent and child rows: see ``Order.lines``."""

    item_id: int | None = None
    order_id: int | None = None
    parent_item_id: int | None = None
    quote_item_id: int | None = None
    sku: str = ""
    name: str | None = None
    product_id: int | None = None
    product_type: str | None = None  # simple, configurable, bundle, virtual, downloadable, …
    qty_ordered: Qty = _ZERO
    qty_invoiced: Qty = _ZERO
    qty_shipped: Qty = _ZERO
    qty_refunded: Qty = _ZERO
    qty_canceled: Qty = _ZERO
    qty_backordered: Qty = _ZERO
    qty_returned: Qty = _ZERO
    price: Money = _ZERO
    base_price: Money = _ZERO
    original_price: Money = _ZERO
    price_incl_tax: Money = _ZERO
    base_price_incl_tax: Money = _ZERO
    row_total: Money = _ZERO
    base_row_total: Money = _ZERO
    row_total_incl_tax: Money = _ZERO
    base_row_total_incl_tax: Money = _ZERO
    row_invoiced: Money = _ZERO
    tax_amount: Money = _ZERO
    base_tax_amount: Money = _ZERO
    tax_percent: Money = _ZERO
    discount_amount: Money = _ZERO
    base_discount_amount: Money = _ZERO
    discount_percent: Money = _ZERO
    amount_refunded: Money = _ZERO
    weight: Qty = _ZERO
    is_virtual: Flag = False
    is_qty_decimal: Flag = False
    locked_do_invoice: Flag = False
    product_option: dict[str, Any] | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None

    @property
    def qty_to_invoice(self) -> Decimal:
        return max(_ZERO, self.qty_ordered - self.qty_invoiced - self.qty_canceled)

    def _row(self) -> Row:
        return Row(
            item_id=self.item_id,
            parent_item_id=self.parent_item_id,
            product_type=self.product_type,
            sku=self.sku,
            name=self.name,
            product_id=self.product_id,
            qty=self.qty_ordered,
            price=self.price,
            row_total=self.row_total,
            row_total_incl_tax=self.row_total_incl_tax,
            tax_amount=self.tax_amount,
            discount_amount=self.discount_amount,
        )


def _shipping_from_extension(data: Any) -> Any:
    """Lift the shipping address and method, which live only in shipping_assignments[0]."""
    if not isinstance(data, dict):
        return data
    # Shapes are checked, not assumed: a malformed document must fail validation, not crash here.
    extension = data.get("extension_attributes")
    assignments = extension.get("shipping_assignments") if isinstance(extension, dict) else None
    first = assignments[0] if isinstance(assignments, list) and assignments else None
    shipping = first.get("shipping") if isinstance(first, dict) else None
    if not isinstance(shipping, dict) or not shipping:
        return data
    data = dict(data)
    data.setdefault("shipping_address", shipping.get("address"))
    data.setdefault("shipping_method", shipping.get("method"))
    return data


def _applied_taxes_from_extension(data: Any) -> Any:
    """Lift ``extension_attributes.applied_taxes`` (the order's taxes by tax identifier)."""
    if not isinstance(data, dict):
        return data
    extension = data.get("extension_attributes")
    taxes = extension.get("applied_taxes") if isinstance(extension, dict) else None
    if not isinstance(taxes, list) or "applied_taxes" in data:
        return data
    return {**data, "applied_taxes": [t for t in taxes if isinstance(t, dict)]}


class Order(_Model):
    """``sales-data-order-interface``. Decide on ``state``; ``status`` is merchant-defined."""

    entity_id: int | None = None
    increment_id: str | None = None  # the number customers see; not unique across stores
    state: str | None = None
    status: str | None = None
    store_id: int | None = None
    store_name: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None

    customer_id: int | None = None
    customer_email: str | None = None
    customer_firstname: str | None = None
    customer_lastname: str | None = None
    customer_group_id: int | None = None
    customer_is_guest: Flag = False
    customer_note: str | None = None

    order_currency_code: str | None = None
    base_currency_code: str | None = None
    grand_total: Money = _ZERO
    base_grand_total: Money = _ZERO
    subtotal: Money = _ZERO
    base_subtotal: Money = _ZERO
    subtotal_incl_tax: Money = _ZERO
    base_subtotal_incl_tax: Money = _ZERO
    shipping_amount: Money = _ZERO
    base_shipping_amount: Money = _ZERO
    shipping_incl_tax: Money = _ZERO
    base_shipping_incl_tax: Money = _ZERO
    shipping_tax_amount: Money = _ZERO
    base_shipping_tax_amount: Money = _ZERO
    tax_amount: Money = _ZERO
    base_tax_amount: Money = _ZERO
    discount_amount: Money = _ZERO  # negative when a discount applies
    base_discount_amount: Money = _ZERO
    discount_description: str | None = None
    coupon_code: str | None = None
    total_invoiced: Money = _ZERO
    base_total_invoiced: Money = _ZERO
    total_paid: Money = _ZERO
    base_total_paid: Money = _ZERO
    total_refunded: Money = _ZERO
    base_total_refunded: Money = _ZERO
    total_offline_refunded: Money = _ZERO
    total_online_refunded: Money = _ZERO
    total_canceled: Money = _ZERO
    base_total_canceled: Money = _ZERO
    total_due: Money = _ZERO
    base_total_due: Money = _ZERO
    total_qty_ordered: Qty = _ZERO

    items: Annotated[tuple[OrderItem, ...], BeforeValidator(_none_to_empty)] = ()
    payment: Payment | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None  # from extension_attributes.shipping_assignments[0]
    shipping_method: str | None = None  # idem, e.g. "flatrate_flatrate"
    shipping_description: str | None = None
    status_histories: Annotated[tuple[StatusHistory, ...], BeforeValidator(_none_to_empty)] = ()
    applied_taxes: Annotated[tuple[AppliedTax, ...], BeforeValidator(_none_to_empty)] = ()  # idem

    _lift_shipping = model_validator(mode="before")(_shipping_from_extension)
    _lift_taxes = model_validator(mode="before")(_applied_taxes_from_extension)

    def item(self, item_id: int) -> OrderItem | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    @property
    def has_items_to_invoice(self) -> bool:
        """Whether any quantity is still uninvoiced (Magento's ``canInvoice`` also checks ``state``)."""
        return any(i.qty_to_invoice > _ZERO for i in self.items)

    def lines(self) -> tuple[SaleLine, ...]:
        """Sellable lines: parent and child rows merged, money counted once (see ``_lines``)."""
        return merge_rows([i._row() for i in self.items])


class DocumentComment(_Model):
    entity_id: int | None = None
    parent_id: int | None = None
    comment: str | None = None
    is_customer_notified: Flag = False
    is_visible_on_front: Flag = False
    created_at: Timestamp = None


class _DocumentItem(_Model):
    entity_id: int | None = None
    parent_id: int | None = None  # the invoice's / credit memo's entity_id
    order_item_id: int | None = None
    sku: str = ""
    name: str | None = None
    product_id: int | None = None
    qty: Qty = _ZERO
    price: Money = _ZERO
    base_price: Money = _ZERO
    price_incl_tax: Money = _ZERO
    row_total: Money = _ZERO
    base_row_total: Money = _ZERO
    row_total_incl_tax: Money = _ZERO
    tax_amount: Money = _ZERO
    base_tax_amount: Money = _ZERO
    discount_amount: Money = _ZERO
    base_discount_amount: Money = _ZERO
    base_cost: Money = _ZERO


class InvoiceItem(_DocumentItem):
    pass


class CreditMemoItem(_DocumentItem):
    """Has no ``product_type`` or ``parent_item_id``: map through ``order_item_id`` (magento#38328)."""


def _document_rows(items: tuple[_DocumentItem, ...], order: Order) -> list[Row]:
    """Rows of an invoice/credit memo, typed and parented through the order's items.

    When a parent row is present but its children are not, the children are taken from the
    order, with quantities scaled to the document's parent quantity, so stock SKUs stay known.
    """
    by_id = {i.item_id: i for i in order.items if i.item_id is not None}
    rows: list[Row] = []
    for item in items:
        source = by_id.get(item.order_item_id) if item.order_item_id is not None else None
        product_id = (
            item.product_id if item.product_id is not None else (source.product_id if source else None)
        )
        rows.append(
            Row(
                item_id=item.order_item_id,
                parent_item_id=source.parent_item_id if source else None,
                product_type=source.product_type if source else None,
                sku=item.sku or (source.sku if source else ""),
                name=item.name,
                product_id=product_id,
                qty=item.qty,
                price=item.price,
                row_total=item.row_total,
                row_total_incl_tax=item.row_total_incl_tax,
                tax_amount=item.tax_amount,
                discount_amount=item.discount_amount,
            )
        )
    present = {r.item_id for r in rows}
    parents_with_rows = {r.parent_item_id for r in rows if r.parent_item_id is not None}
    for row in list(rows):
        source = by_id.get(row.item_id) if row.item_id is not None else None
        if source is None or row.item_id in parents_with_rows:
            continue
        for child in (i for i in order.items if i.parent_item_id == row.item_id and i.item_id not in present):
            ratio = child.qty_ordered / source.qty_ordered if source.qty_ordered else Decimal(1)
            rows.append(
                Row(
                    item_id=child.item_id,
                    parent_item_id=row.item_id,
                    product_type=child.product_type,
                    sku=child.sku,
                    name=child.name,
                    product_id=child.product_id,
                    qty=row.qty * ratio,
                    price=_ZERO,
                    row_total=_ZERO,
                    row_total_incl_tax=_ZERO,
                    tax_amount=_ZERO,
                    discount_amount=_ZERO,
                )
            )
    return rows


class _SalesDocument(_Model):
    """What invoices and credit memos share: the header totals, and lines through the order."""

    entity_id: int | None = None
    increment_id: str | None = None
    order_id: int | None = None
    store_id: int | None = None
    state: int | None = None
    order_currency_code: str | None = None
    base_currency_code: str | None = None
    grand_total: Money = _ZERO
    base_grand_total: Money = _ZERO
    subtotal: Money = _ZERO
    base_subtotal: Money = _ZERO
    subtotal_incl_tax: Money = _ZERO
    tax_amount: Money = _ZERO
    base_tax_amount: Money = _ZERO
    shipping_amount: Money = _ZERO
    base_shipping_amount: Money = _ZERO
    shipping_incl_tax: Money = _ZERO
    discount_amount: Money = _ZERO
    base_discount_amount: Money = _ZERO
    transaction_id: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    comments: Annotated[tuple[DocumentComment, ...], BeforeValidator(_none_to_empty)] = ()
    items: tuple[_DocumentItem, ...] = ()

    def lines(self, order: Order) -> tuple[SaleLine, ...]:
        """Its lines, merged like ``Order.lines`` through the order's items; untouched items dropped."""
        return merge_rows(_document_rows(self.items, order), skip_empty=True)


class Invoice(_SalesDocument):
    """``sales-data-invoice-interface``. ``state``: 1 open, 2 paid, 3 canceled."""

    total_qty: Qty = _ZERO
    can_void_flag: Flag = False
    is_used_for_refund: Flag = False
    items: Annotated[tuple[InvoiceItem, ...], BeforeValidator(_none_to_empty)] = ()

    @property
    def is_paid(self) -> bool:
        return self.state == 2


class CreditMemo(_SalesDocument):
    """``sales-data-creditmemo-interface``. ``state``: 1 open, 2 refunded, 3 canceled."""

    invoice_id: int | None = None
    creditmemo_status: int | None = None
    adjustment: Money = _ZERO
    adjustment_positive: Money = _ZERO
    adjustment_negative: Money = _ZERO
    base_adjustment: Money = _ZERO
    items: Annotated[tuple[CreditMemoItem, ...], BeforeValidator(_none_to_empty)] = ()

    @property
    def is_refunded(self) -> bool:
        return self.state == 2


class StockItem(_Model):
    """Legacy CatalogInventory stock item (default source only when MSI is installed)."""

    item_id: int | None = None
    product_id: int | None = None
    stock_id: int | None = None
    qty: Qty = _ZERO
    is_in_stock: Flag = False
    manage_stock: Flag = False
    is_qty_decimal: Flag = False


def _lift_product_extras(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    data = dict(data)
    extension = data.get("extension_attributes")
    stock = extension.get("stock_item") if isinstance(extension, dict) else None
    if stock is not None:
        data.setdefault("stock_item", stock)
    attributes = data.get("custom_attributes")
    if isinstance(attributes, list):
        data["custom_attributes"] = {
            a["attribute_code"]: a.get("value")
            for a in attributes
            if isinstance(a, dict) and "attribute_code" in a
        }
    return data


class Product(_Model):
    """``catalog-data-product-interface``; ``custom_attributes`` become a code → value dict."""

    id: int | None = None
    sku: str = ""
    name: str | None = None
    type_id: str | None = None  # simple, configurable, bundle, virtual, …
    status: int | None = None  # 1 enabled, 2 disabled
    visibility: int | None = None
    attribute_set_id: int | None = None
    price: Decimal | None = None
    weight: Decimal | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    stock_item: StockItem | None = None  # from extension_attributes.stock_item, when present
    custom_attributes: dict[str, Any] = {}

    _lift = model_validator(mode="before")(_lift_product_extras)


class SourceItem(_Model):
    """An MSI source item: the *physical* quantity of a SKU at a source. ``status`` 1 = in stock."""

    sku: str
    source_code: str = "default"
    quantity: Qty = _ZERO
    status: int = 0

    @property
    def in_stock(self) -> bool:
        return self.status == 1

    def to_api(self) -> dict[str, Any]:
        """The body shape of ``inventory-api-data-source-item-interface``."""
        return {
            "sku": self.sku,
            "source_code": self.source_code,
            "quantity": json_number(self.quantity),
            "status": self.status,
        }
