"""SQLite storage: one table per entity, a real column per top-level scalar field, the rest as a blob.

Magento keeps orders in flat SQL tables, so paging and counting here are SQL too: ``total_count`` is a
``COUNT(*)`` over the filters and a page is ``LIMIT/OFFSET``. Nested parts of a document (items,
addresses, payment, extension attributes) are kept as zlib-compressed JSON because nothing searches
inside them (Magento only filters on top-level attributes), which keeps 100,000 orders small in memory.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from m2pos.sandbox.magento._entities import (
    CREDITMEMO_FIELDS,
    INVOICE_FIELDS,
    ORDER_COMMENT_FIELDS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    SOURCE_ITEM_FIELDS,
    FieldType,
)

Doc = dict[str, Any]

# SQL text here is assembled only from the fixed table/column names below and from WHERE/ORDER clauses
# that ``_search`` builds from validated column names; every value is a bound parameter.

_SQL_TYPES: dict[FieldType, str] = {"I": "INTEGER", "N": "REAL", "S": "TEXT"}


@dataclass(frozen=True)
class Entity:
    table: str
    fields: tuple[tuple[str, FieldType], ...]
    key: str
    nested: bool
    indexes: tuple[str, ...] = ()
    types: dict[str, FieldType] = field(init=False, compare=False)
    names: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", dict(self.fields))
        object.__setattr__(self, "names", tuple(n for n, _ in self.fields))


ORDERS = Entity(
    "orders",
    ORDER_FIELDS,
    "entity_id",
    nested=True,
    indexes=("increment_id", "created_at", "updated_at", "state", "status", "store_id", "customer_email"),
)
INVOICES = Entity("invoices", INVOICE_FIELDS, "entity_id", nested=True, indexes=("order_id", "updated_at"))
CREDITMEMOS = Entity(
    "creditmemos", CREDITMEMO_FIELDS, "entity_id", nested=True, indexes=("order_id", "updated_at")
)
PRODUCTS = Entity("products", PRODUCT_FIELDS, "id", nested=True, indexes=("sku", "type_id", "updated_at"))
SOURCE_ITEMS = Entity("source_items", SOURCE_ITEM_FIELDS, "source_item_id", nested=False, indexes=("sku",))
ORDER_COMMENTS = Entity(
    "order_comments", ORDER_COMMENT_FIELDS, "entity_id", nested=False, indexes=("parent_id",)
)
ENTITIES = (ORDERS, INVOICES, CREDITMEMOS, PRODUCTS, SOURCE_ITEMS, ORDER_COMMENTS)


def _find_in_set(needle: Any, haystack: Any) -> int | None:
    """MySQL FIND_IN_SET: 1-based position of ``needle`` in a comma list, 0 when absent, NULL on NULL."""
    if needle is None or haystack is None:
        return None
    parts = str(haystack).split(",")
    try:
        return parts.index(str(needle)) + 1
    except ValueError:
        return 0


def mysql_number(value: Any) -> float:
    """MySQL's string-to-number cast: the leading numeric prefix, else 0."""
    if isinstance(value, int | float):
        return float(value)
    match = re.match(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", str(value))
    return float(match.group(0)) if match else 0.0


class Store:
    """One SQLite connection shared by the server's worker threads, serialised by a re-entrant lock."""

    def __init__(self, db_path: Path | str | None = None) -> None:
        target = str(db_path) if db_path is not None else ":memory:"
        self.conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self._seq: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._mutex_guard = threading.Lock()
        self._mutexes: dict[int, threading.Lock] = {}
        self.conn.create_function("find_in_set", 2, _find_in_set, deterministic=True)
        self.conn.create_function("mysql_number", 1, mysql_number, deterministic=True)
        # A sandbox can lose data on a crash; speed matters more than durability here.
        self.conn.execute("PRAGMA synchronous=OFF")
        if db_path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self._create_schema()
        for name, value in self.conn.execute("SELECT name, value FROM sequences"):
            self._seq[name] = value

    # -- schema ----------------------------------------------------------------------------------

    def _create_schema(self) -> None:
        with self.lock:
            for ent in ENTITIES:
                cols = [f'"{n}" {_SQL_TYPES[k]}' for n, k in ent.fields if n != ent.key]
                key_type = "INTEGER PRIMARY KEY"
                cols.insert(0, f'"{ent.key}" {key_type}')
                if ent.nested:
                    cols.append("nested BLOB")
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {ent.table} ({', '.join(cols)})")
                for col in ent.indexes:
                    self.conn.execute(
                        f'CREATE INDEX IF NOT EXISTS ix_{ent.table}_{col} ON {ent.table} ("{col}")'
                    )
            self.conn.execute(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_source_items ON source_items (sku, source_code)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS stock_movements (id INTEGER PRIMARY KEY, created_at TEXT,"
                " sku TEXT, source_code TEXT, delta REAL, quantity_after REAL, reason TEXT,"
                " order_id INTEGER, order_item_id INTEGER, creditmemo_id INTEGER)"
            )
            self.conn.execute("CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")

    # -- transactions, ids, locks ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self.conn.in_transaction:  # nested use joins the outer transaction
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self._flush_sequences()
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._reload_sequences()
                raise

    def next_id(self, name: str) -> int:
        with self.lock:
            value = self._seq.get(name, 0) + 1
            self._seq[name] = value
            self._dirty.add(name)
            return value

    def peek_id(self, name: str) -> int:
        with self.lock:
            return self._seq.get(name, 0)

    def _flush_sequences(self) -> None:
        if self._dirty:
            self.conn.executemany(
                "INSERT OR REPLACE INTO sequences (name, value) VALUES (?, ?)",
                [(n, self._seq[n]) for n in self._dirty],
            )
            self._dirty.clear()

    def _reload_sequences(self) -> None:
        self._seq = dict(self.conn.execute("SELECT name, value FROM sequences").fetchall())
        self._dirty.clear()

    @contextmanager
    def order_mutex(self, order_id: int) -> Iterator[None]:
        """Per-order lock, like Magento's OrderMutex around invoice creation."""
        with self._mutex_guard:
            mutex = self._mutexes.setdefault(order_id, threading.Lock())
        with mutex:
            yield

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- documents -------------------------------------------------------------------------------

    @staticmethod
    def _encode(ent: Entity, doc: Doc) -> tuple[Any, ...]:
        # Column affinity does the type conversion (INTEGER/REAL/TEXT), as a typed MySQL column would.
        values = [doc.get(name) for name in ent.names]
        if ent.nested:
            nested = {k: v for k, v in doc.items() if k not in ent.types}
            values.append(zlib.compress(orjson.dumps(nested), 1))
        return tuple(values)

    @staticmethod
    def _decode(ent: Entity, row: Sequence[Any]) -> Doc:
        doc: Doc = {n: v for n, v in zip(ent.names, row, strict=False) if v is not None}
        if ent.nested and row[-1] is not None:
            doc.update(orjson.loads(zlib.decompress(row[-1])))
        return doc

    def _columns(self, ent: Entity) -> str:
        cols = ", ".join(f'"{n}"' for n in ent.names)
        return cols + (", nested" if ent.nested else "")

    def insert_docs(self, ent: Entity, docs: Iterable[Doc]) -> None:
        """Bulk insert (used by the generator, inside a transaction)."""
        width = len(ent.names) + (1 if ent.nested else 0)
        sql = f"INSERT INTO {ent.table} ({self._columns(ent)}) VALUES ({', '.join('?' * width)})"  # noqa: S608
        with self.lock:
            self.conn.executemany(sql, (self._encode(ent, d) for d in docs))

    def save_doc(self, ent: Entity, doc: Doc) -> None:
        width = len(ent.names) + (1 if ent.nested else 0)
        sql = f"INSERT OR REPLACE INTO {ent.table} ({self._columns(ent)}) VALUES ({', '.join('?' * width)})"  # noqa: S608
        with self.transaction() as conn:
            conn.execute(sql, self._encode(ent, doc))

    def get_doc(self, ent: Entity, key: Any) -> Doc | None:
        sql = f'SELECT {self._columns(ent)} FROM {ent.table} WHERE "{ent.key}" = ?'  # noqa: S608
        with self.lock:
            row = self.conn.execute(sql, (key,)).fetchone()
        return None if row is None else self._decode(ent, row)

    def select_docs(
        self,
        ent: Entity,
        where: str = "",
        params: Sequence[Any] = (),
        order: str = "",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Doc]:
        sql = f"SELECT {self._columns(ent)} FROM {ent.table}"  # noqa: S608
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self.lock:
            rows = self.conn.execute(sql, tuple(params)).fetchall()
        return [self._decode(ent, r) for r in rows]

    def count(self, ent: Entity, where: str = "", params: Sequence[Any] = ()) -> int:
        sql = f"SELECT COUNT(*) FROM {ent.table}" + (f" WHERE {where}" if where else "")  # noqa: S608
        with self.lock:
            return int(self.conn.execute(sql, tuple(params)).fetchone()[0])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        with self.lock:
            self.conn.close()
