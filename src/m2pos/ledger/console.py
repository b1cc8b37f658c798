"""What the web console keeps in the ledger's database: its users and sessions, failed logins, and
the settings saved from its pages (layered between the settings file and the environment, see
``m2pos.settings_store``).

Passwords are stored as scrypt hashes, session tokens as SHA-256 hashes (a copy of the database
does not let anyone in), secret settings encrypted by the caller (``m2pos.secretbox``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Boolean, Index, Integer, String, Text, delete, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from m2pos.ledger._ledger import Ledger, utcnow
from m2pos.ledger.tables import Base, CreditMemoRow, OrderRow, UTCDateTime


class ConsoleUserRow(Base):
    __tablename__ = "console_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginFailureRow(Base):
    __tablename__ = "console_login_failures"
    __table_args__ = (Index("ix_console_login_failures_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsoleSettingRow(Base):
    """One settings key saved from the console, e.g. ``orders.mode``; secrets are ciphertext."""

    __tablename__ = "console_settings"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


Tracked = TypeVar("Tracked", OrderRow, CreditMemoRow)


@dataclass(frozen=True)
class SavedValue:
    """A value to save: JSON text, and whether it is a secret's ciphertext."""

    value_json: str
    secret: bool = False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleStore:
    """The console's rows, through the ledger's engine (one short transaction per method)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    # --- users ------------------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self._ledger._session() as session:
            return session.scalar(select(func.count()).select_from(ConsoleUserRow)) != 0

    def user(self, username: str) -> ConsoleUserRow | None:
        with self._ledger._session() as session:
            return session.get(ConsoleUserRow, username)

    def set_user(self, username: str, password_hash: str, now: datetime | None = None) -> None:
        """Create the user, or change the password (every session of the user ends)."""
        now = now or utcnow()
        with self._ledger._session() as session:
            row = session.get(ConsoleUserRow, username)
            if row is None:
                session.add(ConsoleUserRow(username=username, password_hash=password_hash, created_at=now))
            else:
                row.password_hash = password_hash
                session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.username == username))

    def logged_in(self, username: str, now: datetime) -> None:
        with self._ledger._session() as session:
            row = session.get(ConsoleUserRow, username)
            if row is not None:
                row.last_login_at = now

    # --- sessions ---------------------------------------------------------------------------------

    def create_session(
        self, token: str, username: str, csrf_token: str, now: datetime, lifetime: timedelta
    ) -> None:
        with self._ledger._session() as session:
            session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
            session.add(
                ConsoleSessionRow(
                    token_hash=token_hash(token),
                    username=username,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )

    def session(self, token: str, now: datetime) -> ConsoleSessionRow | None:
        with self._ledger._session() as session:
            row = session.get(ConsoleSessionRow, token_hash(token))
            if row is None or row.expires_at <= now:
                return None
            return row

    def end_session(self, token: str) -> None:
        with self._ledger._session() as session:
            session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash(token))
            )

    # --- login throttling -------------------------------------------------------------------------

    def record_login_failure(self, username: str, address: str, now: datetime) -> None:
        with self._ledger._session() as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - timedelta(days=1)))
            session.add(LoginFailureRow(username=username[:64], address=address[:64], at=now))

    def login_failures(self, username: str, address: str, since: datetime) -> tuple[int, datetime | None]:
        """Failures since ``since`` for this user name or from this address, and the oldest of them."""
        with self._ledger._session() as session:
            where = (LoginFailureRow.at >= since) & (
                (LoginFailureRow.username == username[:64]) | (LoginFailureRow.address == address[:64])
            )
            count, oldest = session.execute(
                select(func.count(), func.min(LoginFailureRow.at)).where(where)
            ).one()
            return int(count), oldest  # min() keeps the column's type: an aware UTC datetime

    def clear_login_failures(self, username: str) -> None:
        with self._ledger._session() as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username[:64]))

    # --- settings saved from the console ----------------------------------------------------------

    def saved_settings(self) -> list[ConsoleSettingRow]:
        with self._ledger._session() as session:
            return list(
                session.scalars(
                    select(ConsoleSettingRow)
                    .where(ConsoleSettingRow.store == self._ledger.store)
                    .order_by(ConsoleSettingRow.key)
                )
            )

    def save_settings(
        self, values: Mapping[str, SavedValue | None], changed_by: str, now: datetime | None = None
    ) -> None:
        """Save (or, for None, forget) each key, in one transaction."""
        now = now or utcnow()
        store = self._ledger.store
        with self._ledger._session() as session:
            for key, value in values.items():
                row = session.get(ConsoleSettingRow, (store, key))
                if value is None:
                    if row is not None:
                        session.delete(row)
                    continue
                if row is None:
                    row = ConsoleSettingRow(store=store, key=key)
                    session.add(row)
                row.value_json, row.secret = value.value_json, value.secret
                row.changed_by, row.changed_at = changed_by, now

    # --- what the console's pages read ------------------------------------------------------------

    def search_orders(
        self, text: str = "", status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[OrderRow], int]:
        """Orders whose number or customer e-mail contains ``text`` (any case), newest first; and how
        many match in all."""
        return self._search(
            OrderRow, (OrderRow.increment_id, OrderRow.customer_email), text, status, limit, offset
        )

    def search_credit_memos(
        self, text: str = "", status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[CreditMemoRow], int]:
        """Credit memos whose number or order number contains ``text``, newest first; and the total."""
        columns = (CreditMemoRow.increment_id, CreditMemoRow.order_increment_id)
        return self._search(CreditMemoRow, columns, text, status, limit, offset)

    def _search(
        self,
        table: type[Tracked],
        columns: tuple[Any, ...],
        text: str,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Tracked], int]:
        where = table.store == self._ledger.store
        if status:
            where &= table.status == status
        if text:
            pattern = f"%{_escape_like(text.lower())}%"
            where &= or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
        with self._ledger._session() as session:
            total = session.scalar(select(func.count()).select_from(table).where(where)) or 0
            rows = session.scalars(
                select(table).where(where).order_by(table.id.desc()).limit(limit).offset(offset)
            ).all()
            return list(rows), total

    def order_row(self, row_id: int) -> OrderRow | None:
        with self._ledger._session() as session:
            row = session.get(OrderRow, row_id)
            return row if row is not None and row.store == self._ledger.store else None

    def credit_memo_row(self, row_id: int) -> CreditMemoRow | None:
        with self._ledger._session() as session:
            row = session.get(CreditMemoRow, row_id)
            return row if row is not None and row.store == self._ledger.store else None

    def last_exports(self) -> dict[str, datetime | None]:
        """When m2pos last wrote an order, an invoice and a return."""
        store = self._ledger.store
        with self._ledger._session() as session:
            return {
                "orders": session.scalar(
                    select(func.max(OrderRow.transferred_at)).where(OrderRow.store == store)
                ),
                "invoices": session.scalar(
                    select(func.max(OrderRow.invoiced_at)).where(OrderRow.store == store)
                ),
                "credit_memos": session.scalar(
                    select(func.max(CreditMemoRow.carried_at)).where(CreditMemoRow.store == store)
                ),
            }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
