"""The ledger's tables. Alembic migrations in ``migrations/`` create them; keep the two in step.

Every row belongs to a ``store`` (``"default"`` in single-store mode) so that one database can
hold many stores later. Unique constraints are the last line of defence against doubles: an order
can have one row per store, and one POS document can belong to one order only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class SettingsHistoryRow(Base):
    __tablename__ = "settings_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(64), index=True)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    settings_json: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(128))


class TrackedItem:
    """Columns shared by orders and credit memos: identity, the last decision, and failures."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(64))
    magento_entity_id: Mapped[int] = mapped_column(BigInteger)
    increment_id: Mapped[str] = mapped_column(String(64))
    grand_total: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The last decision of the rules, in merchant words.
    status: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)

    # Failures.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderRow(TrackedItem, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store", "magento_entity_id", name="uq_orders_store_entity"),
        UniqueConstraint("store", "pos_document_id", name="uq_orders_store_pos_document"),
        Index("ix_orders_store_status_retry", "store", "status", "next_retry_at"),
        Index("ix_orders_store_number", "store", "increment_id"),
    )

    magento_store_id: Mapped[int | None] = mapped_column(Integer)
    customer_email: Mapped[str | None] = mapped_column(String(255))
    magento_state: Mapped[str | None] = mapped_column(String(32))
    magento_status: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(32))  # the Order Download Mode it was judged by

    # Steps done.
    pos_document_id: Mapped[str | None] = mapped_column(String(128))
    pos_document_kind: Mapped[str | None] = mapped_column(String(32))
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invoice_required: Mapped[bool] = mapped_column(Boolean, default=False)
    invoice_id: Mapped[int | None] = mapped_column(BigInteger)
    invoiced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancellation_carried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # A person asked to send the order to the POS again (console or ``m2pos resend``); cleared when done.
    resend_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resend_requested_by: Mapped[str | None] = mapped_column(String(128))


class CreditMemoRow(TrackedItem, Base):
    __tablename__ = "credit_memos"
    __table_args__ = (
        UniqueConstraint("store", "magento_entity_id", name="uq_credit_memos_store_entity"),
        UniqueConstraint("store", "pos_return_id", name="uq_credit_memos_store_pos_return"),
        Index("ix_credit_memos_store_status_retry", "store", "status", "next_retry_at"),
    )

    order_entity_id: Mapped[int | None] = mapped_column(BigInteger)
    order_increment_id: Mapped[str | None] = mapped_column(String(64))

    # Step done.
    pos_return_id: Mapped[str | None] = mapped_column(String(128))
    carried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IntentRow(Base):
    """Written (and committed) before every external write; ``completed_at`` set after it.

    An intent left open by a crash tells recovery to look the document up before writing again.
    """

    __tablename__ = "intents"
    __table_args__ = (
        UniqueConstraint("store", "action", "subject_id", name="uq_intents_store_action_subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # pos_create, magento_invoice, pos_cancel, pos_return
    subject_id: Mapped[int] = mapped_column(BigInteger)  # the Magento entity_id it acts on
    reference: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventRow(Base):
    """The timeline of each order and credit memo (``m2pos explain``, the web console)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "store", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(16))  # order | credit_memo
    subject_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    step: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


class CursorRow(Base):
    __tablename__ = "cursors"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockRow(Base):
    """Magento's quantity of a SKU at a source as m2pos last saw or wrote it (the stock sync).

    It lets the sync push only what changed, and is the baseline against which a credit memo's
    effect on Magento's stock is read (docs/credit-memos.md).
    """

    __tablename__ = "stock"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(255), primary_key=True)
    magento_quantity: Mapped[str] = mapped_column(String(32))
    pos_quantity: Mapped[str | None] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockMovementRow(Base):
    """A change of Magento's quantity that m2pos did not make, seen between two stock syncs.

    Magento does not report whether a credit memo returned items to stock; its effect on the
    source quantity is the signal (docs/credit-memos.md).
    """

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_sku", "store", "source_code", "sku", "observed_to"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(64))
    source_code: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(255))
    delta: Mapped[str] = mapped_column(String(32))
    observed_from: Mapped[datetime] = mapped_column(UTCDateTime())  # the previous read
    observed_to: Mapped[datetime] = mapped_column(UTCDateTime())  # the read that saw the change


class MarkerRow(Base):
    """Small per-store facts: first run time, last reconciliation, last digest sent, last success."""

    __tablename__ = "markers"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)


__all__ = [
    "Base",
    "CreditMemoRow",
    "CursorRow",
    "EventRow",
    "IntentRow",
    "MarkerRow",
    "OrderRow",
    "SettingsHistoryRow",
    "StockMovementRow",
    "StockRow",
    "TrackedItem",
    "UTCDateTime",
]
