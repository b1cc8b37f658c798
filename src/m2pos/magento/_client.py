"""The Magento 2 REST client: reads, writes, and the idempotency guards of non-idempotent writes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, overload

import httpx

from m2pos import __version__
from m2pos.magento._auth import BearerToken
from m2pos.magento._errors import MagentoBadRequestError, MagentoInvalidResponseError
from m2pos.magento._http import Requester
from m2pos.magento._lenient import InvalidDocument, OnInvalid, lenient
from m2pos.magento._paginate import Paginator
from m2pos.magento._retry import RetryPolicy
from m2pos.magento._search import KeyStyle, SearchCriteria
from m2pos.magento._urls import rest_base, segment
from m2pos.magento.models import (
    CreditMemo,
    Invoice,
    Order,
    Product,
    SourceItem,
    StatusHistory,
    StockItem,
    json_number,
)

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # order pages are heavy (domain notes §10.16)
MAX_SOURCE_ITEMS_PER_CALL = 20  # "Maximum items of type …" when input limits are on (§8)

# Answers to an invoice POST that mean "this order has nothing left to invoice".
_NOTHING_TO_INVOICE = re.compile(
    r"does not allow an invoice to be created|invoice cannot be created when an order has a status of",
    re.IGNORECASE,
)


def _as_int(value: Any, route: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MagentoInvalidResponseError(
            f"expected an id from Magento, got {value!r}", route=route
        ) from None


def _lenient_mode(on_invalid: str) -> bool:
    if on_invalid not in ("raise", "yield"):
        raise ValueError(f"on_invalid must be 'raise' or 'yield', not {on_invalid!r}")
    return on_invalid == "yield"


class MagentoClient:
    """Async client for ``{base_url}/rest/{store_code}/V1``; use as ``async with``.

    ``transport`` replaces httpx's network transport (an ``httpx.ASGITransport`` around the sandbox,
    an ``httpx.MockTransport`` in tests, or a recording wrapper): every request goes through it.
    ``search_key_style`` picks the documented snake_case (``filter_groups``) or the schema's
    camelCase (``filterGroups``) spelling of search parameters; Magento accepts both.
    """

    def __init__(
        self,
        base_url: str,
        *,
        store_code: str = "default",
        auth: httpx.Auth | None,
        page_size: int = 100,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        search_key_style: KeyStyle = "snake",
    ) -> None:
        SearchCriteria(page_size=page_size)  # refuse a page size Magento would refuse
        self.base_url = base_url.rstrip("/")
        self.store_code = store_code
        self.auth = auth
        self.page_size = page_size
        self.retry = retry or RetryPolicy()
        self.search_key_style: KeyStyle = search_key_style
        self._http = httpx.AsyncClient(
            auth=auth,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect means a wrong URL; following it would hide that
            headers={"Accept": "application/json", "User-Agent": f"m2pos/{__version__}"},
        )
        self._requester = Requester(
            self._http,
            base_url=self.base_url,
            store_code=store_code,
            retry=self.retry,
            using_bearer=isinstance(auth, BearerToken),
        )

    @property
    def rest_base(self) -> str:
        return rest_base(self.base_url, self.store_code)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"MagentoClient({self.rest_base!r}, auth={self.auth!r})"

    # -- low level ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        idempotent: bool,
    ) -> Any:
        """Any route under ``/V1`` (``path`` starts with ``/``, already segment-encoded).

        Pass ``idempotent=False`` for writes that must not be repeated: they are then retried only
        after failures that prove nothing was applied.
        """
        return await self._requester.call(method, path, params=params, json=json, idempotent=idempotent)

    def _paginate(
        self,
        path: str,
        parse: Callable[[dict[str, Any]], T],
        criteria: SearchCriteria | None,
        *,
        fields: str | None,
        key_fields: Sequence[str] = ("entity_id",),
        sort_fields: Sequence[str] | None = None,
    ) -> Paginator[T]:
        async def fetch(params: list[tuple[str, str]]) -> Any:
            return await self._requester.call("GET", path, params=params, idempotent=True)

        return Paginator(
            fetch,
            parse,
            criteria=criteria,
            key_fields=key_fields,
            sort_fields=sort_fields,
            page_size=self.page_size,
            fields=fields,
            key_style=self.search_key_style,
        )

    # -- orders ---------------------------------------------------------------------------------

    @overload
    def orders(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        on_invalid: Literal["raise"] = "raise",
    ) -> Paginator[Order]: ...

    @overload
    def orders(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        on_invalid: Literal["yield"],
    ) -> Paginator[Order | InvalidDocument]: ...

    def orders(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        on_invalid: OnInvalid = "raise",
    ) -> Paginator[Order] | Paginator[Order | InvalidDocument]:
        """Stream orders matching ``criteria`` (all orders when None), by ``entity_id`` ascending.

        An order that does not parse raises pydantic's ``ValidationError`` and ends the stream; with
        ``on_invalid="yield"`` it comes as an :class:`InvalidDocument` in its place instead, and
        the orders after it still arrive.
        """
        if _lenient_mode(on_invalid):
            return self._paginate("/orders", lenient(Order.model_validate, "order"), criteria, fields=fields)
        return self._paginate("/orders", Order.model_validate, criteria, fields=fields)

    async def get_order(self, order_id: int) -> Order:
        return Order.model_validate(
            await self._requester.call("GET", f"/orders/{segment(order_id)}", idempotent=True)
        )

    async def order_comments(self, order_id: int) -> list[StatusHistory]:
        body = await self._requester.call("GET", f"/orders/{segment(order_id)}/comments", idempotent=True)
        items = body.get("items") if isinstance(body, dict) else None
        return [StatusHistory.model_validate(c) for c in items or ()]

    # -- invoices -------------------------------------------------------------------------------

    def invoices(
        self, criteria: SearchCriteria | None = None, *, fields: str | None = None
    ) -> Paginator[Invoice]:
        return self._paginate("/invoices", Invoice.model_validate, criteria, fields=fields)

    async def invoices_for_order(self, order_id: int) -> list[Invoice]:
        return await self.invoices(SearchCriteria().where("order_id", "eq", order_id)).to_list()

    async def get_invoice(self, invoice_id: int) -> Invoice:
        return Invoice.model_validate(
            await self._requester.call("GET", f"/invoices/{segment(invoice_id)}", idempotent=True)
        )

    # -- credit memos ---------------------------------------------------------------------------

    @overload
    def credit_memos(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        on_invalid: Literal["raise"] = "raise",
    ) -> Paginator[CreditMemo]: ...

    @overload
    def credit_memos(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        on_invalid: Literal["yield"],
    ) -> Paginator[CreditMemo | InvalidDocument]: ...

    def credit_memos(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        on_invalid: OnInvalid = "raise",
    ) -> Paginator[CreditMemo] | Paginator[CreditMemo | InvalidDocument]:
        """Stream credit memos by ``entity_id`` ascending; ``on_invalid`` as for :meth:`orders`."""
        if _lenient_mode(on_invalid):
            parse = lenient(CreditMemo.model_validate, "credit memo")
            return self._paginate("/creditmemos", parse, criteria, fields=fields)
        return self._paginate("/creditmemos", CreditMemo.model_validate, criteria, fields=fields)

    async def credit_memos_for_order(self, order_id: int) -> list[CreditMemo]:
        return await self.credit_memos(SearchCriteria().where("order_id", "eq", order_id)).to_list()

    async def get_credit_memo(self, credit_memo_id: int) -> CreditMemo:
        # Singular "creditmemo" for one, plural "creditmemos" for the list (domain notes §7).
        return CreditMemo.model_validate(
            await self._requester.call("GET", f"/creditmemo/{segment(credit_memo_id)}", idempotent=True)
        )

    # -- catalog and stock ----------------------------------------------------------------------

    def products(
        self, criteria: SearchCriteria | None = None, *, fields: str | None = None
    ) -> Paginator[Product]:
        """Products are keyed ``id`` in responses but sorted by their ``entity_id`` column."""
        return self._paginate(
            "/products",
            Product.model_validate,
            criteria,
            fields=fields,
            key_fields=("id",),
            sort_fields=("entity_id",),
        )

    def source_items(self, criteria: SearchCriteria | None = None) -> Paginator[SourceItem]:
        """MSI source items; they have no entity_id, so (sku, source_code) is the key."""
        return self._paginate(
            "/inventory/source-items",
            SourceItem.model_validate,
            criteria,
            fields=None,
            key_fields=("sku", "source_code"),
        )

    async def save_source_items(
        self, items: Iterable[SourceItem], *, chunk_size: int = MAX_SOURCE_ITEMS_PER_CALL
    ) -> int:
        """Upsert physical quantities per (sku, source), ``chunk_size`` (≤ 20) per call; returns calls made.

        An upsert is idempotent, so each chunk retries freely. Chunks already sent stay applied if
        a later one fails: re-sending everything is safe.
        """
        if not 1 <= chunk_size <= MAX_SOURCE_ITEMS_PER_CALL:
            raise ValueError(
                f"chunk_size must be 1–{MAX_SOURCE_ITEMS_PER_CALL}: Magento refuses more items per call "
                "when its web API input limits are on"
            )
        calls = 0
        chunk: list[dict[str, Any]] = []
        for item in items:
            chunk.append(item.to_api())
            if len(chunk) == chunk_size:
                await self._post_source_items(chunk)
                calls += 1
                chunk = []
        if chunk:
            await self._post_source_items(chunk)
            calls += 1
        return calls

    async def _post_source_items(self, chunk: list[dict[str, Any]]) -> None:
        await self._requester.call(
            "POST", "/inventory/source-items", json={"sourceItems": chunk}, idempotent=True
        )

    async def get_stock_item(self, sku: str) -> StockItem:
        return StockItem.model_validate(await self._stock_item_raw(sku))

    async def _stock_item_raw(self, sku: str) -> dict[str, Any]:
        body = await self._requester.call("GET", f"/stockItems/{segment(sku)}", idempotent=True)
        if not isinstance(body, dict):
            raise MagentoInvalidResponseError(
                f"expected a stock item, got {body!r}", route="GET /V1/stockItems"
            )
        return body

    async def update_stock_item(
        self, sku: str, qty: Decimal | int | float, is_in_stock: bool, *, item_id: int = 1
    ) -> int:
        """Legacy single-source stock update (``PUT /V1/products/{sku}/stockItems/{itemId}``).

        Prefer :meth:`save_source_items`: this route only reaches the default source, and a SKU with
        ``/`` (sent as ``%2F``) breaks OAuth signatures on Magento (magento#37913). Only ``qty`` and
        ``is_in_stock`` are sent: Magento merges them onto the existing stock item
        (``StockRegistry::updateStockItemBySku`` loads it and ``addData``), so the merchant's other
        stock settings stay as they are, although the schema lists every field as required.
        Magento ignores ``{itemId}``; ``item_id`` only fills the path. Returns the stock item id.
        """
        path = f"/products/{segment(sku)}/stockItems/{segment(item_id)}"
        body = {"stockItem": {"qty": json_number(qty), "is_in_stock": is_in_stock}}
        result = await self._requester.call("PUT", path, json=body, idempotent=True)
        return _as_int(result, f"PUT /V1{path}")

    # -- non-idempotent writes, each with its guard ----------------------------------------------

    async def create_invoice(
        self,
        order_id: int,
        capture: bool,
        notify: bool = False,
        comment: str | None = None,
        *,
        known_uninvoiced: bool = False,
    ) -> int:
        """Invoice everything still invoiceable on the order; returns the invoice id. Idempotent.

        ``capture=True`` captures online through the payment gateway (real money); offline methods
        are marked paid either way. ``comment`` is stored on the invoice and e-mailed only when
        ``notify``.

        Exactly-once: the order's invoices are read first. After a timeout, a dropped connection or a
        5xx, they are read again before any retry, and an invoice that appeared meanwhile is
        returned instead of creating a second one. A 400 saying the order has nothing left to
        invoice is success when the order is fully invoiced (an earlier call did it).

        ``known_uninvoiced``: the caller has just read the order with no invoice and no earlier
        attempt of its own can have made one, so the first read is skipped (half the requests of an
        auto-invoiced order); every invoice found after an ambiguous failure is then a new one.
        """
        body: dict[str, Any] = {"capture": capture, "notify": notify}
        if comment:
            body["appendComment"] = notify
            body["comment"] = {"comment": comment, "is_visible_on_front": 0}
        path = f"/order/{segment(order_id)}/invoice"
        before = set() if known_uninvoiced else {i.entity_id for i in await self.invoices_for_order(order_id)}

        async def created_meanwhile() -> int | None:
            new = [
                i.entity_id
                for i in await self.invoices_for_order(order_id)
                if i.entity_id is not None and i.entity_id not in before
            ]
            return max(new) if new else None

        try:
            result = await self._requester.call(
                "POST", path, json=body, idempotent=False, guard=created_meanwhile
            )
        except MagentoBadRequestError as exc:
            if not _NOTHING_TO_INVOICE.search(exc.magento_message):
                raise
            existing = await self._fully_invoiced(order_id)
            if existing is None:
                raise
            return existing
        return _as_int(result, f"POST /V1{path}")

    async def _fully_invoiced(self, order_id: int) -> int | None:
        """The latest invoice id when the order has invoices and nothing left to invoice."""
        ids = [i.entity_id for i in await self.invoices_for_order(order_id) if i.entity_id is not None]
        if not ids:
            return None
        order = await self.get_order(order_id)
        return None if order.has_items_to_invoice else max(ids)

    async def add_order_comment(
        self,
        order_id: int,
        comment: str,
        status: str | None = None,
        is_customer_notified: bool = False,
        is_visible_on_front: bool = False,
    ) -> bool:
        """Add a comment to the order's history (``status`` also sets the order status). Idempotent.

        Like invoices, the comments are read first and re-read after an ambiguous failure; a new
        comment with the same text means the first attempt landed, and it is not posted again.
        """
        history: dict[str, Any] = {
            "comment": comment,
            "is_customer_notified": int(is_customer_notified),
            "is_visible_on_front": int(is_visible_on_front),
            "parent_id": order_id,
        }
        if status is not None:
            history["status"] = status
        before = {c.entity_id for c in await self.order_comments(order_id)}

        async def posted_meanwhile() -> bool | None:
            for c in await self.order_comments(order_id):
                if c.entity_id not in before and c.comment == comment:
                    return True
            return None

        result = await self._requester.call(
            "POST",
            f"/orders/{segment(order_id)}/comments",
            json={"statusHistory": history},
            idempotent=False,
            guard=posted_meanwhile,
        )
        return bool(result)
