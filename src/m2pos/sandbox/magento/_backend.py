"""The sandbox's "Magento": repositories and services over the SQLite store.

Both the REST routes and the control interface call these methods, so a control action and the
equivalent REST call change the data the same way. Every write runs in one SQLite transaction under
the per-order mutex, so a concurrent second invoice for an order sees the first one and fails
validation, as with Magento's OrderMutex.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from m2pos.sandbox.magento._auth import AdminTokens
from m2pos.sandbox.magento._catalog import (
    DEFAULT_SOURCE,
    SECOND_SOURCE,
    Catalog,
    build_catalog,
    initial_source_items,
    product_document,
)
from m2pos.sandbox.magento._clock import Clock, format_magento
from m2pos.sandbox.magento._credentials import SandboxCredentials
from m2pos.sandbox.magento._datagen import OrderRequest, generate, place
from m2pos.sandbox.magento._errors import MagentoError, bad_request, no_such_entity
from m2pos.sandbox.magento._oauth import NonceStore
from m2pos.sandbox.magento._orders import StoreView, render_order
from m2pos.sandbox.magento._sales import Outcome, cancel, create_invoice, create_refund, hold, ship, unhold
from m2pos.sandbox.magento._search import (
    FieldMap,
    Limits,
    SearchCriteria,
    order_clause,
    page_for,
    where_clause,
)
from m2pos.sandbox.magento._store import (
    CREDITMEMOS,
    INVOICES,
    ORDER_COMMENTS,
    ORDERS,
    PRODUCTS,
    SOURCE_ITEMS,
    Doc,
    Entity,
    Store,
)

SOURCES = (DEFAULT_SOURCE, SECOND_SOURCE)
UPSERT_SOURCE_ITEM = (
    "INSERT INTO source_items (sku, source_code, quantity, status) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (sku, source_code) DO UPDATE SET quantity = excluded.quantity, status = excluded.status"
)
SEARCHABLE: dict[str, FieldMap] = {
    "orders": FieldMap(ORDERS),
    "invoices": FieldMap(INVOICES),
    "creditmemos": FieldMap(CREDITMEMOS),
    # EAV product collections reject unknown attributes with a LocalizedException (400) [inferred].
    "products": FieldMap(
        PRODUCTS, aliases={"entity_id": "id"}, unknown_field_error="Invalid attribute name: %1"
    ),
    "source_items": FieldMap(SOURCE_ITEMS),
}


@dataclass
class SandboxConfig:
    """Store configuration flags, settable at run time through the control interface."""

    allow_integration_bearer: bool = False  # oauth/consumer/enable_integration_as_bearer
    input_limits: bool = False  # webapi/validation/input_limit_enabled
    auto_return: bool = False  # cataloginventory/item_options/auto_return
    two_factor_auth: bool = True  # Magento_TwoFactorAuth enabled (the 2.4 default)
    https_redirect: bool = False  # the web server forces HTTPS
    oauth_encoded_slash_bug: bool = True  # magento2#37913: %2F in a path breaks OAuth signatures
    developer_mode: bool = False  # adds "trace" to error bodies

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def limits(self) -> Limits:
        return Limits(enabled=self.input_limits)


class Backend:
    def __init__(
        self,
        *,
        store: Store,
        credentials: SandboxCredentials,
        config: SandboxConfig,
        clock: Clock,
        views: list[StoreView],
        seed: int,
        signature_methods: tuple[str, ...],
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.config = config
        self.clock = clock
        self.views = views
        self.views_by_id = {v.store_id: v for v in views}
        self.views_by_code = {v.code: v for v in views}
        self.seed = seed
        self.signature_methods = signature_methods
        self.catalog: Catalog = build_catalog()
        self.nonces = NonceStore()
        self.admin_tokens = AdminTokens()

    # -- set-up ----------------------------------------------------------------------------------

    def populate(self, orders: int, anchor: datetime | None = None) -> bool:
        """Create the catalogue, stock and ``orders`` demo orders unless the store already has data."""
        if self.store.get_meta("populated"):
            return False
        anchor = anchor or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        created = format_magento(anchor.replace(year=anchor.year - 1))
        with self.store.transaction():
            self.store.insert_docs(
                PRODUCTS, (product_document(p, self.catalog, created) for p in self.catalog.products)
            )
            self.store.insert_docs(SOURCE_ITEMS, initial_source_items(self.catalog, random.Random(self.seed)))
        for batch in generate(orders, self.seed, self.catalog, self.views, anchor, self.store.next_id):
            with self.store.transaction():
                self.store.insert_docs(ORDERS, batch.orders)
                self.store.insert_docs(INVOICES, batch.invoices)
                self.store.insert_docs(CREDITMEMOS, batch.creditmemos)
                self.store.insert_docs(ORDER_COMMENTS, batch.histories)
        self.store.set_meta("populated", "1")
        return True

    # -- reads -----------------------------------------------------------------------------------

    def _histories(self, order_ids: list[int]) -> dict[int, list[Doc]]:
        out: dict[int, list[Doc]] = {i: [] for i in order_ids}
        if not order_ids:
            return out
        marks = ", ".join("?" * len(order_ids))
        rows = self.store.select_docs(
            ORDER_COMMENTS,
            f'"parent_id" IN ({marks})',
            order_ids,
            order='"created_at" DESC, "entity_id" DESC',
        )
        for row in rows:
            out[int(row["parent_id"])].append(row)
        return out

    def load_order(self, order_id: int) -> Doc:
        doc = self.store.get_doc(ORDERS, order_id)
        if doc is None:
            raise no_such_entity()
        return doc

    def get_order(self, order_id: int) -> Doc:
        doc = self.load_order(order_id)
        return render_order(doc, self._histories([order_id])[order_id])

    def get_document(self, ent: Entity, entity_id: int) -> Doc:
        doc = self.store.get_doc(ent, entity_id)
        if doc is None:
            raise no_such_entity()
        return doc

    def search(self, kind: str, criteria: SearchCriteria) -> dict[str, Any]:
        fields = SEARCHABLE[kind]
        where, params = where_clause(criteria, fields)
        order = order_clause(criteria, fields)
        with self.store.lock:  # count and page from the same snapshot
            total = self.store.count(fields.entity, where, params)
            page = page_for(criteria, total)
            items = self.store.select_docs(fields.entity, where, params, order, page.limit, page.offset)
        if kind == "orders":
            histories = self._histories([int(d["entity_id"]) for d in items])
            items = [render_order(d, histories[int(d["entity_id"])]) for d in items]
        return {"items": items, "search_criteria": criteria.echo(), "total_count": total}

    def order_comments(self, order_id: int) -> dict[str, Any]:
        items = self.store.select_docs(ORDER_COMMENTS, '"parent_id" = ?', [order_id], order='"entity_id" ASC')
        criteria = {
            "filter_groups": [
                {"filters": [{"field": "parent_id", "value": str(order_id), "condition_type": "eq"}]}
            ]
        }
        return {"items": items, "search_criteria": criteria, "total_count": len(items)}

    # -- order writes ----------------------------------------------------------------------------

    def _mutate(self, order_id: int, op: Callable[[Doc, str], Outcome | Any]) -> Any:
        with self.store.order_mutex(order_id), self.store.transaction():
            order = self.load_order(order_id)
            now = self.clock.magento_now()
            result = op(order, now)
            self.store.save_doc(ORDERS, order)
            if isinstance(result, Outcome):
                self._persist_outcome(order, result, now)
            return result

    def _persist_outcome(self, order: Doc, outcome: Outcome, now: str) -> None:
        if outcome.histories:
            self.store.insert_docs(ORDER_COMMENTS, outcome.histories)
        for order_item_id, sku, delta, reason in outcome.returns:
            self._change_stock(
                sku,
                DEFAULT_SOURCE,
                delta,
                now,
                reason,
                order_id=int(order["entity_id"]),
                order_item_id=order_item_id,
                creditmemo_id=int(outcome.document["entity_id"]) if outcome.document else None,
            )

    def invoice(self, order_id: int, body: dict[str, Any]) -> int:
        def op(order: Doc, now: str) -> Outcome:
            out = create_invoice(
                order,
                body.get("items"),
                capture=bool(body.get("capture")),
                notify=bool(body.get("notify")),
                append_comment=bool(body.get("append_comment")),
                comment=body.get("comment"),
                now=now,
                next_id=self.store.next_id,
            )
            assert out.document is not None
            self.store.insert_docs(INVOICES, [out.document])
            return out

        outcome: Outcome = self._mutate(order_id, op)
        assert outcome.document is not None
        return int(outcome.document["entity_id"])

    def refund(self, order_id: int, body: dict[str, Any]) -> int:
        def op(order: Doc, now: str) -> Outcome:
            out = create_refund(
                order,
                body.get("items"),
                body.get("arguments"),
                notify=bool(body.get("notify")),
                append_comment=bool(body.get("append_comment")),
                comment=body.get("comment"),
                now=now,
                next_id=self.store.next_id,
                auto_return=self.config.auto_return,
            )
            assert out.document is not None
            self.store.insert_docs(CREDITMEMOS, [out.document])
            return out

        outcome: Outcome = self._mutate(order_id, op)
        assert outcome.document is not None
        return int(outcome.document["entity_id"])

    def cancel(self, order_id: int) -> bool:
        return bool(self._mutate(order_id, cancel))

    def hold(self, order_id: int) -> bool:
        self._mutate(order_id, hold)
        return True

    def unhold(self, order_id: int) -> bool:
        self._mutate(order_id, unhold)
        return True

    def ship(self, order_id: int) -> bool:
        """Ship what is shippable; MSI deducts shipped quantities from the source at shipment."""

        def op(order: Doc, now: str) -> Outcome:
            before = {r["item_id"]: float(r.get("qty_shipped") or 0) for r in order["items"]}
            ship(order, now)
            out = Outcome()
            for row in order["items"]:
                shipped = float(row.get("qty_shipped") or 0) - before.get(row["item_id"], 0.0)
                if shipped > 0 and row["product_type"] in ("simple", "virtual"):
                    out.returns.append((row["item_id"], row["sku"], -shipped, "shipment"))
            return out

        self._mutate(order_id, op)
        return True

    def add_comment(self, order_id: int, history: dict[str, Any]) -> bool:
        """``OrderManagement::addComment``: the status is forced to the order's current status, and only
        the history table changes (so the order's ``updated_at`` does not move) [inferred]."""
        with self.store.transaction():
            order = self.load_order(order_id)
            entry = {
                "comment": str(history.get("comment") or ""),
                "created_at": self.clock.magento_now(),
                "entity_id": self.store.next_id("order_comment"),
                "entity_name": "order",
                "is_customer_notified": int(history.get("is_customer_notified") or 0),
                "is_visible_on_front": int(history.get("is_visible_on_front") or 0),
                "parent_id": order_id,
                "status": order.get("status"),
            }
            self.store.insert_docs(ORDER_COMMENTS, [entry])
        return True

    def place_order(self, req: OrderRequest) -> Doc:
        with self.store.transaction():
            order, invoices, histories = place(
                req, self.catalog, self.views_by_id, self.seed, self.clock.magento_now(), self.store.next_id
            )
            self.store.insert_docs(ORDERS, [order])
            self.store.insert_docs(INVOICES, invoices)
            self.store.insert_docs(ORDER_COMMENTS, histories)
        return self.get_order(int(order["entity_id"]))

    # -- inventory -------------------------------------------------------------------------------

    def _source_item(self, sku: str, source: str) -> Doc | None:
        rows = self.store.select_docs(SOURCE_ITEMS, '"sku" = ? AND "source_code" = ?', [sku, source])
        return rows[0] if rows else None

    def _set_source_item(
        self, sku: str, source: str, quantity: float, status: int, now: str, reason: str
    ) -> None:
        current = self._source_item(sku, source)
        before = float(current["quantity"]) if current else 0.0
        self.store.execute(UPSERT_SOURCE_ITEM, [sku, source, quantity, status])
        if quantity != before:
            self._movement(sku, source, quantity - before, quantity, now, reason)

    def _change_stock(
        self,
        sku: str,
        source: str,
        delta: float,
        now: str,
        reason: str,
        *,
        order_id: int | None = None,
        order_item_id: int | None = None,
        creditmemo_id: int | None = None,
    ) -> None:
        current = self._source_item(sku, source)
        after = (float(current["quantity"]) if current else 0.0) + delta
        status = 1 if after > 0 else int(current["status"]) if current else 0
        self.store.execute(UPSERT_SOURCE_ITEM, [sku, source, after, status])
        self._movement(sku, source, delta, after, now, reason, order_id, order_item_id, creditmemo_id)

    def _movement(
        self,
        sku: str,
        source: str,
        delta: float,
        after: float,
        now: str,
        reason: str,
        order_id: int | None = None,
        order_item_id: int | None = None,
        creditmemo_id: int | None = None,
    ) -> None:
        self.store.execute(
            "INSERT INTO stock_movements (created_at, sku, source_code, delta, quantity_after, reason,"
            " order_id, order_item_id, creditmemo_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [now, sku, source, delta, after, reason, order_id, order_item_id, creditmemo_id],
        )

    def save_source_items(self, items: list[dict[str, Any]]) -> None:
        """``SourceItemsSaveInterface::execute``: validate all, then upsert by (sku, source_code)."""
        errors = []
        for item in items:
            for name in ("sku", "source_code"):
                if not str(item.get(name) or "").strip():
                    errors.append({"message": '"%field" can not be empty.', "parameters": {"field": name}})
        if errors:
            raise MagentoError(400, "Validation Failed", errors=errors)
        if any(str(i["source_code"]) not in SOURCES for i in items):
            raise bad_request("Could not save Source Item")  # the source foreign key fails
        now = self.clock.magento_now()
        with self.store.transaction():
            for item in items:
                qty = float(item.get("quantity") or 0.0)
                raw_status = item.get("status")
                status = int(raw_status) if raw_status is not None else int(qty > 0)
                self._set_source_item(
                    str(item["sku"]), str(item["source_code"]), qty, status, now, "source_items_save"
                )

    def update_stock_item(self, sku: str, stock_item: dict[str, Any]) -> int:
        """``StockRegistry::updateStockItemBySku``: merged onto the default source; ``{itemId}`` unused."""
        product = self.catalog.by_sku.get(sku)
        if product is None:
            raise MagentoError(404, 'The Product with the "%1" SKU doesn\'t exist.', [sku])
        now = self.clock.magento_now()
        with self.store.transaction():
            current = self._source_item(sku, DEFAULT_SOURCE)
            qty = (
                float(stock_item["qty"])
                if stock_item.get("qty") is not None
                else float(current["quantity"] if current else 0)
            )
            in_stock = stock_item.get("is_in_stock")
            status = (
                int(bool(in_stock))
                if in_stock is not None
                else int(current["status"] if current else qty > 0)
            )
            self._set_source_item(sku, DEFAULT_SOURCE, qty, status, now, "stock_item_update")
        return product.id  # the legacy stock item id; one per product in this sandbox

    def get_stock_item(self, sku: str) -> Doc:
        """``StockRegistry::getStockItemBySku``: the legacy stock item of the default source."""
        product = self.catalog.by_sku.get(sku)
        if product is None:
            raise MagentoError(404, 'The Product with the "%1" SKU doesn\'t exist.', [sku])
        current = self._source_item(sku, DEFAULT_SOURCE)
        qty = float(current["quantity"]) if current else 0.0
        # Magento's defaults for the configuration-driven fields (Stores > Configuration > Inventory).
        return {
            "item_id": product.id,
            "product_id": product.id,
            "stock_id": 1,
            "qty": qty,
            "is_in_stock": bool(current and int(current["status"]) == 1),
            "is_qty_decimal": False,
            "show_default_notification_message": False,
            "use_config_min_qty": True,
            "min_qty": 0,
            "use_config_min_sale_qty": 1,
            "min_sale_qty": 1,
            "use_config_max_sale_qty": True,
            "max_sale_qty": 10000,
            "use_config_backorders": True,
            "backorders": 0,
            "use_config_notify_stock_qty": True,
            "notify_stock_qty": 1,
            "use_config_qty_increments": True,
            "qty_increments": 0,
            "use_config_enable_qty_inc": True,
            "enable_qty_increments": False,
            "use_config_manage_stock": True,
            "manage_stock": True,
            "low_stock_date": None,
            "is_decimal_divided": False,
            "stock_status_changed_auto": 0,
        }

    def store_views(self) -> list[Doc]:
        """``StoreRepository::getList``: the admin store (id 0) and every store view."""
        views = [
            {"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1}
        ]
        for view in self.views:
            views.append(
                {
                    "id": view.store_id,
                    "code": view.code,
                    "name": view.name,
                    "website_id": 1,
                    "store_group_id": 1,
                    "is_active": 1,
                }
            )
        return views

    def stock(self, sku: str | None = None) -> list[Doc]:
        where, params = ('"sku" = ?', [sku]) if sku else ("", [])
        return self.store.select_docs(SOURCE_ITEMS, where, params, order='"sku", "source_code"')

    def movements(self, sku: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT id, created_at, sku, source_code, delta, quantity_after, reason, order_id, order_item_id,"
        )
        sql += " creditmemo_id FROM stock_movements"
        params: list[Any] = []
        if sku:
            sql += " WHERE sku = ?"
            params.append(sku)
        cols = (
            "id",
            "created_at",
            "sku",
            "source_code",
            "delta",
            "quantity_after",
            "reason",
            "order_id",
            "order_item_id",
            "creditmemo_id",
        )
        return [dict(zip(cols, row, strict=True)) for row in self.store.execute(sql + " ORDER BY id", params)]
