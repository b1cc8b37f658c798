"""The store directory: the Magento stores one m2pos deployment serves, each with its own Magento
connection, POS and settings, kept in the ledger's database (distributed mode, ``m2pos stores``).

A store's settings are its own sections of ``m2pos.toml`` (``[magento]``, ``[pos]``, ``[orders]``,
``[credit_memos]``, ``[inventory]``, ``[notifications]``) over the deployment's file, whose
``[orders]``, ``[notifications]``, … are every store's defaults (its ``[magento]`` and ``[pos]``
are not); the deployment keeps ``[state]``, ``[web]`` and ``[worker]``. Secrets are encrypted at rest with the
deployment's key (``SecretBox``); every change is in the store's change log with who made it, and
the download rules go to the store's settings history as with one store. Every row of the ledger
already carries its store, so a store is the ``store`` of its ``Ledger``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Engine, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from m2pos.ledger._ledger import Ledger, utcnow
from m2pos.ledger.tables import Base, UTCDateTime
from m2pos.secretbox import SecretBox
from m2pos.settings import Settings, SettingsError, flatten, is_secret_key, merge, nest, settings_from_dict

STORE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
STORE_SECTIONS = ("magento", "pos", "orders", "credit_memos", "inventory", "notifications")
_ENCRYPTED = "$encrypted"
MASK = "**********"


class StoreRow(Base):
    __tablename__ = "stores"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean)
    settings_json: Mapped[str] = mapped_column(Text)  # secrets as {"$encrypted": token}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StoreRunRow(Base):
    """When the store's next cycle is due, whether one waits queued, and who runs it (the lease)."""

    __tablename__ = "store_runs"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_holder: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    cycles: Mapped[int] = mapped_column(Integer, default=0)
    # Running totals for the metrics: {"items": {outcome: n}, "requests": {system: n}, "errors": {…}}
    totals_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class StoreChangeRow(Base):
    __tablename__ = "store_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))  # added, updated, disabled, enabled, removed
    keys: Mapped[str] = mapped_column(Text)  # JSON list of the settings keys it changed


class StoreNotFound(SettingsError):
    pass


@dataclass(frozen=True)
class StoreRecord:
    store: str
    name: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    data: dict[str, Any]  # the store's own sections, secrets in clear: never print it, see masked()

    def masked(self) -> dict[str, Any]:
        """``data`` with every secret replaced by asterisks, for people."""
        return nest({k: (MASK if is_secret_key(k) and v else v) for k, v in flatten(self.data).items()})

    @property
    def pos_kind(self) -> str:
        return str(self.data.get("pos", {}).get("kind", "memory"))

    @property
    def magento_url(self) -> str:
        return str(self.data.get("magento", {}).get("base_url", ""))


@dataclass(frozen=True)
class Change:
    at: datetime
    changed_by: str
    action: str
    keys: list[str]


