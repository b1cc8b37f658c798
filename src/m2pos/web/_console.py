"""What the console's pages need from the rest of m2pos, with no HTTP in it: settings, status,
orders, connection tests, actions. The routes (``_app.py``) only translate between this and HTML.

The console never writes to the POS: retries and resends are requests in the ledger that the sync
loop carries out at its next cycle, so there is one writer and exactly-once stays the engine's job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from m2pos.engine import health
from m2pos.engine.bootstrap import magento_client
from m2pos.engine.cycle import CREDIT_MEMOS, ORDERS, READ_MARKER
from m2pos.engine.explain import Explanation, explain_with
from m2pos.engine.items import describe_resend
from m2pos.engine.stock import LAST_PUSH, LAST_READ
from m2pos.ledger import CreditMemoRow, EventRow, Ledger, OrderRow, OrderStatus, utcnow
from m2pos.ledger.console import ConsoleStore
from m2pos.magento.check import CheckResult, CheckStatus, check_connection
from m2pos.notify import send_email, store_warnings
from m2pos.pos import PosError, open_pos, validate_pos_settings
from m2pos.rules import ResendPlan
from m2pos.settings import PosSettings, Settings, SettingsError
from m2pos.settings_store import LayersSource, SettingsStore
from m2pos.web._forms import Field, FormResult, Section, current_values, read_form

STATUS_LABELS = {
    OrderStatus.TRANSFERRED: "Transferred",
    OrderStatus.SKIPPED: "Skipped",
    OrderStatus.WAITING: "Waiting",
    OrderStatus.PENDING: "In progress",
    OrderStatus.FAILED: "Failed",
    OrderStatus.NEEDS_ATTENTION: "Needs attention",
}


@dataclass(frozen=True)
class SystemHealth:
    name: str
    address: str
    reachable: bool | None  # None: not contacted yet
    detail: str
    at: datetime | None


@dataclass(frozen=True)
class Status:
    systems: list[SystemHealth]
    running: bool
    running_since: datetime | None
    last_cycle: datetime | None
    last_cycle_ok: bool | None
    last_success: datetime | None
    imports: dict[str, datetime | None]  # orders, credit memos, stock: last read from Magento / POS
    exports: dict[str, datetime | None]  # orders, invoices, credit memos, stock: last written
    orders: dict[str, int]
    credit_memos: dict[str, int]
    warnings: list[str]
    interrupted_writes: int


@dataclass
class SaveOutcome:
    saved: bool
    errors: dict[str, str] = field(default_factory=dict)
    general: str = ""


class Console:
    """One store's console: its settings layers, its ledger, and the console's own rows."""

    def __init__(
        self, layers: LayersSource, ledger: Ledger, environ: Mapping[str, str] | None = None
    ) -> None:
        self.layers = layers
        self.ledger = ledger
        self.store = ConsoleStore(ledger)
        self._environ = environ

    # --- settings -----------------------------------------------------------------------------------

    def settings_store(self) -> SettingsStore:
        """Read again on every request: the file may have been edited, another console may have saved."""
        return SettingsStore(self.layers(), self.ledger, self._environ)

    def settings(self) -> Settings:
        return self.settings_store().effective()

    def form_values(self, sections: list[Section]) -> tuple[dict[str, Any], set[str], dict[str, str]]:
        """Each field's value, the locked keys, and where each value comes from."""
        store = self.settings_store()
        fields = _fields(sections)
        origins = {}
        for key, origin in store.origins(f.key for f in fields).items():
            origins[key] = {
                "environment": f"Set by the environment variable {origin.detail}; change it there.",
                "console": f"Saved in the console ({origin.detail}).",
                "file": f"From {origin.detail}.",
                "default": "Default.",
            }[origin.layer]
        return current_values(store.effective(), fields), store.locked(), origins

    def save(self, sections: list[Section], form: Mapping[str, list[str]], username: str) -> SaveOutcome:
        store = self.settings_store()
        fields = _fields(sections)
        result = read_form(fields, form, current_values(store.effective(), fields), store.locked())
        if result.errors:
            return SaveOutcome(False, result.errors)
        if not result.changes:
            return SaveOutcome(True)
        try:
            store.save(result.changes, f"console: {username}")
        except SettingsError as error:
            return _outcome_of(error, fields)
        return SaveOutcome(True)

    def preview(self, sections: list[Section], form: Mapping[str, list[str]]) -> tuple[Settings, FormResult]:
        """The settings the form would give, without saving them (for "Test connection")."""
        store = self.settings_store()
        fields = _fields(sections)
        result = read_form(fields, form, current_values(store.effective(), fields), store.locked())
        return store.preview(result.changes), result

    # --- status -------------------------------------------------------------------------------------

    def status(self) -> Status:
        settings = self.settings()
        ledger, now = self.ledger, utcnow()
        started, last_cycle, success = (
            ledger.marker("cycle_started"),
            ledger.marker("last_cycle"),
            ledger.marker("last_success"),
        )
        running = started is not None and (last_cycle is None or started.at > last_cycle.at)
        source = settings.inventory.source_code
        exports: dict[str, datetime | None] = dict(self.store.last_exports())
        exports["stock"] = _at(ledger.marker(LAST_PUSH.format(source=source)))
        return Status(
            systems=[
                _health(ledger, health.MAGENTO, "Magento 2", settings.magento.base_url),
                _health(ledger, health.POS, _pos_name(settings.pos.kind), _pos_address(settings.pos)),
            ],
            running=running,
            running_since=started.at if running and started else None,
            last_cycle=_at(last_cycle),
            last_cycle_ok=None if last_cycle is None else last_cycle.detail == "ok",
            last_success=_at(success),
            imports={
                "orders": _at(ledger.marker(READ_MARKER.format(stream=ORDERS))),
                "credit_memos": _at(ledger.marker(READ_MARKER.format(stream=CREDIT_MEMOS))),
                "stock": _at(ledger.marker(LAST_READ.format(source=source))),
            },
            exports=exports,
            orders=ledger.order_counts(),
            credit_memos=ledger.credit_memo_counts(),
            warnings=store_warnings(ledger, settings.orders, now),
            interrupted_writes=len(ledger.open_intents()),
        )

    # --- orders and credit memos --------------------------------------------------------------------

    def order(self, row_id: int) -> tuple[OrderRow, list[EventRow], list[CreditMemoRow]] | None:
        row = self.store.order_row(row_id)
        if row is None:
            return None
        return (
            row,
            self.ledger.events("order", row.magento_entity_id),
            self.ledger.credit_memos_of_order(row.magento_entity_id),
        )

    def credit_memo(self, row_id: int) -> tuple[CreditMemoRow, list[EventRow]] | None:
        row = self.store.credit_memo_row(row_id)
        if row is None:
            return None
        return row, self.ledger.events("credit_memo", row.magento_entity_id)

    async def explain(self, number: str) -> tuple[list[Explanation], str]:
        """The rules checked now against Magento (as ``m2pos explain``), or why that was not possible."""
        settings = self.settings()
        client = magento_client(settings.magento)
        try:
            return await explain_with(client, self.ledger, settings, number), ""
        except Exception as error:  # noqa: BLE001 - the page still shows the recorded decision
            return [], f"Magento could not be asked just now ({error}); below is the last recorded decision."
        finally:
            await client.aclose()

    def request_retry(self, kind: str, row_id: int, username: str) -> str:
        if kind == "order":
            order = self.store.order_row(row_id)
            if order is None or order.status not in (OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION):
                return "Only a failed order can be retried."
            self.ledger.reset_order_for_retry(order.magento_entity_id, requested_by=username)
            return f"Order {order.increment_id} will be retried at the next cycle."
        memo = self.store.credit_memo_row(row_id)
        if memo is None or memo.status not in (OrderStatus.FAILED, OrderStatus.NEEDS_ATTENTION):
            return "Only a failed credit memo can be retried."
        self.ledger.reset_credit_memo_for_retry(memo.magento_entity_id, requested_by=username)
        return f"Credit memo {memo.increment_id} will be retried at the next cycle."

    def resend_plan(self, row: OrderRow) -> ResendPlan:
        return describe_resend(row)

    def request_resend(self, row_id: int, username: str) -> str:
        row = self.store.order_row(row_id)
        if row is None:
            return "No such order."
        plan = describe_resend(row)
        if not plan.allowed:
            return plan.text
        self.ledger.request_resend(row.magento_entity_id, requested_by=username)
        return f"Order {row.increment_id} will be resent at the next cycle."

    # --- connections and e-mail ---------------------------------------------------------------------

    async def test_magento(self, settings: Settings) -> tuple[str, list[CheckResult]]:
        m = settings.magento

        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        return await check_connection(
            base_url=m.base_url,
            store_code=m.store_code,
            consumer_key=secret(m.consumer_key),
            consumer_secret=secret(m.consumer_secret),
            access_token=secret(m.access_token),
            access_token_secret=secret(m.access_token_secret),
            bearer_token=secret(m.bearer_token),
        )

    async def test_pos(self, settings: Settings) -> tuple[str, list[CheckResult]]:
        name = _pos_name(settings.pos.kind)
        title = f"{name} connection check: {_pos_address(settings.pos)}"
        try:
            # Its own session, in memory: the sync loop's session file is not touched.
            pos_settings = PosSettings.model_validate({**settings.pos.model_dump(), "session_file": ""})
            validate_pos_settings(pos_settings, "connection settings")
            pos = open_pos(pos_settings)
        except (SettingsError, PosError) as error:
            return title, [CheckResult("Settings", CheckStatus.FAIL, str(error))]
        try:
            detail = await pos.check()
        except PosError as error:
            return title, [CheckResult("Connection", CheckStatus.FAIL, error.message)]
        finally:
            await pos.aclose()
        return title, [CheckResult("Connection", CheckStatus.OK, detail)]

    async def send_test_email(self) -> str:
        """Send a test message with the saved settings; what happened, in words."""
        notifications = self.settings().notifications
        if not notifications.recipients:
            raise ValueError("Add at least one recipient and save before sending a test e-mail.")
        message = EmailMessage()
        message["Subject"] = "m2pos: test e-mail"
        message.set_content(
            "This is a test e-mail from the m2pos console. Failed orders and orders that need "
            "attention will be sent to this address as a digest."
        )
        await asyncio.to_thread(send_email, notifications, message)
        return f"Test e-mail sent to {', '.join(notifications.recipients)} through {notifications.smtp_host}."


