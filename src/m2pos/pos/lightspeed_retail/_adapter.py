"""The Lightspeed Retail (R-Series) adapter: the POS port over the R-Series API.

A Magento order becomes **one** ``POST Sale.json`` — lines, the shipping and tax lines, the payment
under the "Magento" payment type, the ship-to and the Magento number in ``referenceNumber`` with
``referenceNumberSource = "Magento"`` — so a document is either there whole or not at all, and
``find_document`` finds it by that reference after a crash. ``download_orders_as``:

* ``sale``: a completed Sale, paid in full: R-Series takes the stock;
* ``quote``: an open Sale saved as a Quote: it holds the order, takes no stock and no payment.

Cancellations void a quote, and give a sale a refund sale (``CANCEL-<order>``) that returns every
line; credit memos on a sale become refund sales (``CM-<memo>``) — restocked items as negative
lines, the rest on the Refund item — and on a quote lower its lines. See
``docs/pos/lightspeed_retail.md``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

import httpx

from m2pos.engine.ratelimit import RateLimiter
from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.common.catalog import SkuResolver
from m2pos.pos.common.customers import CustomerDetails
from m2pos.pos.common.helpers import HelperProduct, HelperRecord, ensure_helpers, named_helpers
from m2pos.pos.common.lookups import cached_lookups
from m2pos.pos.common.notes import order_notes, return_notes
from m2pos.pos.common.plan import PlannedLine, document_skus, plan_return, plan_sale
from m2pos.pos.lightspeed_retail._catalog import RetailCatalog, RetailCustomers, RetailHelpers
from m2pos.pos.lightspeed_retail._client import POS_NAME, RetailCallError, RetailClient
from m2pos.pos.lightspeed_retail._mapping import (
    SOURCE,
    RetailItem,
    SaleInfo,
    SaleSpec,
    read_sale,
    read_sales,
    records,
    sale_body,
    ship_to_body,
)
from m2pos.pos.lightspeed_retail._settings import RetailSettings, retail_settings
from m2pos.pos.port import PosDocument, PosError, PosRejected
from m2pos.settings import PosSettings

log = logging.getLogger("m2pos.pos.lightspeed_retail")

ZERO = Decimal(0)
RETURN = "return"
LINES = '["SaleLines"]'


def _sale_id(document: PosDocument) -> int:
    if not document.id.isdigit():
        raise PosRejected(f"{document.id!r} is not a {POS_NAME} saleID")
    return int(document.id)


class LightspeedRetail:
    kind = "lightspeed_retail"

    def __init__(
        self,
        settings: RetailSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.options = o = settings.lightspeed_retail
        self.client = RetailClient(settings, transport=transport, limiter=limiter, sleep=sleep)
        self.catalog = RetailCatalog(self.client, o.sku_field)
        self.products: SkuResolver[RetailItem]
        self.products, self.customers = cached_lookups(
            self.catalog.items_by_sku,
            RetailCustomers(self.client),
            o,
            default_customer_id=o.default_customer_id,
            clock=clock,
        )
        self._helpers: dict[str, HelperRecord] | None = None
        self._payment_type: int | None = None
        self._setup_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: PosSettings, limiter: RateLimiter | None = None) -> LightspeedRetail:
        return cls(retail_settings(settings), limiter=limiter)

    def __repr__(self) -> str:
        return f"LightspeedRetail({self.settings.account_url!r}, {self.options.download_orders_as})"

    # --- set-up: helper items and the payment type ----------------------------------------------

    def helper_products(self) -> list[HelperProduct]:
        keys = {
            "no_product_found": "no_product_found_sku",
            "shipping": "shipping_sku",
            "refund": "refund_sku",
            "tax": "tax_sku",
        }
        return named_helpers(self.options, "pos.lightspeed_retail", keys)

    async def _setup(self, *, recheck: bool = False) -> tuple[dict[str, HelperRecord], int]:
        async with self._setup_lock:
            if self._helpers is None or recheck:
                self._helpers = await ensure_helpers(
                    RetailHelpers(self.catalog), self.helper_products(), POS_NAME
                )
            if self._payment_type is None or recheck:
                self._payment_type = await self._find_payment_type()
            return self._helpers, self._payment_type

    async def _find_payment_type(self) -> int:
        name = self.options.payment_type
        data = await self.client.get("PaymentType.json", {"limit": "100"})
        for record in records(data, "PaymentType"):
            if str(record.get("name", "")).strip().casefold() == name.casefold():
                return int(record["paymentTypeID"])
        raise PosRejected(
            f'{POS_NAME} has no payment type named "{name}" (pos.lightspeed_retail.payment_type). Create it '
            "in Lightspeed (Settings › Payment Types), or set payment_type to an existing one; then retry."
        )

    def _item_id(self, line: PlannedLine[RetailItem], helpers: dict[str, HelperRecord]) -> int:
        if line.role == "product" and line.product is not None:
            return line.product.id
        return int(helpers[line.role].id)

    # --- the port: documents -------------------------------------------------------------------

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        kind = self.options.download_orders_as
        try:
            return await self._create_document(order, reference, kind)
        except PosError as error:
            raise error.while_doing(f"{kind.capitalize()} for Magento order {reference}") from None

    async def _create_document(self, order: Order, reference: str, kind: str) -> PosDocument:
        helpers, payment_type = await self._setup()
        match = await self.customers.match(order)
        products = await self.products.resolve(document_skus(order.lines()))
        plan = plan_sale(order, products, tax_mode="line")
        notes = order_notes(order, reference, unmatched=plan.unmatched, pos_name=POS_NAME)
        if kind == "sale" and plan.total != order.grand_total:
            notes += f"\nMagento grand total {order.grand_total}; the sale carries {plan.total}."
        shipping = order.shipping_address
        details = CustomerDetails.from_order(order)
        ship_to = None
        if shipping is not None:
            ship_to = ship_to_body(
                (shipping.firstname or "").strip(),
                (shipping.lastname or "").strip(),
                (shipping.company or "").strip(),
                (shipping.telephone or "").strip(),
                details.shipping if details is not None else None,
            )
        spec = SaleSpec(
            reference=reference,
            shop_id=self.options.shop_id,
            register_id=self.options.register_id,
            employee_id=self.options.employee_id,
            customer_id=int(match.customer_id) if match.customer_id else None,
            note=notes,
            lines=[(self._item_id(line, helpers), line) for line in plan.lines],
            payment_type_id=payment_type if kind == "sale" else None,
            quote=kind == "quote",
            ship_to=ship_to,
        )
        sale = await self._post_sale(spec)
        if plan.unmatched:
            log.warning(
                "order transferred with No Product Found lines",
                extra={
                    "order": reference,
                    "pos_document": sale.id,
                    "skus": ", ".join(u.sku for u in plan.unmatched),
                },
            )
        return PosDocument(str(sale.id), reference, sale.kind)

    async def _post_sale(self, spec: SaleSpec) -> SaleInfo:
        data = await self.client.post("Sale.json", sale_body(spec))
        found = read_sales(data)
        if not found:
            raise RetailCallError(f"{POS_NAME} answered the new sale without its record.", retryable=True)
        return found[0]

    async def _by_reference(self, reference: str) -> list[SaleInfo]:
        data = await self.client.get(
            "Sale.json",
            {
                "referenceNumber": reference,
                "referenceNumberSource": SOURCE,
                "load_relations": LINES,
                "limit": "100",
            },
        )
        return [s for s in read_sales(data) if s.reference == reference and s.source == SOURCE]

    async def find_document(self, reference: str) -> PosDocument | None:
        try:
            found = [s for s in await self._by_reference(reference) if not s.voided]
        except PosError as error:
            raise error.while_doing(f"Looking for Magento order {reference} in {POS_NAME}") from None
        return PosDocument(str(found[0].id), reference, found[0].kind) if found else None

    async def _get(self, sale_id: int) -> SaleInfo:
        data = await self.client.get(f"Sale/{sale_id}.json", {"load_relations": LINES})
        return read_sale(records(data, "Sale")[0])

    # --- cancellations -------------------------------------------------------------------------

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        try:
            await self._cancel(document, order)
        except PosError as error:
            raise error.while_doing(
                f"Cancelling Magento order {document.reference} ({document.id})"
            ) from None

    async def _cancel(self, document: PosDocument, order: Order) -> None:
        sale = await self._get(_sale_id(document))
        if sale.voided:
            return
        if not sale.completed:  # a quote (or an open sale): nothing taken yet, void it
            await self.client.put(f"Sale/{sale.id}.json", {"voided": True})
            return
        reference = f"CANCEL-{document.reference}"
        if any(not s.voided for s in await self._by_reference(reference)):
            return  # cancelled before
        _helpers, payment_type = await self._setup()
        lines: list[tuple[int, PlannedLine[RetailItem]]] = [
            (line.item_id, PlannedLine("product", -line.quantity, line.unit_price, None, line.note or None))
            for line in sale.lines
            if line.quantity
        ]
        notes = return_notes(None, order, reason="cancelled in Magento", original=f"sale {sale.id}")
        await self._post_sale(
            SaleSpec(
                reference=reference,
                shop_id=self.options.shop_id,
                register_id=self.options.register_id,
                employee_id=self.options.employee_id,
                customer_id=sale.customer_id or None,
                note=notes,
                lines=lines,
                payment_type_id=payment_type,
            )
        )

    # --- credit memos --------------------------------------------------------------------------

    async def create_return(
        self, memo: CreditMemo, order: Order, original: PosDocument, reference: str, restock: frozenset[int]
    ) -> PosDocument:
        try:
            return await self._create_return(memo, order, original, reference, restock)
        except PosError as error:
            number = order.increment_id or original.reference
            raise error.while_doing(f"Return for Magento credit memo {reference} of order {number}") from None

    async def _create_return(
        self, memo: CreditMemo, order: Order, original: PosDocument, reference: str, restock: frozenset[int]
    ) -> PosDocument:
        sale = await self._get(_sale_id(original))
        helpers, payment_type = await self._setup()
        if not sale.completed:
            return await self._lower_quote(sale, memo, order, reference, helpers)
        products = await self.products.resolve(document_skus(memo.lines(order)))
        plan = plan_return(memo, order, products, restock, tax_mode="line")
        notes = return_notes(
            memo,
            order,
            reason="refunded in Magento",
            original=f"sale {sale.id}",
            unmatched=plan.unmatched,
            pos_name=POS_NAME,
        )
        created = await self._post_sale(
            SaleSpec(
                reference=f"CM-{reference}",
                shop_id=self.options.shop_id,
                register_id=self.options.register_id,
                employee_id=self.options.employee_id,
                customer_id=sale.customer_id or None,
                note=notes,
                lines=[(self._item_id(line, helpers), line) for line in plan.lines],
                payment_type_id=payment_type,
            )
        )
        return PosDocument(str(created.id), reference, RETURN)

    async def _lower_quote(
        self, sale: SaleInfo, memo: CreditMemo, order: Order, reference: str, helpers: dict[str, HelperRecord]
    ) -> PosDocument:
        """A credit memo on a quote: nothing left the shop, so the quote keeps only what Magento did not
        refund (targets from Magento's quantities: doing it twice is harmless); nothing left → voided."""
        done = PosDocument(str(sale.id), reference, "quote")
        if sale.voided:
            return done
        refunded_now: dict[int, Decimal] = {}
        for memo_item in memo.items:
            if memo_item.order_item_id is not None:
                key = memo_item.order_item_id
                refunded_now[key] = refunded_now.get(key, ZERO) + memo_item.qty
        products = await self.products.resolve(document_skus(order.lines()))
        plan = plan_sale(order, products, tax_mode="line")
        remaining: dict[int, Decimal] = {}
        for planned in plan.lines:
            item = order.item(planned.item_id) if planned.item_id is not None else None
            if item is None or planned.item_id is None or planned.item_id in remaining:
                continue
            refunded = max(item.qty_refunded, refunded_now.get(planned.item_id, ZERO))
            remaining[planned.item_id] = max(ZERO, item.qty_ordered - refunded - item.qty_canceled)
        if remaining and all(v <= 0 for v in remaining.values()):
            await self.client.put(f"Sale/{sale.id}.json", {"voided": True})
            return PosDocument(str(sale.id), reference, "quote_void")
        # The quote's lines were written in plan order: pair them up to find each item's lines.
        for line, planned in zip(sale.lines, plan.lines, strict=False):
            if planned.item_id not in remaining or line.item_id != self._item_id(planned, helpers):
                continue
            target = min(line.quantity, remaining[planned.item_id])
            remaining[planned.item_id] -= target
            if target != line.quantity:
                await self.client.put(f"SaleLine/{line.id}.json", {"unitQuantity": format(target, "f")})
        return done

    async def find_return(self, reference: str) -> PosDocument | None:
        try:
            found = [s for s in await self._by_reference(f"CM-{reference}") if not s.voided]
        except PosError as error:
            raise error.while_doing(f"Looking for the return of credit memo {reference}") from None
        return PosDocument(str(found[0].id), reference, RETURN) if found else None

    # --- stock, check, close -------------------------------------------------------------------

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """``qoh`` of the configured shop, read fresh, for the SKUs that are inventory items."""
        try:
            products = await self.products.resolve(skus)
            ids = {sku: p.id for sku, p in products.items() if p is not None and p.inventoried}
            fresh = await self.catalog.stock(sorted(set(ids.values())))
        except PosError as error:
            raise error.while_doing(f"Reading stock from {POS_NAME}") from None
        shop = self.options.shop_id
        return {sku: fresh[i].qoh.get(shop, ZERO) for sku, i in ids.items() if i in fresh}

    async def check(self) -> str:
        o = self.options
        try:
            await self.client.get("Account.json")
            helpers, _payment = await self._setup(recheck=True)
        except PosError as error:
            raise error.while_doing(f"{POS_NAME} account {self.settings.account_id}") from None
        helper_text = ", ".join(f"{h.code} ({h.description})" for h in helpers.values())
        return (
            f"{POS_NAME} account {self.settings.account_id}: orders land as {o.download_orders_as}s in shop "
            f'{o.shop_id}, products by {o.sku_field}, payments as "{o.payment_type}"; '
            f"helper items {helper_text}"
        )

    async def aclose(self) -> None:
        await self.client.aclose()
