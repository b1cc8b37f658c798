"""The Lightspeed OnSite adapter: the POS port over the OnSite Server API.

A Magento order becomes one OnSite document, an Invoice or an Order (``download_orders_as``):

1. the customer (``m2pos.pos.common.customers``: by e-mail, cached) and the products (by
   ``sku_field``, batched and cached) are looked up, the tax code is chosen;
2. ``POST /api/{orders|invoices}/`` with the customer, the reference (``web_order_number`` on
   Orders, ``import_id`` on both, ``po``) and the notes, whose last line says how many lines and
   deposits the complete document holds;
3. ``LOCK``, one ``POST …/lineitems/`` per line (reserving on Orders when asked), the deposit
   (``POST …/payments/``) on Orders when asked, ``UNLOCK``.

``find_document`` finds it by reference; a document a crash left half-made is not returned as done:
the next ``create_document`` resumes it (adds the missing lines and deposit). Cancellations void an
Order (its reservations go) and give an Invoice a return invoice; credit memos become return
invoices (``import_id`` ``CM-<memo>``), or, while the Order they belong to is still open, lower its
lines. See ``docs/pos/lightspeed_onsite.md``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from decimal import Decimal

import httpx

from m2pos.engine.ratelimit import RateLimiter
from m2pos.magento.models import CreditMemo, LineComponent, Order
from m2pos.pos.common.catalog import SkuResolver, unique
from m2pos.pos.common.customers import CustomerDetails, order_contact_name
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
    no_product_found_text,
    paid_online,
    plan_return,
    plan_sale,
    still_sold,
)
from m2pos.pos.lightspeed_onsite._catalog import OnSiteCatalog, OnSiteCustomers, OnSiteHelpers
from m2pos.pos.lightspeed_onsite._client import POS_NAME, OnSiteCallError, OnSiteClient, quote
from m2pos.pos.lightspeed_onsite._mapping import (
    DocumentInfo,
    DocumentSpec,
    OnSiteProduct,
    completeness_marker,
    document_body,
    expected_counts,
    line_body,
    payment_body,
    quantity_body,
    read_document,
    void_body,
)
from m2pos.pos.lightspeed_onsite._settings import OnSiteSettings, onsite_settings
from m2pos.pos.port import PosDocument, PosError, PosRejected
from m2pos.settings import PosSettings

log = logging.getLogger("m2pos.pos.lightspeed_onsite")

ZERO = Decimal(0)
_DOCUMENT_ID = re.compile(r"^(?:([OI])-)?(\d+)$")
RETURN = "return"


def _parse_id(document: PosDocument) -> tuple[str, int]:
    match = _DOCUMENT_ID.match(document.id.strip())
    if match is None:
        raise PosRejected(f"{document.id!r} is not a Lightspeed OnSite document id (O-7, I-7)")
    prefix, number = match.groups()
    if prefix:
        return ("order" if prefix == "O" else "invoice"), int(number)
    return ("order" if document.kind == "order" else "invoice"), int(number)


class LightspeedOnSite:
    kind = "lightspeed_onsite"

    def __init__(
        self,
        settings: OnSiteSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.options = settings.lightspeed_onsite
        self.client = OnSiteClient(settings, transport=transport, limiter=limiter, sleep=sleep)
        options = self.options
        self.catalog = OnSiteCatalog(self.client, options.sku_field, options.cache_seconds)
        self.products: SkuResolver[OnSiteProduct]
        self.products, self.customers = cached_lookups(
            self.catalog.products_by_sku,
            OnSiteCustomers(self.client),
            options,
            default_customer_id=options.default_customer_id,
            clock=clock,
        )
        self._helpers: dict[str, HelperRecord] | None = None
        self._helpers_lock = asyncio.Lock()
        self._partial: dict[tuple[str, str], DocumentInfo] = {}  # (kind, import id) → half-made document

    @classmethod
    def from_settings(cls, settings: PosSettings, limiter: RateLimiter | None = None) -> LightspeedOnSite:
        return cls(onsite_settings(settings), limiter=limiter)

    def __repr__(self) -> str:
        return f"LightspeedOnSite({self.settings.base_url!r}, {self.options.download_orders_as})"

    @property
    def document_kind(self) -> str:
        return self.options.download_orders_as

    # --- helpers and reference data ----------------------------------------------------------

    def helper_products(self) -> list[HelperProduct]:
        keys = {
            "no_product_found": "no_product_found_code",
            "shipping": "shipping_product_code",
            "refund": "refund_product_code",
        }
        if self.options.tax_mode == "line":
            keys["tax"] = "tax_product_code"
        return named_helpers(self.options, "pos.lightspeed_onsite", keys, taxable=["no_product_found"])

    async def _ensure_helpers(self, *, recheck: bool = False) -> dict[str, HelperRecord]:
        async with self._helpers_lock:
            if self._helpers is None or recheck:
                catalog = OnSiteHelpers(self.catalog)
                self._helpers = await ensure_helpers(catalog, self.helper_products(), POS_NAME)
            return self._helpers

    async def _tax_code(self, order: Order | None, reference: str) -> int:
        name = self.options.no_tax_code
        if order is not None and self.options.tax_mode == "tax_code_name" and order.tax_amount:
            titles = unique((t.title or t.code or "").strip() for t in order.applied_taxes)
            if len(titles) != 1:
                found = (
                    f"{len(titles)} tax identifiers ({', '.join(titles)})" if titles else "no tax identifier"
                )
                raise PosRejected(
                    f"Order {reference} has tax {order.tax_amount} but Magento sent {found}; a "
                    f"{POS_NAME} document carries one tax code. Set pos.lightspeed_onsite.tax_mode = "
                    '"line" to send the tax as one line, then retry.'
                )
            name = titles[0]
        found_id = await self.catalog.tax_code_id(name)
        if found_id is None:
            if name == self.options.no_tax_code:
                raise PosRejected(
                    f'{POS_NAME} has no tax code named "{name}" (pos.lightspeed_onsite.no_tax_code). '
                    "Create it (at 0 %) or set no_tax_code to the name of your zero-rate tax code."
                )
            raise PosRejected(
                f'{POS_NAME} has no tax code named "{name}", the Magento tax identifier of order '
                f"{reference}. Create a tax code with exactly that name in Lightspeed, or rename the "
                "Magento tax identifier to the Lightspeed name (a * in the name usually has to go), or "
                'set pos.lightspeed_onsite.tax_mode = "line"; then retry.'
            )
        return found_id

    # --- the port: documents -------------------------------------------------------------------

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        kind = self.document_kind
        try:
            return await self._create_document(order, reference, kind)
        except PosError as error:
            raise error.while_doing(f"{kind.capitalize()} for Magento order {reference}") from None

    async def _create_document(self, order: Order, reference: str, kind: str) -> PosDocument:
        helpers = await self._ensure_helpers()
        tax_code_id = await self._tax_code(order, reference)
        match = await self.customers.match(order)
        plan = await self._sale_plan(order, reserve=kind == "order" and self.options.reserve_order_inventory)
        deposit = paid_online(order) if kind == "order" and self.options.create_order_deposits else ZERO
        notes = order_notes(order, reference, unmatched=plan.unmatched, pos_name=POS_NAME)
        details = CustomerDetails.from_order(order)
        billing = order.billing_address
        spec = DocumentSpec(
            kind=kind,
            reference=reference,
            import_id=reference,
            customer_id=int(match.customer_id) if match.customer_id else None,
            mainname=match.name,
            email=details.email if details else "",
            phone=(billing.telephone or "") if billing else "",
            zip=(billing.postcode or "") if billing else "",
            internal_notes=f"{notes}\n{completeness_marker(len(plan.lines), 1 if deposit else 0)}",
            printed_notes=f"Web order #{reference}",
            shipping_method=order.shipping_description or order.shipping_method or "",
            tax_code_id=tax_code_id,
        )
        payment = order.payment
        document = await self._write(
            spec,
            plan,
            helpers,
            deposit=deposit,
            deposit_number=(payment.last_trans_id or "") if payment else "",
        )
        if plan.unmatched:
            log.warning(
                "order transferred with No Product Found lines",
                extra={
                    "order": reference,
                    "pos_document": document.display_id,
                    "skus": ", ".join(u.sku for u in plan.unmatched),
                },
            )
        return PosDocument(document.display_id, reference, kind)

    async def _sale_plan(self, order: Order, *, reserve: bool) -> Plan[OnSiteProduct]:
        products = await self.products.resolve(document_skus(order.lines()))
        return plan_sale(
            order, products, tax_mode=self._plan_tax_mode, reserve=reserve, weight=self._weight(products)
        )

    @property
    def _plan_tax_mode(self) -> TaxMode:
        return "line" if self.options.tax_mode == "line" else "pos"

    @staticmethod
    def _weight(products: dict[str, OnSiteProduct | None]) -> Callable[[LineComponent], Decimal]:
        def weight(component: LineComponent) -> Decimal:
            product = products.get(component.sku)
            return product.sell_price if product is not None and product.sell_price > 0 else Decimal(1)

        return weight

    async def _write(
        self,
        spec: DocumentSpec,
        plan: Plan[OnSiteProduct],
        helpers: dict[str, HelperRecord],
        *,
        deposit: Decimal = ZERO,
        deposit_number: str = "",
    ) -> DocumentInfo:
        """Create the document (or resume a half-made one found by ``find_*``), its lines, its deposit."""
        collection = f"{spec.kind}s"
        partial = self._partial.pop((spec.kind, spec.import_id), None)
        deposits = 1 if deposit > 0 else 0
        if partial is not None and not self._resumable(partial, plan, deposits, helpers):
            await self._void(partial)
            log.warning(
                "half-made document voided",
                extra={"pos_document": partial.display_id, "reference": spec.import_id},
            )
            partial = None
        document = partial or read_document(await self.client.post(f"{collection}/", document_body(spec)))
        done_lines, done_payments = len(document.lines), document.payments
        path = f"{collection}/{document.id}/"
        async with self.client.locked(path):
            for line in plan.lines[done_lines:]:
                product_id = self._line_product(line, helpers)
                reserve = line.reserve and line.product is not None and line.product.inventoried
                await self.client.post(f"{path}lineitems/", line_body(product_id, line, reserve=reserve))
            if deposit > 0 and done_payments == 0:
                await self.client.post(
                    f"{path}payments/",
                    payment_body(self.options.deposit_payment_method, deposit, deposit_number),
                )
        return document

    @staticmethod
    def _line_product(line: PlannedLine[OnSiteProduct], helpers: dict[str, HelperRecord]) -> int:
        if line.role == "product" and line.product is not None:
            return line.product.id
        return int(helpers[line.role].id)

    def _resumable(
        self,
        partial: DocumentInfo,
        plan: Plan[OnSiteProduct],
        deposits: int,
        helpers: dict[str, HelperRecord],
    ) -> bool:
        """Whether ``partial`` was meant to be what ``plan`` makes, and its lines are the plan's first."""
        if partial.voided or partial.posted or len(partial.lines) > len(plan.lines):
            return False
        if expected_counts(partial.internal_notes) != (len(plan.lines), deposits):
            return False
        for have, want in zip(partial.lines, plan.lines, strict=False):
            if have.product_id != self._line_product(want, helpers) or have.quantity != want.qty:
                return False
        return True

    async def _void(self, document: DocumentInfo) -> None:
        path = f"{document.kind}s/{document.id}/"
        async with self.client.locked(path):
            await self.client.put(path, void_body(document.kind))

    async def _get(self, kind: str, document_id: int) -> DocumentInfo:
        return read_document(await self.client.get(f"{kind}s/{document_id}/"))

    async def _find(self, kind: str, flt: str) -> list[DocumentInfo]:
        """Documents matching the filter, read in full (usually one)."""
        root = await self.client.get(f"{kind}s/", {"filter": flt})
        ids = sorted(int(node.get("id", "0")) for node in root if node.tag == kind)
        return [await self._get(kind, document_id) for document_id in ids]

    async def _find_by_reference(self, kind: str, import_id: str) -> DocumentInfo | None:
        """The complete, live document with this reference. A half-made one is remembered for the
        next write, which resumes it; a voided half-made one (voided by m2pos) is ignored."""
        field = "web_order_number" if kind == "order" else "import_id"
        found = await self._find(kind, f"{field} == {quote(import_id)}")
        complete = [d for d in found if d.complete]
        live = [d for d in complete if not d.voided] or complete
        if len(live) > 1:
            log.warning(
                "several POS documents carry one reference",
                extra={"reference": import_id, "pos_documents": ", ".join(d.display_id for d in live)},
            )
        if live:
            return live[0]
        half = [d for d in found if not d.voided]
        if half:
            self._partial[(kind, import_id)] = half[0]
        return None

    async def find_document(self, reference: str) -> PosDocument | None:
        preferred = self.document_kind
        other = "invoice" if preferred == "order" else "order"
        try:
            for kind in (preferred, other):
                document = await self._find_by_reference(kind, reference)
                if document is not None:
                    return PosDocument(document.display_id, reference, kind)
                if (kind, reference) in self._partial:
                    return None
        except PosError as error:
            raise error.while_doing(f"Looking for Magento order {reference} in {POS_NAME}") from None
        return None

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        try:
            await self._cancel(document, order)
        except PosError as error:
            raise error.while_doing(
                f"Cancelling Magento order {document.reference} ({document.id})"
            ) from None

    async def _cancel(self, document: PosDocument, order: Order) -> None:
        kind, document_id = _parse_id(document)
        current = await self._get(kind, document_id)
        if current.voided:
            return
        if kind == "order" and not current.converted:
            await self._void(current)
            return
        invoice = current if kind == "invoice" else await self._converted_invoice(document.reference)
        if invoice is None or invoice.voided:
            return
        import_id = f"CANCEL-{document.reference}"
        returns = await self._find("invoice", f"returned_invoice == {invoice.id}")
        mine = [r for r in returns if r.import_id == import_id]
        if any(r.complete for r in mine):
            return  # cancelled before
        half = next((r for r in mine if not r.voided), None)
        if half is not None:
            self._partial[("invoice", import_id)] = half
        # Quantities earlier returns (credit memos) already brought back are not returned twice.
        returned: dict[int | None, Decimal] = {}
        for earlier in returns:
            if earlier.voided or earlier.import_id == import_id:
                continue
            for line in earlier.lines:
                if line.quantity < 0:
                    returned[line.product_id] = returned.get(line.product_id, ZERO) - line.quantity
        planned: list[PlannedLine[OnSiteProduct]] = []
        for line in invoice.lines:
            already = min(returned.get(line.product_id, ZERO), max(line.quantity, ZERO))
            returned[line.product_id] = returned.get(line.product_id, ZERO) - already
            left = line.quantity - already
            if left > 0:
                product = OnSiteProduct(line.product_id or 0, "", inventoried=False)
                planned.append(
                    PlannedLine("product", -left, line.sell_price, product, line.description or None)
                )
        if not planned:
            return
        notes = return_notes(None, order, reason="cancelled in Magento", original=invoice.display_id)
        spec = DocumentSpec(
            kind="invoice",
            reference=document.reference,
            import_id=import_id,
            customer_id=invoice.customer_id,
            mainname=invoice.mainname or order_contact_name(order),
            internal_notes=f"{notes}\n{completeness_marker(len(planned), 0)}",
            printed_notes=f"Cancellation of web order #{document.reference}",
            tax_code_id=invoice.tax_code_id,
            returned_invoice_id=invoice.id,
        )
        await self._write(spec, Plan(tuple(planned)), await self._ensure_helpers())

    async def _converted_invoice(self, reference: str) -> DocumentInfo | None:
        """The invoice an Order with ``reference`` was converted into (the conversion keeps its
        ``import_id``)."""
        found = [
            d
            for d in await self._find("invoice", f"import_id == {quote(reference)}")
            if d.returned_invoice_id is None
        ]
        live = [d for d in found if not d.voided]
        candidates = live or found
        return candidates[0] if candidates else None

    # --- the port: returns ---------------------------------------------------------------------

    async def create_return(
        self,
        memo: CreditMemo,
        order: Order,
        original: PosDocument,
        reference: str,
        restock: frozenset[int],
    ) -> PosDocument:
        try:
            return await self._create_return(memo, order, original, reference, restock)
        except PosError as error:
            number = order.increment_id or original.reference
            raise error.while_doing(f"Return for Magento credit memo {reference} of order {number}") from None

    async def _create_return(
        self,
        memo: CreditMemo,
        order: Order,
        original: PosDocument,
        reference: str,
        restock: frozenset[int],
    ) -> PosDocument:
        kind, document_id = _parse_id(original)
        current = await self._get(kind, document_id)
        helpers = await self._ensure_helpers()
        if kind == "order" and not current.converted:
            return await self._reduce_open_order(current, memo, order, reference, helpers)
        invoice = current if kind == "invoice" else await self._converted_invoice(original.reference)
        if invoice is None:
            raise PosError(
                f"{POS_NAME} shows {current.display_id} as converted, but no invoice carries its "
                f"reference {original.reference}; m2pos retries later. If it persists, enter the return "
                "by hand in Lightspeed.",
                retryable=True,
            )
        products = await self.products.resolve(document_skus(memo.lines(order)))
        plan = plan_return(
            memo, order, products, restock, tax_mode=self._plan_tax_mode, weight=self._weight(products)
        )
        notes = return_notes(
            memo,
            order,
            reason="refunded in Magento",
            original=invoice.display_id,
            unmatched=plan.unmatched,
            pos_name=POS_NAME,
        )
        tax_code_id = invoice.tax_code_id
        if self.options.tax_mode == "line" or tax_code_id is None:
            tax_code_id = await self._tax_code(None, reference)
        spec = DocumentSpec(
            kind="invoice",
            reference=order.increment_id or original.reference,
            import_id=f"CM-{reference}",
            customer_id=invoice.customer_id,
            mainname=invoice.mainname or order_contact_name(order),
            internal_notes=f"{notes}\n{completeness_marker(len(plan.lines), 0)}",
            printed_notes=f"Refund of web order #{order.increment_id or original.reference}",
            tax_code_id=tax_code_id,
            returned_invoice_id=invoice.id,
        )
        document = await self._write(spec, plan, helpers)
        return PosDocument(document.display_id, reference, RETURN)

    async def _reduce_open_order(
        self,
        current: DocumentInfo,
        memo: CreditMemo,
        order: Order,
        reference: str,
        helpers: dict[str, HelperRecord],
    ) -> PosDocument:
        """A credit memo on an Order still open in OnSite: nothing left the shop, so instead of a
        return the Order keeps only what Magento did not refund (lower lines, reservations with
        them); with nothing left it is voided. Writes targets, not deltas, so doing it twice is
        harmless."""
        done = PosDocument(current.display_id, reference, "order")
        if current.voided:
            return done
        targets = await self._targets(order, memo, helpers)
        changes: list[tuple[int, Decimal]] = []  # (line id, new quantity; 0 = delete)
        for product_key, target in targets.items():
            lines = [
                (line.id, line.quantity)
                for line in current.lines
                if line.quantity > 0
                and self._line_key(line.product_id, line.description, helpers) == product_key
            ]
            changes += cuts_to_target(lines, target)
        if targets and all(v <= 0 for v in targets.values()):
            await self._void(current)
            return replace(done, kind="order_void")
        tax_mode = self._plan_tax_mode
        refund_line: PlannedLine[OnSiteProduct] | None = memo_refund_line(memo, reference, tax_mode=tax_mode)
        if refund_line is not None and any(
            line.description == refund_line.description for line in current.lines
        ):
            refund_line = None  # carried before
        if not changes and refund_line is None:
            return done
        path = f"orders/{current.id}/"
        async with self.client.locked(path):
            for line_id, quantity in changes:
                if quantity > 0:
                    await self.client.put(f"{path}lineitems/{line_id}/", quantity_body(quantity))
                else:
                    await self.client.delete(f"{path}lineitems/{line_id}/")
            if refund_line is not None:
                await self.client.post(
                    f"{path}lineitems/", line_body(int(helpers["refund"].id), refund_line, reserve=False)
                )
        return done

    def _line_key(self, product_id: int | None, description: str, helpers: dict[str, HelperRecord]) -> str:
        if product_id is not None and str(product_id) == helpers["no_product_found"].id:
            return f"npf:{description}"
        return f"id:{product_id}"

    async def _targets(
        self, order: Order, memo: CreditMemo, helpers: dict[str, HelperRecord]
    ) -> dict[str, Decimal]:
        """What Magento still sells of each product of the order, keyed as ``_line_key`` keys lines."""
        remaining = still_sold(order, memo)
        products = await self.products.resolve(sku for sku, _name, _qty in remaining)
        npf = int(helpers["no_product_found"].id)
        out: dict[str, Decimal] = {}
        for sku, name, left in remaining:
            product = products.get(sku)
            key = (
                f"id:{product.id}"
                if product is not None
                else self._line_key(npf, no_product_found_text(sku, name or None), helpers)
            )
            out[key] = out.get(key, ZERO) + left
        return out

    async def find_return(self, reference: str) -> PosDocument | None:
        try:
            document = await self._find_by_reference("invoice", f"CM-{reference}")
        except PosError as error:
            raise error.while_doing(f"Looking for the return of credit memo {reference}") from None
        return PosDocument(document.display_id, reference, RETURN) if document is not None else None

    # --- the port: stock, check, close ---------------------------------------------------------

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """On hand minus reserved, for the SKUs that are inventoried OnSite products."""
        try:
            products = await self.products.resolve(skus)
            ids = {
                sku: p.id
                for sku, p in products.items()
                if p is not None and p.inventoried and not p.master_model
            }
            levels = await self.catalog.inventory(list(ids.values()))
        except PosError as error:
            raise error.while_doing(f"Reading stock from {POS_NAME}") from None
        return {sku: levels[pid][0] - levels[pid][1] for sku, pid in ids.items() if pid in levels}

    async def check(self) -> str:
        o = self.options
        try:
            await self.client.get("")
            helpers = await self._ensure_helpers(recheck=True)
            await self._tax_code(None, "")
            problems = []
            deposits = o.download_orders_as == "order" and o.create_order_deposits
            if deposits and not await self.catalog.payment_method_exists(o.deposit_payment_method):
                problems.append(
                    f'{POS_NAME} has no payment method named "{o.deposit_payment_method}" for deposits. '
                    "Create it in Lightspeed, or set pos.lightspeed_onsite.deposit_payment_method to "
                    "an existing one."
                )
            if o.default_customer_id is not None and not await self.catalog.customer_exists(
                o.default_customer_id
            ):
                problems.append(
                    f"pos.lightspeed_onsite.default_customer_id = {o.default_customer_id}: {POS_NAME} has "
                    "no such customer. Set it to the id of the customer that takes orders without an "
                    "e-mail, or remove it (such orders then go to a walk-in)."
                )
            if problems:
                raise PosError(" ".join(problems), retryable=False)
        except OnSiteCallError as error:
            raise error.while_doing(f"{POS_NAME} at {self.settings.base_url}") from None
        extras = []
        if o.download_orders_as == "order":
            extras += ["reserving stock"] if o.reserve_order_inventory else []
            extras += [f'deposits as "{o.deposit_payment_method}"'] if o.create_order_deposits else []
        helper_text = ", ".join(f"{h.code} ({h.description})" for h in helpers.values())
        return (
            f"{POS_NAME} at {self.settings.base_url}: orders land as {o.download_orders_as}s"
            + (f" ({', '.join(extras)})" if extras else "")
            + f", products by {o.sku_field}; helper products {helper_text}"
        )

    async def aclose(self) -> None:
        await self.client.aclose()