def _fields(sections: list[Section]) -> list[Field]:
    return [f for section in sections for f in section.fields]


def _outcome_of(error: SettingsError, fields: list[Field]) -> SaveOutcome:
    """Put each problem next to its field; the others at the top of the form."""
    keys = {f.key for f in fields}
    outcome = SaveOutcome(False)
    general = []
    for key, problem in error.problems().items():
        if key in keys:
            outcome.errors[key] = problem
        else:
            general.append(f"{key}: {problem}" if key else problem)
    outcome.general = " ".join(general)
    return outcome


def _at(marker: Any) -> datetime | None:
    return marker.at if marker is not None else None


def _health(ledger: Ledger, marker_name: str, name: str, address: str) -> SystemHealth:
    marker = ledger.marker(marker_name)
    if marker is None:
        return SystemHealth(name, address, None, "Not contacted yet.", None)
    reachable = marker.detail == health.OK
    return SystemHealth(
        name, address, reachable, "Reachable." if reachable else marker.detail or "", marker.at
    )


def _pos_name(kind: str) -> str:
    return {
        "memory": "Memory POS (built in)",
        "lightspeed_onsite": "Lightspeed OnSite",
        "lightspeed_retail": "Lightspeed Retail",
        "lightspeed_xseries": "Lightspeed X-Series",
        "heartland": "Heartland Retail",
    }.get(kind, kind)


def _pos_address(pos: PosSettings) -> str:
    extra = pos.model_extra or {}
    return str(extra.get("base_url") or extra.get("path") or "")
