"""The Heartland Retail adapter: the POS port over the Heartland Retail API.

A Magento order becomes one Heartland **sales order** (product-behaviour §2.3, pos-apis §4):

1. the customer is checked against what Heartland requires (a :class:`PosRejected` naming the order
   and the field otherwise), matched by e-mail or created (``m2pos.pos.common.customers``); the
   items are looked up by ``sku_field`` (``m2pos.pos.common.catalog``);
2. ``POST sales/orders`` (status ``pending``, the Magento number in the custom field
   ``reference_field``) → ``POST …/lines`` per line → ``POST …/shipping`` (the shipping charge) →
   ``POST …/payments`` (what was paid online) → ``PUT`` status ``open``: the order is complete;
3. with ``distribute`` or ``auto_invoice``: each line is distributed to ``location_id`` (commits the
   stock), and with ``auto_invoice`` the order is invoiced (the stock leaves).

Exactly once: ``find_document`` finds the order by its reference; a ``pending`` one (a crash
mid-way) or an open one still lacking its distribution or invoice is not returned as done: the next
``create_document`` resumes it, or, when its lines are not the plan's, abandons it (cancelled, its
reference cleared) and starts again. Cancellations cancel an order not yet invoiced (its committed
stock is released) and give an invoiced one a return ticket. Credit memos: while the order is not
invoiced its lines are lowered to what Magento still sells; once invoiced, a return **ticket**
(Heartland orders cannot hold negative quantities). See ``docs/pos/heartland.md``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from m2pos.engine.ratelimit import RateLimiter
from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.common.catalog import SkuResolver
from m2pos.pos.common.customers import CustomerDetails, PostalAddress
from m2pos.pos.common.helpers import HelperProduct, HelperRecord, ensure_helpers, named_helpers
from m2pos.pos.common.lookups import cached_lookups
from m2pos.pos.common.notes import order_notes, return_notes
from m2pos.pos.common.plan import (
    Plan,
    PlannedLine,
    TaxMode,
    cuts_to_target,
    document_skus,
    memo_refund_line,
    money,
    no_product_found_text,
    paid_online,
    plan_return,
    plan_sale,
    still_sold,
)
from m2pos.pos.heartland._client import POS_NAME, HeartlandCallError, HeartlandClient
from m2pos.pos.heartland._directory import (
    HeartlandCatalog,
    HeartlandCustomers,
    HeartlandHelpers,
    HeartlandItem,
    address_body,
    missing_customer_fields,
    number,
)
from m2pos.pos.heartland._settings import HeartlandSettings, heartland_settings
from m2pos.pos.port import PosDocument, PosError, PosRejected
from m2pos.settings import PosSettings

log = logging.getLogger("m2pos.pos.heartland")

ZERO = Decimal(0)
SALES_ORDER = "sales_order"
RETURN = "return"
KEY = "pos.heartland."


@dataclass(frozen=True)
class _Refs:
    shipping_method_id: int
    payment_type_id: int | None


class Heartland:
    kind = "heartland"

    def __init__(
        self,
        settings: HeartlandSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.options = o = settings.heartland
        self.client = HeartlandClient(settings, transport=transport, limiter=limiter, sleep=sleep)
        self.catalog = HeartlandCatalog(self.client, o.sku_field)
        self.products: SkuResolver[HeartlandItem]
        self.products, self.customers = cached_lookups(
            self.catalog.products_by_sku,
            HeartlandCustomers(self.client),
            o,
            default_customer_id=o.default_customer_id,
            clock=clock,
        )
        self._helpers: dict[str, HelperRecord] | None = None
        self._refs: _Refs | None = None
        self._lock = asyncio.Lock()
        self._partial: dict[tuple[str, str], dict[str, Any]] = {}  # (collection, reference) → record

    @classmethod
    def from_settings(cls, settings: PosSettings, limiter: RateLimiter | None = None) -> Heartland:
        return cls(heartland_settings(settings), limiter=limiter)

    def __repr__(self) -> str:
        return f"Heartland({self.settings.base_url!r}, location {self.options.location_id})"

    @property
    def _ref_key(self) -> str:
        return f"custom@{self.options.reference_field}"

    @property
    def _tax_mode(self) -> TaxMode:
        return "line" if self.options.tax_mode == "line" else "pos"

    # --- reference data ------------------------------------------------------------------------

    def helper_products(self) -> list[HelperProduct]:
        # no shipping product: Heartland carries shipping as the order's shipping charge
        keys = {"no_product_found": "no_product_found_code", "refund": "refund_product_code"}
        if self.options.tax_mode == "line":
            keys["tax"] = "tax_product_code"
        return named_helpers(self.options, "pos.heartland", keys, taxable=["no_product_found"])

    async def _ensure(self, *, recheck: bool = False) -> tuple[dict[str, HelperRecord], _Refs]:
        async with self._lock:
            if self._helpers is None or recheck:
                self._helpers = await ensure_helpers(
                    HeartlandHelpers(self.client), self.helper_products(), POS_NAME
                )
            if self._refs is None or recheck:
                self._refs = await self._reference_data()
            return self._helpers, self._refs

    async def _reference_data(self) -> _Refs:
        o = self.options
        shipping = await self.catalog.id_by_name("shipping_methods", o.shipping_method)
        if shipping is None:
            raise PosRejected(
                f'{POS_NAME} has no shipping method named "{o.shipping_method}" ({KEY}shipping_method). '
                "Create it in Heartland (Settings › Shipping Methods) or set shipping_method to an "
                "existing one."
            )
        payment = None
        if o.create_payments:
            payment = await self.catalog.id_by_name("payment_types", o.payment_type)
            if payment is None:
                raise PosRejected(
                    f'{POS_NAME} has no payment type named "{o.payment_type}" ({KEY}payment_type). Create '
                    "it in Heartland (Settings › Payment Types), set payment_type to an existing one, or "
                    "set create_payments = false."
                )
        return _Refs(shipping, payment)

    # --- the port: documents -------------------------------------------------------------------

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        try:
            return await self._create_document(order, reference)
        except PosError as error:
            raise error.while_doing(f"Sales order for Magento order {reference}") from None

    def _validate_customer(self, order: Order, reference: str) -> None:
        details = CustomerDetails.from_order(order)
        if details is None:
            if self.options.default_customer_id is None:
                raise PosRejected(
                    f"Magento order {reference} has no e-mail address, and a {POS_NAME} sales order needs "
                    f"a customer. Set {KEY}default_customer_id to the Heartland customer that takes such "
                    "orders, or add an e-mail to the order in Magento; then retry."
                )
            return
        missing = missing_customer_fields(details)
        if missing:
            raise PosRejected(
                f"Magento order {reference}: {POS_NAME} requires the customer's {' and '.join(missing)}, "
                "and neither the order's customer nor its billing address has one. Add it in Magento "
                "(the customer account or the order's billing address), then retry."
            )

    async def _create_document(self, order: Order, reference: str) -> PosDocument:
        self._validate_customer(order, reference)
        helpers, refs = await self._ensure()
        match = await self.customers.match(order)
        products = await self.products.resolve(document_skus(order.lines()))
        plan = plan_sale(order, products, tax_mode=self._tax_mode)
        partial = self._partial.pop(("sales/orders", reference), None)
        if (
            partial is not None
            and partial["status"] == "pending"
            and not self._resumable(partial, plan, helpers)
        ):
            await self._abandon("sales/orders", partial)
            partial = None
        if partial is None:
            notes = order_notes(order, reference, unmatched=plan.unmatched, pos_name=POS_NAME)
            body: dict[str, Any] = {
                "customer_id": int(match.customer_id) if match.customer_id else None,
                "source_location_id": self.options.location_id,
                "custom": {self.options.reference_field: reference},
                "notes": notes,
            }
            for key, address in (
                ("shipping_address", order.shipping_address),
                ("billing_address", order.billing_address),
            ):
                found = address_body(PostalAddress.from_magento(address))
                if found:
                    body[key] = found
            partial = await self.client.post("sales/orders", body)
        oid = int(partial["id"])
        path = f"sales/orders/{oid}"
        if partial["status"] == "pending":
            await self._fill(path, partial, plan, helpers, refs, paid_online(order), order)
            partial = await self.client.put(path, {"status": "open"})
        await self._fulfil(path, partial)
        if plan.unmatched:
            log.warning(
                "order transferred with No Product Found lines",
                extra={
                    "order": reference,
                    "pos_document": partial.get("public_id"),
                    "skus": ", ".join(u.sku for u in plan.unmatched),
                },
            )
        return PosDocument(str(oid), reference, SALES_ORDER)

    @staticmethod
    def _line_item(line: PlannedLine[HeartlandItem], helpers: dict[str, HelperRecord]) -> int:
        if line.role == "product" and line.product is not None:
            return line.product.id
        return int(helpers[line.role].id)

    @staticmethod
    def _item_lines(plan: Plan[HeartlandItem]) -> list[PlannedLine[HeartlandItem]]:
        return [line for line in plan.lines if line.role != "shipping"]

    def _resumable(
        self, partial: dict[str, Any], plan: Plan[HeartlandItem], helpers: dict[str, HelperRecord]
    ) -> bool:
        """Whether the half-made order's lines are the first lines of ``plan``."""
        wanted = self._item_lines(plan)
        have = partial.get("lines") or []
        if len(have) > len(wanted):
            return False
        return all(
            int(h["item_id"]) == self._line_item(w, helpers) and number(h["qty"]) == w.qty
            for h, w in zip(have, wanted, strict=False)
        )

    async def _abandon(self, collection: str, record: dict[str, Any]) -> None:
        """Cancel a half-made record that cannot be resumed and clear its reference, so that it is
        never found again as the document."""
        status = "canceled" if collection == "sales/orders" else "voided"
        await self.client.put(
            f"{collection}/{record['id']}", {"status": status, "custom": {self.options.reference_field: ""}}
        )
        log.warning("half-made document abandoned", extra={"pos_document": record.get("public_id")})

    async def _fill(
        self,
        path: str,
        partial: dict[str, Any],
        plan: Plan[HeartlandItem],
        helpers: dict[str, HelperRecord],
        refs: _Refs,
        paid: Decimal,
        order: Order,
    ) -> None:
        """The lines not there yet, the shipping charge (a replacement: harmless twice), the payment."""
        done = len(partial.get("lines") or [])
        for line in self._item_lines(plan)[done:]:
            await self.client.post(
                f"{path}/lines",
                {
                    "item_id": self._line_item(line, helpers),
                    "qty": str(line.qty),
                    "unit_price": str(line.unit_price),
                    "description": line.description or (line.product.description if line.product else ""),
                },
            )
        shipping = sum((line.total for line in plan.lines if line.role == "shipping"), ZERO)
        if shipping or order.shipping_method:
            await self.client.post(
                f"{path}/shipping",
                {"shipping_method_id": refs.shipping_method_id, "amount": str(max(ZERO, money(shipping)))},
            )
        if refs.payment_type_id is not None and paid > 0 and not partial.get("payments"):
            payment = order.payment
            await self.client.post(
                f"{path}/payments",
                {
                    "payment_type_id": refs.payment_type_id,
                    "amount": str(money(paid)),
                    "reference": (payment.last_trans_id or "") if payment else "",
                },
            )

    def _unfinished(self, record: dict[str, Any]) -> bool:
        """An open order still lacking the distribution or the invoice the settings ask for."""
        o = self.options
        if record["status"] != "open" or not (o.distribute or o.auto_invoice):
            return False
        if o.auto_invoice and not record.get("invoice_ids"):
            return True
        return any(
            sum((number(d["qty"]) for d in line.get("distributions") or []), ZERO) < number(line["qty"])
            for line in record.get("lines") or []
        )

    async def _fulfil(self, path: str, record: dict[str, Any]) -> None:
        if not self._unfinished(record):
            return
        location = self.options.location_id
        for line in record.get("lines") or []:
            distributed = sum((number(d["qty"]) for d in line.get("distributions") or []), ZERO)
            if distributed < number(line["qty"]):
                await self.client.put(
                    f"{path}/lines/{line['id']}/distributions",
                    [{"location_id": location, "qty": line["qty"]}],
                )
        # The invoice is a POST: look for one first (a lost answer may have made it).
        order_id = int(record["id"])
        if self.options.auto_invoice and not await self.client.find("sales/invoices", {"order_id": order_id}):
            await self.client.post("sales/invoices", {"order_id": int(record["id"])})

    async def _find(self, collection: str, reference: str) -> dict[str, Any] | None:
        """The complete record with this reference; a half-made one is remembered for the next write."""
        found = await self.client.find(collection, {self._ref_key: reference})
        found.sort(key=lambda r: int(r["id"]))
        complete = [r for r in found if r["status"] != "pending" and not self._unfinished(r)]
        if len(complete) > 1:
            log.warning("several POS documents carry one reference", extra={"reference": reference})
        if complete:
            return complete[0]
        half = [r for r in found if r["status"] in ("pending", "open")]
        if half:
            self._partial[(collection, reference)] = half[0]
        return None

    async def find_document(self, reference: str) -> PosDocument | None:
        try:
            record = await self._find("sales/orders", reference)
        except PosError as error:
            raise error.while_doing(f"Looking for Magento order {reference} in {POS_NAME}") from None
        return PosDocument(str(record["id"]), reference, SALES_ORDER) if record else None

    # --- cancellations ---------------------------------------------------------------------------

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        try:
            await self._cancel(document, order)
        except PosError as error:
            raise error.while_doing(
                f"Cancelling Magento order {document.reference} ({document.id})"
            ) from None

    async def _order(self, document: PosDocument) -> dict[str, Any]:
        if not document.id.isdigit():
            raise PosRejected(f"{document.id!r} is not a {POS_NAME} sales order id")
        data: dict[str, Any] = await self.client.get(f"sales/orders/{document.id}")
        return data

    async def _cancel(self, document: PosDocument, order: Order) -> None:
        current = await self._order(document)
        if current["status"] == "canceled":
            return
        if not current.get("invoice_ids"):
            await self.client.put(f"sales/orders/{current['id']}", {"status": "canceled"})
            return
        # Invoiced: the goods left; a return ticket brings back what earlier returns did not.
        reference = f"CANCEL-{document.reference}"
        if await self._find("sales/tickets", reference) is not None:
            return
        returned: dict[int, Decimal] = {}
        for ticket in await self.client.find("sales/tickets", {"original_order_id": int(current["id"])}):
            if ticket["status"] == "complete":
                for line in ticket.get("lines") or []:
                    returned[int(line["item_id"])] = returned.get(int(line["item_id"]), ZERO) - number(
                        line["qty"]
                    )
        planned: list[PlannedLine[HeartlandItem]] = []
        for line in current.get("lines") or []:
            item_id = int(line["item_id"])
            invoiced = number(line.get("qty_invoiced"))
            already = min(returned.get(item_id, ZERO), invoiced)
            returned[item_id] = returned.get(item_id, ZERO) - already
            if invoiced - already > 0:
                item = HeartlandItem(item_id, "", str(line.get("description") or ""), ZERO, True)
                planned.append(
                    PlannedLine(
                        "product",
                        -(invoiced - already),
                        number(line["unit_price"]),
                        item,
                        str(line.get("description") or ""),
                    )
                )
        if planned:
            notes = return_notes(
                None, order, reason="cancelled in Magento", original=str(current.get("public_id"))
            )
            await self._write_ticket(reference, current, Plan(tuple(planned)), notes)

    # --- returns ---------------------------------------------------------------------------------

    async def create_return(
        self, memo: CreditMemo, order: Order, original: PosDocument, reference: str, restock: frozenset[int]
    ) -> PosDocument:
        try:
            return await self._create_return(memo, order, original, reference, restock)
        except PosError as error:
            number_ = order.increment_id or original.reference
            raise error.while_doing(
                f"Return for Magento credit memo {reference} of order {number_}"
            ) from None

    async def _create_return(
        self, memo: CreditMemo, order: Order, original: PosDocument, reference: str, restock: frozenset[int]
    ) -> PosDocument:
        current = await self._order(original)
        helpers, refs = await self._ensure()
        if current["status"] == "canceled":
            return PosDocument(str(current["id"]), reference, "sales_order_canceled")
        if not current.get("invoice_ids"):
            await self._reduce_open_order(current, memo, order, reference, helpers, refs)
            return PosDocument(str(current["id"]), reference, "sales_order_reduced")
        products = await self.products.resolve(document_skus(memo.lines(order)))
        plan = plan_return(memo, order, products, restock, tax_mode=self._tax_mode)
        notes = return_notes(
            memo,
            order,
            reason="refunded in Magento",
            original=str(current.get("public_id")),
            unmatched=plan.unmatched,
            pos_name=POS_NAME,
        )
        ticket = await self._write_ticket(f"CM-{reference}", current, plan, notes)
        return PosDocument(str(ticket["id"]), reference, RETURN)

    async def _write_ticket(
        self, reference: str, order_record: dict[str, Any], plan: Plan[HeartlandItem], notes: str
    ) -> dict[str, Any]:
        """A return ticket: ``pending`` with the reference, its lines, then ``complete`` (the stock
        moves then). A half-made one is resumed, or abandoned when its lines are not the plan's."""
        helpers, _refs = await self._ensure()
        partial = self._partial.pop(("sales/tickets", reference), None)
        if partial is not None and not self._resumable(partial, plan, helpers):
            await self._abandon("sales/tickets", partial)
            partial = None
        if partial is None:
            partial = await self.client.post(
                "sales/tickets",
                {
                    "customer_id": order_record.get("customer_id"),
                    "source_location_id": self.options.location_id,
                    "original_order_id": int(order_record["id"]),
                    "custom": {self.options.reference_field: reference},
                    "notes": notes,
                },
            )
        path = f"sales/tickets/{partial['id']}"
        for line in self._item_lines(plan)[len(partial.get("lines") or []) :]:
            await self.client.post(
                f"{path}/lines",
                {
                    "item_id": self._line_item(line, helpers),
                    "qty": str(line.qty),
                    "unit_price": str(line.unit_price),
                    "description": line.description or "",
                },
            )
        done: dict[str, Any] = await self.client.put(path, {"status": "complete"})
        return done

    async def _reduce_open_order(
        self,
        current: dict[str, Any],
        memo: CreditMemo,
        order: Order,
        reference: str,
        helpers: dict[str, HelperRecord],
        refs: _Refs,
    ) -> None:
        """Nothing left the shop: the order keeps only what Magento did not refund (lines lowered,
        refunded shipping and adjustments as a Refund line, the refund as a negative payment); with
        nothing left it is cancelled. Targets and marked additions, so doing it twice is harmless."""
        remaining = still_sold(order, memo)
        products = await self.products.resolve(sku for sku, _name, _qty in remaining)
        npf = int(helpers["no_product_found"].id)
        targets: dict[str, Decimal] = {}
        for sku, name, left in remaining:
            product = products.get(sku)
            key = f"id:{product.id}" if product else f"npf:{no_product_found_text(sku, name or None)}"
            targets[key] = targets.get(key, ZERO) + left
        if targets and all(v <= 0 for v in targets.values()):
            await self.client.put(f"sales/orders/{current['id']}", {"status": "canceled"})
            return
        path = f"sales/orders/{current['id']}"
        lines = current.get("lines") or []
        for key, target in targets.items():
            mine = [
                (x["id"], number(x["qty"]))
                for x in lines
                if (f"npf:{x.get('description')}" if int(x["item_id"]) == npf else f"id:{x['item_id']}")
                == key
            ]
            for line_id, qty in cuts_to_target(mine, target):
                if qty > 0:
                    await self.client.put(f"{path}/lines/{line_id}", {"qty": str(qty)})
                else:
                    await self.client.delete(f"{path}/lines/{line_id}")
        refund: PlannedLine[HeartlandItem] | None = memo_refund_line(memo, reference, tax_mode=self._tax_mode)
        if refund is not None and not any(x.get("description") == refund.description for x in lines):
            await self.client.post(
                f"{path}/lines",
                {
                    # an order line cannot hold a negative quantity: one at minus the amount [I]
                    "item_id": int(helpers["refund"].id),
                    "qty": "1",
                    "unit_price": str(-refund.unit_price),
                    "description": refund.description,
                },
            )
        marker = f"CM-{reference}"
        paid = current.get("payments") or []
        if refs.payment_type_id is not None and paid and not any(p.get("reference") == marker for p in paid):
            await self.client.post(
                f"{path}/payments",
                {
                    "payment_type_id": refs.payment_type_id,
                    "amount": str(-money(max(ZERO, memo.grand_total))),
                    "reference": marker,
                },
            )

    async def find_return(self, reference: str) -> PosDocument | None:
        try:
            record = await self._find("sales/tickets", f"CM-{reference}")
        except PosError as error:
            raise error.while_doing(f"Looking for the return of credit memo {reference}") from None
        return PosDocument(str(record["id"]), reference, RETURN) if record else None

    # --- stock, check, close -----------------------------------------------------------------------

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """On hand minus committed at ``location_id``, for tracked items."""
        try:
            products = await self.products.resolve(skus)
            ids = {sku: p.id for sku, p in products.items() if p is not None and p.tracked}
            levels = await self.catalog.inventory(list(ids.values()), self.options.location_id)
        except PosError as error:
            raise error.while_doing(f"Reading stock from {POS_NAME}") from None
        return {sku: levels[i][0] - levels[i][1] for sku, i in ids.items() if i in levels}

    async def check(self) -> str:
        o = self.options
        try:
            locations = await self.client.find("locations", {"id": o.location_id})
            if not locations:
                raise PosError(
                    f"{KEY}location_id = {o.location_id}: {POS_NAME} has no such location. Set it to the id "
                    'of the location that takes web orders (the Order Source, e.g. an "Online" location).',
                    retryable=False,
                )
            helpers, _refs = await self._ensure(recheck=True)
            default = o.default_customer_id
            if default is not None and not await self.client.find("customers", {"id": default}):
                raise PosError(
                    f"{KEY}default_customer_id = {default}: {POS_NAME} has no such "
                    "customer. Set it to an existing customer, or remove it.",
                    retryable=False,
                )
        except HeartlandCallError as error:
            raise error.while_doing(f"{POS_NAME} at {self.settings.base_url}") from None
        mode = "distributed and invoiced" if o.auto_invoice else "distributed" if o.distribute else "open"
        helper_text = ", ".join(f"{h.code} ({h.description})" for h in helpers.values())
        return (
            f"{POS_NAME} at {self.settings.base_url}: orders land as {mode} sales orders at "
            f"{locations[0].get('name', o.location_id)}, items by {o.sku_field}; helper items {helper_text}"
        )

    async def aclose(self) -> None:
        await self.client.aclose()
