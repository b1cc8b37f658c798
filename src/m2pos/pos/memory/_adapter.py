"""A POS that keeps its documents in SQLite: in memory, or in a file that outlives the process.

It behaves like a simple real POS: one document per order (kind ``sale``), voids, returns, stock
on hand that sales take and returns give back. Settings (``[pos]``):

* ``path``: SQLite file; without it the documents live only as long as the process.
* ``reject_skus``: SKUs the POS refuses (as a POS refuses an archived product), to see how m2pos
  sets a bad order aside without blocking the others.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from m2pos.magento.models import CreditMemo, Order
from m2pos.pos.port import PosDocument, PosRejected
from m2pos.settings import PosSettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    original_id TEXT,
    body TEXT NOT NULL,
    UNIQUE (kind, reference)
);
CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, on_hand TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    reference: str
    kind: str
    status: str
    original_id: str | None
    body: dict[str, Any]


class MemoryPos:
    kind = "memory"

    def __init__(self, path: Path | None = None, reject_skus: Sequence[str] = ()) -> None:
        self.path = path
        self.reject_skus = frozenset(reject_skus)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._db.executescript(_SCHEMA)

    @classmethod
    def from_settings(cls, settings: PosSettings, limiter: object = None) -> MemoryPos:
        """``limiter`` is accepted like every adapter's; memory has no API to pace."""
        extra = settings.model_extra or {}
        path = extra.get("path")
        return cls(Path(path) if path else None, tuple(extra.get("reject_skus", ())))

    # --- the port ------------------------------------------------------------------------------

    async def create_document(self, order: Order, reference: str) -> PosDocument:
        lines = order.lines()
        refused = sorted({line.sku for line in lines if line.sku in self.reject_skus})
        if refused:
            raise PosRejected(
                f"the POS refuses product {', '.join(refused)} (archived or not sellable); "
                "restore it in the POS or fix the order's lines, then retry"
            )
        body = {
            "customer_email": order.customer_email,
            "lines": [
                {"sku": line.sku, "qty": str(line.qty), "total": str(line.row_total)} for line in lines
            ],
            "grand_total": str(order.grand_total),
        }
        with self._lock:
            document = self._insert("sale", reference, None, body)
            for line in lines:
                for component in line.components:
                    self._adjust_stock(component.sku, -component.qty)
        return document

    async def find_document(self, reference: str) -> PosDocument | None:
        return self._find("sale", reference)

    async def cancel_document(self, document: PosDocument, order: Order) -> None:
        with self._lock:
            stored = self.document(document.id)
            if stored is None or stored.status == "void":
                return
            self._db.execute("UPDATE documents SET status = 'void' WHERE id = ?", (document.id,))
            for line in stored.body["lines"]:
                self._adjust_stock(line["sku"], Decimal(line["qty"]))

    async def create_return(
        self,
        memo: CreditMemo,
        order: Order,
        original: PosDocument,
        reference: str,
        restock: frozenset[int],
    ) -> PosDocument:
        lines = memo.lines(order)
        body = {
            "lines": [
                {
                    "sku": line.sku,
                    "qty": str(line.qty),
                    "total": str(line.row_total),
                    "restock": line.item_id in restock,
                }
                for line in lines
            ],
            "grand_total": str(memo.grand_total),
        }
        with self._lock:
            document = self._insert("return", reference, original.id, body)
            for line in lines:
                if line.item_id in restock:
                    for component in line.components:
                        self._adjust_stock(component.sku, component.qty)
            return document

    async def find_return(self, reference: str) -> PosDocument | None:
        return self._find("return", reference)

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, Decimal]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT sku, on_hand FROM stock WHERE sku IN ({','.join('?' * len(skus))})",  # noqa: S608
                tuple(skus),
            ).fetchall()
        return {sku: Decimal(on_hand) for sku, on_hand in rows}

    async def check(self) -> str:
        where = str(self.path) if self.path else "this process only"
        return f"memory POS ({where}), {len(self.documents())} documents"

    async def aclose(self) -> None:
        self._db.close()

    # --- inspection (tests, demo) ---------------------------------------------------------------

    def documents(self, kind: str | None = None) -> list[StoredDocument]:
        query = "SELECT id, reference, kind, status, original_id, body FROM documents"
        rows = self._db.execute(
            query + (" WHERE kind = ?" if kind else "") + " ORDER BY rowid", (kind,) if kind else ()
        ).fetchall()
        return [StoredDocument(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def document(self, document_id: str) -> StoredDocument | None:
        return next((d for d in self.documents() if d.id == document_id), None)

    def delete_document(self, document_id: str) -> None:
        """Staff deleting a document in the POS (tests of resend)."""
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE id = ?", (document_id,))

    def set_stock(self, sku: str, on_hand: Decimal) -> None:
        self._db.execute("INSERT OR REPLACE INTO stock (sku, on_hand) VALUES (?, ?)", (sku, str(on_hand)))

    # --- private -------------------------------------------------------------------------------

    def _insert(
        self, kind: str, reference: str, original_id: str | None, body: dict[str, Any]
    ) -> PosDocument:
        document_id = f"{kind[0].upper()}-{uuid.uuid4().hex[:12]}"
        # A real POS accepts a second document with the same reference; so does this one, by
        # suffixing it, so that a duplicate shows up in the tests instead of being hidden.
        taken = self._db.execute(
            "SELECT COUNT(*) FROM documents WHERE kind = ? AND (reference = ? OR reference LIKE ?)",
            (kind, reference, f"{reference}#dup%"),
        ).fetchone()[0]
        stored_reference = reference if taken == 0 else f"{reference}#dup{taken}"
        self._db.execute(
            "INSERT INTO documents (id, reference, kind, status, original_id, body)"
            " VALUES (?, ?, ?, 'open', ?, ?)",
            (document_id, stored_reference, kind, original_id, json.dumps(body)),
        )
        return PosDocument(document_id, reference, kind)

    def _find(self, kind: str, reference: str) -> PosDocument | None:
        row = self._db.execute(
            "SELECT id FROM documents WHERE kind = ? AND reference = ?", (kind, reference)
        ).fetchone()
        return PosDocument(row[0], reference, kind) if row else None

    def _adjust_stock(self, sku: str, delta: Decimal) -> None:
        row = self._db.execute("SELECT on_hand FROM stock WHERE sku = ?", (sku,)).fetchone()
        if row is not None:
            self.set_stock(sku, Decimal(row[0]) + delta)
