"""The ledger: what m2pos has seen, decided and done, for every order and credit memo.

Each method is one short transaction. The engine writes an *intent* before every external write
(POS document, Magento invoice, cancellation, return) and completes it in the same transaction
that records the result, so a crash between the two leaves an open intent: recovery then looks
the document up by its reference before writing again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from m2pos.ledger.tables import (
    CreditMemoRow,
    CursorRow,
    EventRow,
    IntentRow,
    MarkerRow,
    OrderRow,
    SettingsHistoryRow,
    StockMovementRow,
    StockRow,
    TrackedItem,
)
from m2pos.magento.models import CreditMemo, Order
from m2pos.rules import Decision, RuleSettings, SettingsChange, Verdict

MIGRATIONS = Path(__file__).with_name("migrations")

Tracked = TypeVar("Tracked", OrderRow, CreditMemoRow)
_KIND: dict[type[TrackedItem], str] = {OrderRow: "order", CreditMemoRow: "credit_memo"}


class OrderStatus:
    """Where an order stands, in the words the CLI and the console show."""

    WAITING = "waiting"  # may qualify later (unpaid, not invoiced)
    SKIPPED = "skipped"  # does not qualify under the settings
    PENDING = "pending"  # qualifies; the transfer is under way
    TRANSFERRED = "transferred"  # in the POS, every step done
    FAILED = "failed"  # an attempt failed; retried with backoff
    NEEDS_ATTENTION = "needs_attention"  # attempts exhausted; a person must look

    ALL = (WAITING, SKIPPED, PENDING, TRANSFERRED, FAILED, NEEDS_ATTENTION)


_STATUS_OF_DECISION = {
    Decision.WAIT: OrderStatus.WAITING,
    Decision.SKIP: OrderStatus.SKIPPED,
    Decision.DOWNLOAD: OrderStatus.PENDING,
    Decision.CANCEL: OrderStatus.PENDING,
    Decision.DONE: OrderStatus.TRANSFERRED,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_ledger_engine(database_url: str) -> Engine:
    url = _sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            # WAL lets `m2pos web` read while `m2pos run` writes; NORMAL is durable with WAL.
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _use_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a new SQLite file to WAL (it stays so). The switch does not wait for a lock held by
    another process that is creating the schema at the same moment: try again for a few seconds."""
    for attempt in range(attempts):
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _sqlalchemy_url(database_url: str) -> str:
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url


