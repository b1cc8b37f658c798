"""The Lightspeed X-Series adapter: the POS port over the X-Series API.

A Magento order becomes one X-Series sale, written in one request (``POST /api/register_sales``)
with status ``AWAITING_DISPATCH``, or ``AWAITING_PICKUP`` when its shipping method is one of
``pickup_shipping_methods``; ``source = "Magento"``, ``source_id`` and ``invoice_number`` = the
Magento order number. One request means no half-made sale: either it exists or it does not, and
``find_document`` finds it by its invoice number (checking ``source``/``source_id``).

Cancellations void a sale still awaiting dispatch or pickup (X-Series gives its stock back); a sale
already closed gets a return sale. Credit memos become return sales (negative quantities,
``return_for`` the original; invoice number ``CM-<memo>``): restocked lines as the products, the
rest on the Refund product. See ``docs/pos/lightspeed_xseries.md``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from m2pos.engine.ratelimit import RateLimiter
from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.common.catalog import SkuResolver
from m2pos.pos.common.helpers import HelperProduct, HelperRecord, ensure_helpers, named_helpers
from m2pos.pos.common.lookups import cached_lookups
from m2pos.pos.common.notes import order_notes, return_notes
from m2pos.pos.common.plan import ZERO, Plan, document_skus, money, paid_online, plan_return, plan_sale
from m2pos.pos.lightspeed_xseries._catalog import XSeriesCatalog, XSeriesCustomers, XSeriesProduct
from m2pos.pos.lightspeed_xseries._client import POS_NAME, XSeriesClient
from m2pos.pos.lightspeed_xseries._pacing import WindowPacer
from m2pos.pos.lightspeed_xseries._settings import XSeriesSettings, xseries_settings
from m2pos.pos.port import PosDocument, PosError, PosRejected
from m2pos.settings import PosSettings

SALE = "sale"
RETURN = "return"
OPEN = ("AWAITING_DISPATCH", "AWAITING_PICKUP", "SAVED", "ONACCOUNT", "LAYBY")


def _number(value: Decimal) -> float:
    return float(value)


class LightspeedXSeries:
    kind = "lightspeed_xseries"

    def __init__(
        self,
        settings: XSeriesSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        pacer: WindowPacer | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.options = o = settings.lightspeed_xseries
        self.client = XSeriesClient(settings, transport=transport, limiter=limiter, pacer=pacer, sleep=sleep)
        self.catalog = XSeriesCatalog(self.client, o.sku_field)
        self.directory = XSeriesCustomers(self.client)
        self.products: SkuResolver[XSeriesProduct]
        self.products, self.customers = cached_lookups(
            self.catalog.products_by_sku,
            self.directory,
            o,
            default_customer_id=o.default_customer_id,
            batch_size=1000,
            clock=clock,
        )
        self._helpers: dict[str, HelperRecord] | None = None
        self._register: dict[str, Any] | None = None
        self._setup_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: PosSettings, limiter: RateLimiter | None = None) -> LightspeedXSeries:
        return cls(xseries_settings(settings), limiter=limiter)

    def __repr__(self) -> str:
        return f"LightspeedXSeries({self.settings.base_url!r})"

    # --- set-up: helpers, register, tax --------------------------------------------------------------

    def helper_products(self) -> list[HelperProduct]:
        keys = {
            "no_product_found": "no_product_found_sku",
            "shipping": "shipping_product_sku",
            "refund": "refund_product_sku",
            "tax": "tax_product_sku",
        }
        return named_helpers(self.options, "pos.lightspeed_xseries", keys)

    async def _setup(self, *, recheck: bool = False) -> tuple[dict[str, HelperRecord], dict[str, Any], str]:
        async with self._setup_lock:
            if self._helpers is None or self._register is None or recheck:
                self._helpers = await ensure_helpers(self.catalog, self.helper_products(), POS_NAME)
                self._register = await self.catalog.register(self.options.register_id)
            tax_id = await self.catalog.tax_id(self.options.no_tax_name)
            return self._helpers, self._register, tax_id

    def status_for(self, order: Order) -> str:
        method = (order.shipping_method or "").strip()
        return "AWAITING_PICKUP" if method in self.options.pickup_shipping_methods else "AWAITING_DISPATCH"

    def _lines(
        self, plan: Plan[XSeriesProduct], helpers: dict[str, HelperRecord], tax_id: str
    ) -> list[dict[str, Any]]:
        lines = []
        for n, line in enumerate(plan.lines):
            product_id = line.product.id if line.product is not None else helpers[line.role].id
            body: dict[str, Any] = {
                "product_id": product_id,
                "sequence": n,
                "quantity": _number(line.qty),
                "price": _number(line.unit_price),
                "discount": 0,  # the plan's unit price is already net of Magento's discount
                "tax": 0,  # the whole Magento tax is the "Magento Tax" line (docs: tax)
                "tax_id": tax_id,
                "status": "CONFIRMED",
            }
            if line.description:
                body["note"] = line.description
            lines.append(body)
        return lines

    def _sale_body(self, register: dict[str, Any], status: str, number: str, note: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "register_id": register["id"],
            "source": self.options.source,
            "source_id": number,
            "invoice_number": number,
            "status": status,
            "note": note,
        }
        if self.options.user_id:
            body["user_id"] = self.options.user_id
        return body

    async def _payments(self, register: dict[str, Any], amount: Decimal) -> list[dict[str, Any]]:
        """What was paid online (negative: refunded) under the payment type named after the channel."""
        if not self.options.create_payments or amount == 0:
            return []
        type_id = await self.catalog.payment_type_id(self.options.payment_type)
        return [
            {
                "register_id": register["id"],
                "retailer_payment_type_id": type_id,
                "payment_date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "amount": _number(money(amount)),
            }
        ]

    # --- the port: documents -------------------------------------------------------------------------

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        try:
            return await self._create_document(order, reference)
        except PosError as error:
            raise error.while_doing(f"Sale for Magento order {reference}") from None

    async def _create_document(self, order: Order, reference: str) -> PosDocument:
        helpers, register, tax_id = await self._setup()
        products = await self.products.resolve(document_skus(order.lines()))
        plan = plan_sale(order, products, tax_mode="line")
        match = await self.customers.match(order)
        note = order_notes(order, reference, unmatched=plan.unmatched, pos_name=POS_NAME)
        body = self._sale_body(register, self.status_for(order), reference, note)
        if match.customer_id:
            body["customer_id"] = match.customer_id
        if order.created_at is not None:
            body["sale_date"] = order.created_at.strftime("%Y-%m-%d %H:%M:%S")
        body["register_sale_products"] = self._lines(plan, helpers, tax_id)
        body["register_sale_payments"] = await self._payments(register, paid_online(order))
        sale = (await self.client.write("POST", "register_sales", body))["register_sale"]
        return PosDocument(str(sale["id"]), reference, SALE)

    async def _find(self, number: str) -> dict[str, Any] | None:
        rows = (await self.client.get("2.0/search", {"type": "sales", "invoice_number": number})).get(
            "data"
        ) or []
        mine = [r for r in rows if r.get("source") == self.options.source and r.get("source_id") == number]
        mine.sort(key=lambda r: str(r.get("created_at") or ""))
        return mine[0] if mine else None

    async def find_document(self, reference: str) -> PosDocument | None:
        try:
            sale = await self._find(reference)
        except PosError as error:
            raise error.while_doing(f"Looking for the sale of Magento order {reference}") from None
        return PosDocument(str(sale["id"]), reference, SALE) if sale is not None else None

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        try:
            await self._cancel(document, order)
        except PosError as error:
            raise error.while_doing(
                f"Cancelling Magento order {document.reference} (sale {document.id})"
            ) from None

    async def _cancel(self, document: PosDocument, order: Order) -> None:
        sale = (await self.client.get(f"2.0/sales/{document.id}"))["data"]
        status = str(sale.get("status") or "")
        if status == "VOIDED":
            return
        lines = [
            {k: line.get(k) for k in ("product_id", "quantity", "price", "discount", "tax", "tax_id", "note")}
            | {"status": "CONFIRMED"}
            for line in sale.get("line_items") or []
        ]
        if status in OPEN:
            # a legacy update replaces the sale: every line is sent again, or it would be deleted
            body = {
                "id": sale["id"],
                "register_id": sale["register_id"],
                "customer_id": sale.get("customer_id"),
                "source": sale.get("source"),
                "source_id": sale.get("source_id"),
                "invoice_number": sale.get("invoice_number"),
                "note": sale.get("note") or "",
                "status": "VOIDED",
                "register_sale_products": lines,
            }
            await self.client.write("POST", "register_sales", body)
            return
        number = f"CANCEL-{document.reference}"
        if await self._find(number) is not None:
            return  # returned before
        _helpers, register, _tax = await self._setup()
        note = return_notes(None, order, reason="cancelled after the sale was closed", original=document.id)
        body = self._sale_body(register, "CLOSED", number, note)
        body["return_for"] = sale["id"]
        if sale.get("customer_id"):
            body["customer_id"] = sale["customer_id"]
        body["register_sale_products"] = [
            line | {"quantity": -float(line["quantity"] or 0)} for line in lines
        ]
        await self.client.write("POST", "register_sales", body)

    async def create_return(
        self,
        memo: CreditMemo,
        order: Order,
        original: PosDocument,
        reference: str,
        restock: frozenset[int],
    ) -> PosDocument:
        try:
            helpers, register, tax_id = await self._setup()
            lines = memo.lines(order)
            products = await self.products.resolve(document_skus(lines))
            plan = plan_return(memo, order, products, restock, tax_mode="line")
            note = return_notes(
                memo,
                order,
                reason="credit memo",
                original=f"sale {original.id}",
                unmatched=plan.unmatched,
                pos_name=POS_NAME,
            )
            number = f"CM-{reference}"
            body = self._sale_body(register, "CLOSED", number, note)
            body["return_for"] = original.id
            match = await self.customers.match(order)
            if match.customer_id:
                body["customer_id"] = match.customer_id
            body["register_sale_products"] = self._lines(plan, helpers, tax_id)
            body["register_sale_payments"] = await self._payments(register, -max(ZERO, memo.grand_total))
            sale = (await self.client.write("POST", "register_sales", body))["register_sale"]
        except PosError as error:
            raise error.while_doing(f"Return for Magento credit memo {reference}") from None
        return PosDocument(str(sale["id"]), reference, RETURN)

    async def find_return(self, reference: str) -> PosDocument | None:
        try:
            sale = await self._find(f"CM-{reference}")
        except PosError as error:
            raise error.while_doing(f"Looking for the return of credit memo {reference}") from None
        return PosDocument(str(sale["id"]), reference, RETURN) if sale is not None else None

    # --- the port: stock, check, close -----------------------------------------------------------

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """``inventory_level`` in the register's outlet (X-Series has no reserved quantity: an
        awaiting sale has already taken its stock)."""
        try:
            _helpers, register, _tax = await self._setup()
            products = await self.products.resolve(skus)
            ids = {sku: p.id for sku, p in products.items() if p is not None and p.has_inventory}
            rows = await self.client.pages("2.0/inventory")
        except PosError as error:
            raise error.while_doing(f"Reading stock from {POS_NAME}") from None
        outlet = register.get("outlet_id")
        levels = {
            str(r["product_id"]): Decimal(str(r.get("inventory_level") or 0))
            for r in rows
            if r.get("outlet_id") == outlet
        }
        return {sku: levels.get(pid, Decimal(0)) for sku, pid in ids.items()}

    async def check(self) -> str:
        try:
            _helpers, register, _tax = await self._setup(recheck=True)
            if self.options.create_payments:
                await self.catalog.payment_type_id(self.options.payment_type)
            default = self.options.default_customer_id
            if default is not None and not await self.directory.exists(default):
                raise PosRejected(
                    f"pos.lightspeed_xseries.default_customer_id = {default}: {POS_NAME} has no such "
                    "customer. Set it to the customer that takes orders without an e-mail, or remove it."
                )
        except PosError as error:
            raise error.while_doing(f"Checking {POS_NAME}") from None
        left = self.client.pacer.remaining
        window = f", {left} requests left in the window" if left is not None else ""
        name = register.get("name") or register["id"]
        return f"{POS_NAME} at {self.settings.base_url}: register {name}{window}"

    async def aclose(self) -> None:
        await self.client.aclose()
