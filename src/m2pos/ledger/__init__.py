"""The transfer ledger (SQLAlchemy 2 + Alembic; SQLite by default, PostgreSQL supported)."""

from m2pos.ledger._ledger import Ledger, OrderStatus, create_ledger_engine, migrate, utcnow
from m2pos.ledger.tables import CreditMemoRow, EventRow, IntentRow, OrderRow, SettingsHistoryRow

# The console's tables belong to the same schema (and its migrations).
from m2pos.ledger import console as _console  # noqa: F401  isort: skip
from m2pos.ledger import stores as _stores  # noqa: F401  isort: skip

__all__ = [
    "CreditMemoRow",
    "EventRow",
    "IntentRow",
    "Ledger",
    "OrderRow",
    "OrderStatus",
    "SettingsHistoryRow",
    "create_ledger_engine",
    "migrate",
    "utcnow",
]