# PostgreSQL advisory lock key held while migrating ("m2pos" in ASCII).
_MIGRATION_LOCK_KEY = 0x6D32706F73


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, and safe from several processes)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        _lock_for_migration(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _lock_for_migration(connection: Connection) -> None:
    """Hold the database's write lock for the whole migration, until the transaction ends.

    ``m2pos run`` and ``m2pos web`` (or several workers) started at once on a new database would
    otherwise both find no schema and both create it; the second waits here, then finds it done.
    pysqlite runs DDL outside any transaction of its own, so the SQLite lock is taken explicitly.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")


class Ledger:
    def __init__(self, engine: Engine, store: str = "default") -> None:
        self.engine = engine
        self.store = store
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str, store: str = "default") -> Ledger:
        engine = create_ledger_engine(database_url)
        migrate(engine)
        return cls(engine, store)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # --- settings history -------------------------------------------------------------------

    def record_settings(self, settings: RuleSettings, changed_by: str, at: datetime | None = None) -> bool:
        """Append ``settings`` when they differ from the latest entry; True when appended."""
        encoded = _encode_settings(settings)
        with self._session() as session:
            latest = session.scalars(
                select(SettingsHistoryRow)
                .where(SettingsHistoryRow.store == self.store)
                .order_by(SettingsHistoryRow.effective_from.desc(), SettingsHistoryRow.id.desc())
                .limit(1)
            ).first()
            if latest is not None and latest.settings_json == encoded:
                return False
            # Magento stamps orders in whole seconds: an order stamped in the second of the change
            # is judged by the new settings.
            session.add(
                SettingsHistoryRow(
                    store=self.store,
                    effective_from=(at or utcnow()).replace(microsecond=0),
                    settings_json=encoded,
                    changed_by=changed_by,
                )
            )
            return True

    def settings_history(self) -> list[SettingsChange]:
        with self._session() as session:
            rows = session.scalars(
                select(SettingsHistoryRow)
                .where(SettingsHistoryRow.store == self.store)
                .order_by(SettingsHistoryRow.effective_from, SettingsHistoryRow.id)
            ).all()
            return [SettingsChange(row.effective_from, _decode_settings(row.settings_json)) for row in rows]

    def settings_changes(self) -> list[SettingsHistoryRow]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(SettingsHistoryRow)
                    .where(SettingsHistoryRow.store == self.store)
                    .order_by(SettingsHistoryRow.effective_from, SettingsHistoryRow.id)
                ).all()
            )

    # --- markers and cursors -------------------------------------------------------------------

    def marker(self, name: str) -> MarkerRow | None:
        with self._session() as session:
            return session.get(MarkerRow, (self.store, name))

    def set_marker(self, name: str, at: datetime, detail: str | None = None) -> None:
        with self._session() as session:
            row = session.get(MarkerRow, (self.store, name))
            if row is None:
                session.add(MarkerRow(store=self.store, name=name, at=at, detail=detail))
            else:
                row.at, row.detail = at, detail

    def set_marker_once(self, name: str, at: datetime) -> datetime:
        """Set ``name`` unless it is set; return its value (e.g. the first run time)."""
        existing = self.marker(name)
        if existing is not None:
            return existing.at
        self.set_marker(name, at)
        return at

    def cursor(self, stream: str) -> datetime | None:
        with self._session() as session:
            row = session.get(CursorRow, (self.store, stream))
            return row.value if row else None

    def set_cursor(self, stream: str, value: datetime) -> None:
        with self._session() as session:
            row = session.get(CursorRow, (self.store, stream))
            if row is None:
                session.add(CursorRow(store=self.store, stream=stream, value=value, updated_at=utcnow()))
            else:
                row.value, row.updated_at = value, utcnow()

    # --- orders --------------------------------------------------------------------------------

    def observe_order(self, order: Order, now: datetime | None = None) -> OrderRow:
        """Create or refresh the order's row from what Magento says now."""
        now = now or utcnow()
        entity_id = _require_id(order.entity_id, "order")
        with self._session() as session:
            row = self._find(session, OrderRow, entity_id)
            if row is None:
                row = OrderRow(
                    store=self.store,
                    magento_entity_id=entity_id,
                    status=OrderStatus.WAITING,
                    attempts=0,
                    invoice_required=False,
                    first_seen_at=now,
                )
                session.add(row)
                self._event(
                    session, "order", entity_id, "seen", f"state={order.state}, status={order.status}", now
                )
            row.increment_id = order.increment_id or str(entity_id)
            row.magento_store_id = order.store_id
            row.customer_email = order.customer_email
            row.magento_state = order.state
            row.magento_status = order.status
            row.grand_total = str(order.grand_total)
            row.created_at = order.created_at
            row.updated_at = order.updated_at
            row.last_seen_at = now
            session.flush()
            return row

    def observe_unreadable_order(
        self, entity_id: int, number: str | None, now: datetime | None = None
    ) -> OrderRow:
        """Keep a row for an order Magento sent in a form m2pos cannot read (so it can be retried)."""
        return self._observe_unreadable(OrderRow, entity_id, number, now or utcnow())

    def order(self, entity_id: int) -> OrderRow | None:
        with self._session() as session:
            return self._find(session, OrderRow, entity_id)

    def orders_by_number(self, increment_id: str) -> list[OrderRow]:
        return self._by_number(OrderRow, increment_id)

    def record_order_decision(
        self, entity_id: int, verdict: Verdict, now: datetime | None = None
    ) -> OrderRow:
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            status = _STATUS_OF_DECISION[verdict.decision]
            if verdict.decision == Decision.DONE and row.invoice_required and row.invoice_id is None:
                status = OrderStatus.PENDING  # in the POS; the Magento invoice is left to do
            self._apply_decision(session, row, verdict, status, now or utcnow())
            if verdict.mode is not None and row.mode is None and verdict.decision == Decision.DOWNLOAD:
                row.mode = verdict.mode
            return row

    def mark_transferred(
        self,
        entity_id: int,
        document_id: str,
        document_kind: str,
        invoice_required: bool,
        now: datetime | None = None,
    ) -> OrderRow:
        """Record the POS document; the unique constraint refuses a second document for any order."""
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            row.pos_document_id, row.pos_document_kind, row.transferred_at = document_id, document_kind, now
            row.invoice_required = invoice_required
            # A document created again (a resend) keeps the Magento invoice made the first time.
            invoice_due = invoice_required and row.invoice_id is None
            row.status = OrderStatus.PENDING if invoice_due else OrderStatus.TRANSFERRED
            row.attempts, row.last_error, row.next_retry_at = 0, None, None
            self._complete_intent(session, "pos_create", entity_id, now)
            self._event(session, "order", entity_id, "transferred", f"POS {document_kind} {document_id}", now)
            return row

    def mark_invoiced(self, entity_id: int, invoice_id: int, now: datetime | None = None) -> OrderRow:
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            row.invoice_id, row.invoiced_at = invoice_id, now
            row.status = OrderStatus.TRANSFERRED
            row.attempts, row.last_error, row.next_retry_at = 0, None, None
            self._complete_intent(session, "magento_invoice", entity_id, now)
            self._event(session, "order", entity_id, "invoiced", f"Magento invoice {invoice_id}", now)
            return row

    def mark_cancellation_carried(self, entity_id: int, now: datetime | None = None) -> OrderRow:
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            row.cancellation_carried_at = now
            row.invoice_required = False  # a cancelled order is not invoiced any more
            row.status = OrderStatus.TRANSFERRED
            row.attempts, row.last_error, row.next_retry_at = 0, None, None
            self._complete_intent(session, "pos_cancel", entity_id, now)
            if row.invoice_id is None:
                # The invoice step is dropped with the cancellation; an intent a crash left open for it
                # is settled too (Magento cannot cancel an order m2pos invoiced, so none exists).
                self._complete_intent(session, "magento_invoice", entity_id, now)
            self._event(session, "order", entity_id, "cancellation_carried", "cancelled in the POS", now)
            return row

    def record_order_failure(
        self, entity_id: int, error: str, next_retry_at: datetime | None, now: datetime | None = None
    ) -> OrderRow:
        """Count a failed attempt; ``next_retry_at=None`` marks the order "needs attention"."""
        return self._record_failure(OrderRow, entity_id, error, next_retry_at, now or utcnow())

    def reset_order_for_retry(
        self, entity_id: int, now: datetime | None = None, requested_by: str | None = None
    ) -> OrderRow:
        """A person asked for a retry: due now, attempts start again."""
        return self._reset_for_retry(OrderRow, entity_id, now or utcnow(), requested_by)

    def request_resend(self, entity_id: int, requested_by: str, now: datetime | None = None) -> OrderRow:
        """A person asked to send the order to the POS again; the next cycle does it.

        An order waiting for its retry time after a failed attempt is made due now: a person asked.
        """
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            row.resend_requested_at, row.resend_requested_by = now, requested_by
            if row.next_retry_at is not None and row.next_retry_at > now:
                row.next_retry_at = now
            self._event(
                session, "order", entity_id, "resend_requested", f"resend requested by {requested_by}", now
            )
            return row

    def resends_due(self, now: datetime | None = None, limit: int = 500) -> list[int]:
        """Orders a person asked to resend, except those waiting for their retry time after a failed
        attempt (a POS that is down is not asked again every cycle)."""
        now = now or utcnow()
        with self._session() as session:
            rows = session.scalars(
                select(OrderRow.magento_entity_id)
                .where(
                    OrderRow.store == self.store,
                    OrderRow.resend_requested_at.is_not(None),
                    or_(OrderRow.next_retry_at.is_(None), OrderRow.next_retry_at <= now),
                )
                .order_by(OrderRow.resend_requested_at)
                .limit(limit)
            ).all()
            return list(rows)

    def close_resend(self, entity_id: int, outcome: str, now: datetime | None = None) -> OrderRow:
        """The resend was carried out (or refused): ``outcome`` says what happened, for the timeline."""
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            row.resend_requested_at = row.resend_requested_by = None
            self._event(session, "order", entity_id, "resend", outcome, now)
            return row

    def forget_pos_document(self, entity_id: int, why: str, now: datetime | None = None) -> OrderRow:
        """The POS no longer has the order's document (staff deleted it): it may be created again.
        The Magento invoice, if any, stays recorded: it is not made twice."""
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, OrderRow, entity_id)
            gone = f"POS {row.pos_document_kind} {row.pos_document_id} is gone: {why}"
            row.pos_document_id = row.pos_document_kind = None
            row.transferred_at = None
            self._event(session, "order", entity_id, "pos_document_gone", gone, now)
            return row

    def orders_due(self, now: datetime, limit: int = 500) -> list[int]:
        """Orders to look at again now: failed ones whose retry time came, and unfinished transfers."""
        with self._session() as session:
            rows = session.scalars(
                select(OrderRow.magento_entity_id)
                .where(
                    OrderRow.store == self.store,
                    ((OrderRow.status == OrderStatus.FAILED) & (OrderRow.next_retry_at <= now))
                    | (OrderRow.status == OrderStatus.PENDING),
                )
                .order_by(OrderRow.magento_entity_id)
                .limit(limit)
            ).all()
            return list(rows)

    def list_orders(self, status: str | None = None, limit: int = 100, offset: int = 0) -> list[OrderRow]:
        return self._list(OrderRow, status, limit, offset)

    def order_counts(self) -> dict[str, int]:
        return self._counts(OrderRow)

    def count_reason_since(self, reason: str, since: datetime) -> int:
        with self._session() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(OrderRow)
                    .where(
                        OrderRow.store == self.store,
                        OrderRow.reason == reason,
                        OrderRow.last_seen_at >= since,
                    )
                )
                or 0
            )

    def orders_by_ids(self, entity_ids: Sequence[int]) -> list[OrderRow]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(OrderRow).where(
                        OrderRow.store == self.store, OrderRow.magento_entity_id.in_(list(entity_ids))
                    )
                ).all()
            )

    # --- credit memos ---------------------------------------------------------------------------

    def observe_credit_memo(
        self, memo: CreditMemo, order_number: str | None, now: datetime | None = None
    ) -> CreditMemoRow:
        now = now or utcnow()
        entity_id = _require_id(memo.entity_id, "credit memo")
        with self._session() as session:
            row = self._find(session, CreditMemoRow, entity_id)
            if row is None:
                row = CreditMemoRow(
                    store=self.store,
                    magento_entity_id=entity_id,
                    status=OrderStatus.WAITING,
                    attempts=0,
                    first_seen_at=now,
                )
                session.add(row)
                self._event(session, "credit_memo", entity_id, "seen", f"order {order_number}", now)
            row.increment_id = memo.increment_id or str(entity_id)
            row.order_entity_id = memo.order_id
            if order_number is not None:
                row.order_increment_id = order_number
            row.grand_total = str(memo.grand_total)
            row.created_at = memo.created_at
            row.updated_at = memo.updated_at
            row.last_seen_at = now
            session.flush()
            return row

    def observe_unreadable_credit_memo(
        self, entity_id: int, number: str | None, now: datetime | None = None
    ) -> CreditMemoRow:
        return self._observe_unreadable(CreditMemoRow, entity_id, number, now or utcnow())

    def credit_memo(self, entity_id: int) -> CreditMemoRow | None:
        with self._session() as session:
            return self._find(session, CreditMemoRow, entity_id)

    def credit_memos_by_number(self, increment_id: str) -> list[CreditMemoRow]:
        return self._by_number(CreditMemoRow, increment_id)

    def credit_memos_of_order(self, order_entity_id: int) -> list[CreditMemoRow]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(CreditMemoRow).where(
                        CreditMemoRow.store == self.store, CreditMemoRow.order_entity_id == order_entity_id
                    )
                ).all()
            )

    def record_credit_memo_decision(
        self, entity_id: int, verdict: Verdict, now: datetime | None = None
    ) -> CreditMemoRow:
        with self._session() as session:
            row = self._require(session, CreditMemoRow, entity_id)
            self._apply_decision(
                session, row, verdict, _STATUS_OF_DECISION[verdict.decision], now or utcnow()
            )
            return row

    def mark_credit_memo_carried(
        self, entity_id: int, return_id: str, now: datetime | None = None
    ) -> CreditMemoRow:
        now = now or utcnow()
        with self._session() as session:
            row = self._require(session, CreditMemoRow, entity_id)
            row.pos_return_id, row.carried_at, row.status = return_id, now, OrderStatus.TRANSFERRED
            row.attempts, row.last_error, row.next_retry_at = 0, None, None
            self._complete_intent(session, "pos_return", entity_id, now)
            self._event(session, "credit_memo", entity_id, "carried", f"POS return {return_id}", now)
            return row

    def record_credit_memo_failure(
        self, entity_id: int, error: str, next_retry_at: datetime | None, now: datetime | None = None
    ) -> CreditMemoRow:
        return self._record_failure(CreditMemoRow, entity_id, error, next_retry_at, now or utcnow())

    def reset_credit_memo_for_retry(
        self, entity_id: int, now: datetime | None = None, requested_by: str | None = None
    ) -> CreditMemoRow:
        return self._reset_for_retry(CreditMemoRow, entity_id, now or utcnow(), requested_by)

    def credit_memos_due(self, now: datetime, limit: int = 500) -> list[int]:
        """Failed credit memos due again, and those waiting for their order."""
        with self._session() as session:
            rows = session.scalars(
                select(CreditMemoRow.magento_entity_id)
                .where(
                    CreditMemoRow.store == self.store,
                    ((CreditMemoRow.status == OrderStatus.FAILED) & (CreditMemoRow.next_retry_at <= now))
                    | (CreditMemoRow.status.in_([OrderStatus.PENDING, OrderStatus.WAITING])),
                )
                .order_by(CreditMemoRow.magento_entity_id)
                .limit(limit)
            ).all()
            return list(rows)

    def list_credit_memos(
        self, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[CreditMemoRow]:
        return self._list(CreditMemoRow, status, limit, offset)

    def credit_memo_counts(self) -> dict[str, int]:
        return self._counts(CreditMemoRow)

    # --- stock --------------------------------------------------------------------------------------

    def stock_rows(self, source_code: str) -> dict[str, StockRow]:
        with self._session() as session:
            rows = session.scalars(
                select(StockRow).where(StockRow.store == self.store, StockRow.source_code == source_code)
            ).all()
            return {row.sku: row for row in rows}

    def record_stock(
        self,
        source_code: str,
        seen: dict[str, Decimal],
        written: dict[str, Decimal],
        now: datetime,
    ) -> list[StockMovementRow]:
        """Store what Magento showed (``seen``) and what m2pos wrote (``written``) for each SKU.

        A SKU whose Magento quantity differs from what m2pos recorded last time moved in Magento
        (a shipment, a credit memo, an edit): the movement is kept, then the value m2pos wrote
        becomes the new baseline. Returns the movements found.
        """
        movements: list[StockMovementRow] = []
        with self._session() as session:
            known = {
                row.sku: row
                for row in session.scalars(
                    select(StockRow).where(StockRow.store == self.store, StockRow.source_code == source_code)
                ).all()
            }
            for sku in seen.keys() | written.keys():
                quantity = seen.get(sku)
                row = known.get(sku)
                after = written.get(sku, quantity)
                assert after is not None
                if row is None:
                    session.add(
                        StockRow(
                            store=self.store,
                            source_code=source_code,
                            sku=sku,
                            magento_quantity=str(after),
                            pos_quantity=str(written[sku]) if sku in written else None,
                            seen_at=now,
                        )
                    )
                    continue
                delta = Decimal(0) if quantity is None else quantity - Decimal(row.magento_quantity)
                if delta != 0:
                    movement = StockMovementRow(
                        store=self.store,
                        source_code=source_code,
                        sku=sku,
                        delta=str(delta),
                        observed_from=row.seen_at,
                        observed_to=now,
                    )
                    session.add(movement)
                    movements.append(movement)
                row.magento_quantity = str(after)
                if sku in written:
                    row.pos_quantity = str(written[sku])
                row.seen_at = now
        return movements

    def stock_movements(self, source_code: str, sku: str, since: datetime) -> list[StockMovementRow]:
        """Movements of ``sku`` seen by reads after ``since`` (their window ends after it)."""
        with self._session() as session:
            return list(
                session.scalars(
                    select(StockMovementRow)
                    .where(
                        StockMovementRow.store == self.store,
                        StockMovementRow.source_code == source_code,
                        StockMovementRow.sku == sku,
                        StockMovementRow.observed_to >= since,
                    )
                    .order_by(StockMovementRow.id)
                ).all()
            )

    def last_stock_read(self, source_code: str) -> datetime | None:
        marker = self.marker(f"stock_read:{source_code}")
        return marker.at if marker else None

    # --- intents and events ---------------------------------------------------------------------

    def start_intent(self, action: str, subject_id: int, reference: str, now: datetime | None = None) -> bool:
        """Record that ``action`` on ``subject_id`` is about to happen; True if an earlier one is open.

        An open earlier intent means a previous attempt may have reached the other system: the
        caller must look the document up by ``reference`` before writing again.
        """
        now = now or utcnow()
        with self._session() as session:
            row = session.scalars(
                select(IntentRow).where(
                    IntentRow.store == self.store,
                    IntentRow.action == action,
                    IntentRow.subject_id == subject_id,
                )
            ).first()
            if row is None:
                session.add(
                    IntentRow(
                        store=self.store,
                        action=action,
                        subject_id=subject_id,
                        reference=reference,
                        started_at=now,
                    )
                )
                return False
            earlier_open = row.completed_at is None
            row.attempts += 1
            row.started_at, row.completed_at, row.reference = now, None, reference
            return earlier_open

    def intent_open(self, action: str, subject_id: int) -> bool:
        with self._session() as session:
            row = session.scalars(
                select(IntentRow).where(
                    IntentRow.store == self.store,
                    IntentRow.action == action,
                    IntentRow.subject_id == subject_id,
                )
            ).first()
            return row is not None and row.completed_at is None

    def close_intent(self, action: str, subject_id: int, now: datetime | None = None) -> None:
        """The write was found not to have happened and is no longer wanted (the order changed)."""
        with self._session() as session:
            self._complete_intent(session, action, subject_id, now or utcnow())

    def open_intents(self) -> list[IntentRow]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(IntentRow).where(IntentRow.store == self.store, IntentRow.completed_at.is_(None))
                ).all()
            )

    def add_event(
        self, subject_kind: str, subject_id: int, step: str, detail: str, now: datetime | None = None
    ) -> None:
        with self._session() as session:
            self._event(session, subject_kind, subject_id, step, detail, now or utcnow())

    def events(self, subject_kind: str, subject_id: int) -> list[EventRow]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(EventRow)
                    .where(
                        EventRow.store == self.store,
                        EventRow.subject_kind == subject_kind,
                        EventRow.subject_id == subject_id,
                    )
                    .order_by(EventRow.id)
                ).all()
            )

    def problems(self) -> tuple[list[OrderRow], list[CreditMemoRow]]:
        """Everything failed or needing attention (the notification digest)."""
        bad = (OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION)
        with self._session() as session:
            orders = session.scalars(
                select(OrderRow)
                .where(OrderRow.store == self.store, OrderRow.status.in_(bad))
                .order_by(OrderRow.id)
            ).all()
            memos = session.scalars(
                select(CreditMemoRow)
                .where(CreditMemoRow.store == self.store, CreditMemoRow.status.in_(bad))
                .order_by(CreditMemoRow.id)
            ).all()
            return list(orders), list(memos)

    # --- private -------------------------------------------------------------------------------

    def _find(self, session: Session, table: type[Tracked], entity_id: int) -> Tracked | None:
        return session.scalars(
            select(table).where(table.store == self.store, table.magento_entity_id == entity_id)
        ).first()

    def _require(self, session: Session, table: type[Tracked], entity_id: int) -> Tracked:
        row = self._find(session, table, entity_id)
        if row is None:
            raise LookupError(f"{_KIND[table].replace('_', ' ')} {entity_id} is not in the ledger")
        return row

    def _observe_unreadable(
        self, table: type[Tracked], entity_id: int, number: str | None, now: datetime
    ) -> Tracked:
        with self._session() as session:
            row = self._find(session, table, entity_id)
            if row is None:
                row = table(
                    store=self.store,
                    magento_entity_id=entity_id,
                    increment_id=number or str(entity_id),
                    status=OrderStatus.WAITING,
                    attempts=0,
                    first_seen_at=now,
                )
                session.add(row)
            row.last_seen_at = now
            session.flush()
            return row

    def _apply_decision(
        self, session: Session, row: TrackedItem, verdict: Verdict, status: str, now: datetime
    ) -> None:
        """Record the rules' verdict; a failing item keeps its retry schedule while it is still wanted."""
        failing = row.status in (OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION)
        if failing and status == OrderStatus.PENDING:
            status = row.status
        changed = (row.reason, row.status) != (verdict.reason.value, status)
        row.decision, row.reason, row.message = verdict.decision.value, verdict.reason.value, verdict.message
        row.status = status
        if changed:
            kind = _KIND[type(row)]
            self._event(
                session,
                kind,
                row.magento_entity_id,
                f"decided:{verdict.decision.value}",
                verdict.message,
                now,
            )

    def _record_failure(
        self, table: type[Tracked], entity_id: int, error: str, next_retry_at: datetime | None, now: datetime
    ) -> Tracked:
        with self._session() as session:
            row = self._require(session, table, entity_id)
            row.attempts += 1
            row.last_error = error
            row.next_retry_at = next_retry_at
            row.status = OrderStatus.FAILED if next_retry_at is not None else OrderStatus.NEEDS_ATTENTION
            self._event(session, _KIND[table], entity_id, row.status, error, now)
            return row

    def _reset_for_retry(
        self, table: type[Tracked], entity_id: int, now: datetime, requested_by: str | None
    ) -> Tracked:
        with self._session() as session:
            row = self._require(session, table, entity_id)
            row.attempts, row.next_retry_at = 0, now
            if row.status == OrderStatus.NEEDS_ATTENTION:
                row.status = OrderStatus.FAILED
            detail = f"retry requested by {requested_by}" if requested_by else "retry requested"
            self._event(session, _KIND[table], entity_id, "retry_requested", detail, now)
            return row

    def _by_number(self, table: type[Tracked], increment_id: str) -> list[Tracked]:
        with self._session() as session:
            query = select(table).where(table.store == self.store, table.increment_id == increment_id)
            return list(session.scalars(query).all())

    def _list(self, table: type[Tracked], status: str | None, limit: int, offset: int) -> list[Tracked]:
        with self._session() as session:
            query = select(table).where(table.store == self.store)
            if status is not None:
                query = query.where(table.status == status)
            query = query.order_by(table.magento_entity_id.desc()).limit(limit).offset(offset)
            return list(session.scalars(query).all())

    def _counts(self, table: type[Tracked]) -> dict[str, int]:
        with self._session() as session:
            rows = session.execute(
                select(table.status, func.count()).where(table.store == self.store).group_by(table.status)
            ).all()
            return {status: count for status, count in rows}

    def _complete_intent(self, session: Session, action: str, subject_id: int, now: datetime) -> None:
        session.execute(
            update(IntentRow)
            .where(
                IntentRow.store == self.store, IntentRow.action == action, IntentRow.subject_id == subject_id
            )
            .values(completed_at=now)
        )

    def _event(
        self, session: Session, kind: str, subject_id: int, step: str, detail: str, now: datetime
    ) -> None:
        session.add(
            EventRow(
                store=self.store, subject_kind=kind, subject_id=subject_id, at=now, step=step, detail=detail
            )
        )


def _require_id(entity_id: int | None, what: str) -> int:
    if entity_id is None:
        raise ValueError(f"a Magento {what} without entity_id cannot be recorded")
    return entity_id


def _encode_settings(settings: RuleSettings) -> str:
    data = asdict(settings)
    data["start_date"] = settings.start_date.isoformat() if settings.start_date else None
    return json.dumps(data, sort_keys=True)


def _decode_settings(text: str) -> RuleSettings:
    data = json.loads(text)
    start = data.get("start_date")
    store_ids = data.get("store_ids")
    return RuleSettings(
        download_orders=data["download_orders"],
        download_credit_memos=data["download_credit_memos"],
        mode=data["mode"],
        paid_methods=tuple(data.get("paid_methods") or ()),
        store_ids=tuple(store_ids) if store_ids is not None else None,
        start_date=datetime.fromisoformat(start) if start else None,
    )
