"""SQLite storage of the OnSite sandbox: customers, products and their inventory, orders and invoices
(one ``documents`` table, ``kind`` = ``order``/``invoice``, ids counted per kind like ``O-71``/``I-2``),
their line items and payments, tax codes, payment methods and a log of stock movements.

Filters compile to SQL over real columns (see ``_filter``), so a lookup by ``web_order_number`` or
``code`` is an indexed query even with many thousands of documents. Sessions and locks are not stored
here: like a real server's, they are lost when the sandbox restarts.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from m2pos.sandbox.onsite._filter import register_functions

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, first TEXT, last TEXT, company TEXT, email TEXT, phone TEXT, mobile TEXT,
    merged_to INTEGER, datetime_created TEXT, datetime_modified TEXT, extra TEXT);
CREATE INDEX IF NOT EXISTS ix_customers_email ON customers (email);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY, code TEXT, upc TEXT, manufacturer_sku TEXT, description TEXT,
    long_description TEXT, sell_price REAL, cost REAL, inventoried INTEGER, editable_sell INTEGER,
    master_model INTEGER, current INTEGER, web INTEGER, taxable INTEGER,
    datetime_created TEXT, datetime_modified TEXT);
CREATE INDEX IF NOT EXISTS ix_products_code ON products (code);
CREATE INDEX IF NOT EXISTS ix_products_upc ON products (upc);
CREATE INDEX IF NOT EXISTS ix_products_manufacturer_sku ON products (manufacturer_sku);
CREATE TABLE IF NOT EXISTS inventory (
    product_id INTEGER PRIMARY KEY, total REAL, reserved REAL, coming_for_stock REAL,
    coming_for_customer REAL, warehouses REAL, in_transit REAL, datetime_modified TEXT);
CREATE TABLE IF NOT EXISTS documents (
    pk INTEGER PRIMARY KEY, kind TEXT NOT NULL, id INTEGER NOT NULL, customer_id INTEGER,
    mainname TEXT, web_order_number TEXT, import_id TEXT, po TEXT, status TEXT,
    voided INTEGER DEFAULT 0, posted INTEGER DEFAULT 0, returned_invoice_id INTEGER,
    converted_id INTEGER, tax_code_id INTEGER, shipping_method TEXT,
    datetime_created TEXT, datetime_modified TEXT, extra TEXT, UNIQUE (kind, id));
CREATE INDEX IF NOT EXISTS ix_documents_web_order_number ON documents (kind, web_order_number);
CREATE INDEX IF NOT EXISTS ix_documents_import_id ON documents (kind, import_id);
CREATE INDEX IF NOT EXISTS ix_documents_po ON documents (kind, po);
CREATE TABLE IF NOT EXISTS lineitems (
    id INTEGER PRIMARY KEY, kind TEXT, doc_id INTEGER, product_id INTEGER, quantity REAL,
    sell_price REAL, base_price REAL, cost REAL, reserved REAL DEFAULT 0, description TEXT,
    code TEXT, taxable INTEGER, datetime_created TEXT, datetime_modified TEXT);
CREATE INDEX IF NOT EXISTS ix_lineitems_doc ON lineitems (kind, doc_id);
CREATE TABLE IF NOT EXISTS payments (
    id INTEGER PRIMARY KEY, kind TEXT, doc_id INTEGER, payment_method TEXT, type TEXT,
    amount REAL, tendered REAL, number TEXT, authcode TEXT, voided INTEGER DEFAULT 0,
    datetime_created TEXT, datetime_modified TEXT);
CREATE INDEX IF NOT EXISTS ix_payments_doc ON payments (kind, doc_id);
CREATE TABLE IF NOT EXISTS tax_codes (id INTEGER PRIMARY KEY, name TEXT, rate REAL);
CREATE TABLE IF NOT EXISTS payment_methods (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS stock_movements (
    id INTEGER PRIMARY KEY, datetime TEXT, product_id INTEGER, field TEXT, delta REAL,
    after REAL, reason TEXT, kind TEXT, doc_id INTEGER, lineitem_id INTEGER, note TEXT);
CREATE INDEX IF NOT EXISTS ix_stock_movements_product ON stock_movements (product_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

Row = dict[str, Any]


class Store:
    """One SQLite connection shared by the server's worker threads, serialised by a re-entrant lock.

    Every API write runs inside ``transaction()``, so a request's changes (a line and the stock it
    reserves, say) commit together or not at all.
    """

    def __init__(self, db_path: Path | str | None = None) -> None:
        target = str(db_path) if db_path is not None else ":memory:"
        self.conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        register_functions(self.conn)
        self.conn.execute("PRAGMA synchronous=OFF")  # a sandbox: speed over durability
        if db_path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
        with self.lock:
            self.conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self.conn.in_transaction:  # nested use joins the outer transaction
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self.lock:
            row = self.conn.execute(sql, tuple(params)).fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, tuple(params)).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, tuple(params)).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write; returns the last row id."""
        with self.lock:
            cur = self.conn.execute(sql, tuple(params))
            return int(cur.lastrowid or 0)

    def insert(self, table: str, row: Row) -> int:
        cols = ", ".join(row)
        marks = ", ".join("?" * len(row))
        return self.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))  # noqa: S608

    def update(self, table: str, key: str, key_value: Any, changes: Row) -> None:
        if not changes:
            return
        sets = ", ".join(f"{c} = ?" for c in changes)
        self.execute(
            f"UPDATE {table} SET {sets} WHERE {key} = ?",  # noqa: S608
            [*changes.values(), key_value],
        )

    def get_meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        with self.lock:
            self.conn.close()
