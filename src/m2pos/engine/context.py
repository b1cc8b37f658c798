"""What one store's sync needs: its settings, ledger, Magento client, POS and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from m2pos.engine.ratelimit import RateLimiter
from m2pos.ledger import Ledger, OrderRow
from m2pos.magento import MagentoClient
from m2pos.pos import PointOfSale
from m2pos.rules import OrderRecord, RuleSettings, SettingsChange
from m2pos.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def rule_settings(settings: Settings) -> RuleSettings:
    return RuleSettings(
        download_orders=settings.orders.download_orders,
        download_credit_memos=settings.orders.download_credit_memos,
        mode=settings.orders.mode,
        paid_methods=settings.orders.paid_methods,
        store_ids=settings.magento.store_ids,
        start_date=settings.orders.start_date,
    )


def order_record(row: OrderRow | None) -> OrderRecord:
    if row is None:
        return OrderRecord()
    return OrderRecord(
        in_pos=row.pos_document_id is not None, cancellation_carried=row.cancellation_carried_at is not None
    )


def record_rules(ledger: Ledger, settings: Settings, changed_by: str, now: datetime) -> RuleSettings:
    """The download rules of ``settings``, appended to the settings history when they changed.

    The start date defaults to the first time m2pos ran for this store: a new installation does
    not download the store's past.
    """
    first_run = ledger.set_marker_once("first_run", now)
    rules = rule_settings(settings)
    if rules.start_date is None:
        rules = RuleSettings(**{**rules.__dict__, "start_date": first_run})
    ledger.record_settings(rules, changed_by, now)
    return rules


@dataclass
class StoreContext:
    settings: Settings
    ledger: Ledger
    magento: MagentoClient
    pos: PointOfSale
    clock: Clock = system_clock
    owns_pos: bool = False  # opened from the settings (so reopened when they change)
    # Where the Magento and POS clients' request budgets come from (None: each client's own).
    limiters: Callable[[str, float], RateLimiter] | None = None
    # Filled by ``refresh_rules`` at the start of each cycle.
    rules: RuleSettings = field(default_factory=RuleSettings)
    history: list[SettingsChange] = field(default_factory=list)

    def refresh_rules(self, changed_by: str = "settings file") -> None:
        """Record the settings in the history when they changed, then read the history back."""
        self.rules = record_rules(self.ledger, self.settings, changed_by, self.clock())
        self.history = self.ledger.settings_history()

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.settings.orders.overlap_seconds)