class StoreDirectory:
    """The stores of one deployment. ``base`` is the deployment's settings file (its data), under
    each store's own sections; ``box`` encrypts the stores' secrets."""

    def __init__(self, engine: Engine, box: SecretBox, base: Mapping[str, Any] | None = None) -> None:
        self.engine = engine
        self._box = box
        # The file's [orders], [notifications], … are every store's defaults; its connections are
        # not: a store without its own [magento] or [pos] must not reach another's.
        self._base = {k: v for k, v in (base or {}).items() if k not in ("magento", "pos")}
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # --- reading ---------------------------------------------------------------------------------

    def all(self) -> list[StoreRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(StoreRow).order_by(StoreRow.store)).all()
            return [self._record(row) for row in rows]

    def ids(self, *, enabled_only: bool = True) -> list[str]:
        query = select(StoreRow.store).order_by(StoreRow.store)
        if enabled_only:
            query = query.where(StoreRow.enabled.is_(True))
        with self._sessions() as session:
            return list(session.scalars(query).all())

    def get(self, store: str) -> StoreRecord:
        with self._sessions() as session:
            row = session.get(StoreRow, store)
            if row is None:
                raise StoreNotFound(f"no store {store!r} (m2pos stores list shows the stores)")
            return self._record(row)

    def settings(self, store: str) -> Settings:
        """The settings in force for ``store``: the deployment's file under the store's sections."""
        return self._resolve(store, self.get(store).data)

    def changes(self, store: str, limit: int = 20) -> list[Change]:
        query = (
            select(StoreChangeRow)
            .where(StoreChangeRow.store == store)
            .order_by(StoreChangeRow.id.desc())
            .limit(limit)
        )
        with self._sessions() as session:
            return [Change(r.at, r.changed_by, r.action, json.loads(r.keys)) for r in session.scalars(query)]

    # --- changing --------------------------------------------------------------------------------

    def add(
        self,
        store: str,
        data: Mapping[str, Any],
        changed_by: str,
        *,
        name: str = "",
        now: datetime | None = None,
    ) -> StoreRecord:
        """Add ``store`` with its sections ``data``; ``SettingsError`` naming the store and each bad
        key when they cannot be used (nothing is saved then)."""
        if not STORE_ID.match(store):
            raise SettingsError(
                f"store id {store!r}: use 1 to 64 lower-case letters, digits, '-' or '_' (e.g. shop-eu)"
            )
        data = self._own_sections(store, data)
        settings = self._resolve(store, data)
        now = now or utcnow()
        with self._sessions.begin() as session:
            if session.get(StoreRow, store) is not None:
                raise SettingsError(f"store {store!r} exists already; change it with m2pos stores update")
            session.add(
                StoreRow(
                    store=store,
                    name=name or store,
                    enabled=True,
                    settings_json=self._encode(data),
                    created_at=now,
                    updated_at=now,
                )
            )
            session.add(StoreRunRow(store=store, next_due_at=now, cycles=0))
            self._log(session, store, changed_by, "added", sorted(flatten(data)), now)
        self._record_rules(store, settings, changed_by, now)
        return self.get(store)

    def update(
        self, store: str, data: Mapping[str, Any], changed_by: str, now: datetime | None = None
    ) -> list[str]:
        """Replace the store's sections with ``data``; the keys whose value changed."""
        current = self.get(store)
        data = self._own_sections(store, data)
        settings = self._resolve(store, data)
        before, after = flatten(current.data), flatten(data)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        now = now or utcnow()
        with self._sessions.begin() as session:
            row = session.get(StoreRow, store)
            assert row is not None
            row.settings_json, row.updated_at = self._encode(data), now
            self._log(session, store, changed_by, "updated", changed, now)
        self._record_rules(store, settings, changed_by, now)
        return changed

    def set_enabled(self, store: str, enabled: bool, changed_by: str, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self._sessions.begin() as session:
            row = session.get(StoreRow, store)
            if row is None:
                raise StoreNotFound(f"no store {store!r} (m2pos stores list shows the stores)")
            row.enabled, row.updated_at = enabled, now
            self._log(session, store, changed_by, "enabled" if enabled else "disabled", [], now)

    def remove(self, store: str, changed_by: str, now: datetime | None = None) -> None:
        """Remove the store from the directory: no more cycles. Its ledger rows (what was
        transferred, the settings history) stay, so that adding it again never sends twice."""
        now = now or utcnow()
        with self._sessions.begin() as session:
            if session.get(StoreRow, store) is None:
                raise StoreNotFound(f"no store {store!r} (m2pos stores list shows the stores)")
            session.execute(delete(StoreRunRow).where(StoreRunRow.store == store))
            session.execute(delete(StoreRow).where(StoreRow.store == store))
            self._log(session, store, changed_by, "removed", [], now)

    # --- inside ----------------------------------------------------------------------------------

    def _own_sections(self, store: str, data: Mapping[str, Any]) -> dict[str, Any]:
        foreign = sorted(k for k in data if k not in STORE_SECTIONS)
        if foreign:
            raise SettingsError(
                f"store {store}: [{'], ['.join(foreign)}] belong to the deployment's m2pos.toml, not to a "
                f"store; a store has {', '.join(f'[{s}]' for s in STORE_SECTIONS)}"
            )
        plain: dict[str, Any] = json.loads(json.dumps(dict(data), default=str))  # JSON values, a copy
        return plain

    def _resolve(self, store: str, data: Mapping[str, Any]) -> Settings:
        from m2pos.pos import validate_pos_settings  # the POS registry imports the ledger

        source = f"store {store}"
        settings = settings_from_dict(merge(self._base, data), source=source)
        validate_pos_settings(settings.pos, source)
        return settings

    def _record_rules(self, store: str, settings: Settings, changed_by: str, now: datetime) -> None:
        from m2pos.engine.context import record_rules  # the engine imports the ledger

        record_rules(Ledger(self.engine, store), settings, changed_by, now)

    def _encode(self, data: Mapping[str, Any]) -> str:
        flat = {
            k: (
                {_ENCRYPTED: self._box.encrypt(str(v))}
                if is_secret_key(k) and isinstance(v, str) and v
                else v
            )
            for k, v in flatten(data).items()
        }
        return json.dumps(flat, sort_keys=True)

    def _record(self, row: StoreRow) -> StoreRecord:
        flat: dict[str, Any] = {}
        for key, value in json.loads(row.settings_json).items():
            if isinstance(value, dict) and _ENCRYPTED in value:
                value = self._box.decrypt(value[_ENCRYPTED], f"store {row.store}: {key}")
            flat[key] = value
        return StoreRecord(row.store, row.name, row.enabled, row.created_at, row.updated_at, nest(flat))

    @staticmethod
    def _log(session: Session, store: str, by: str, action: str, keys: list[str], now: datetime) -> None:
        session.add(StoreChangeRow(store=store, at=now, changed_by=by, action=action, keys=json.dumps(keys)))


def order_counts_by_store(engine: Engine) -> dict[str, dict[str, int]]:
    """Orders by status, for every store at once (``m2pos status --all``)."""
    from m2pos.ledger.tables import OrderRow

    query = select(OrderRow.store, OrderRow.status, func.count()).group_by(OrderRow.store, OrderRow.status)
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        for store, status, count in connection.execute(query).all():
            out.setdefault(store, {})[status] = int(count)
    return out


@dataclass(frozen=True)
class StoreSummary:
    """What a list of stores shows, read without the encryption key (no secret is decrypted)."""

    store: str
    name: str
    enabled: bool
    pos_kind: str
    magento_url: str


def store_summaries(engine: Engine) -> list[StoreSummary]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(StoreRow.store, StoreRow.name, StoreRow.enabled, StoreRow.settings_json).order_by(
                StoreRow.store
            )
        ).all()
    out = []
    for store, name, enabled, settings_json in rows:
        flat = json.loads(settings_json)
        pos_kind, url = flat.get("pos.kind", "memory"), flat.get("magento.base_url", "")
        out.append(StoreSummary(store, name, enabled, str(pos_kind), str(url)))
    return out
