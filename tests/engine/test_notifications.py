"""The e-mail digest, sent to a real SMTP server (aiosmtpd) by ``m2pos sync --once``.

A digest goes out when something is unresolved, at most every ``notifications.digest_minutes``;
time is moved on by setting the ledger's ``last_digest`` (or ``digest_failed``) marker back.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from m2pos import notify
from tests.engine.conftest import Store

BAD_SKU, GOOD_SKU = "24-MB01", "24-UG06"
RECIPIENT = "owner@shop.example"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def bodies(self) -> list[str]:
        return [str(m.get_payload(decode=True), "utf-8") for m in self.messages]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _notify(store: Store, port: int) -> None:
    store.configure(
        notifications={
            "enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "sender": "m2pos@shop.example",
            "recipients": [RECIPIENT],
        }
    )


def _age_marker(store: Store, name: str, minutes: float) -> None:
    """Pretend the ledger marker ``name`` (``last_digest``, ``digest_failed``) was set ``minutes`` ago."""
    ledger = store.ledger()
    try:
        marker = ledger.marker(name)
        assert marker is not None, f"the ledger has no {name} marker"
        ledger.set_marker(name, datetime.now(UTC) - timedelta(minutes=minutes), marker.detail)
    finally:
        ledger.close()


def _place(store: Store, sku: str) -> dict[str, Any]:
    return store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": sku, "qty": 1}])


def test_a_failing_order_is_mailed_once_per_interval_until_resolved(
    store: Store, inbox: tuple[Inbox, int]
) -> None:
    mails, port = inbox
    _notify(store, port)
    store.configure(pos={"reject_skus": [BAD_SKU]})
    bad = _place(store, BAD_SKU)
    good = _place(store, GOOD_SKU)

    assert store.cli("sync", "--once").exit_code == 1
    assert len(mails.messages) == 1
    digest = mails.messages[0]
    assert mails.recipients[0] == [RECIPIENT]
    assert digest["To"] == RECIPIENT
    assert "1 item(s) need attention" in digest["Subject"]
    body = mails.bodies()[0]
    assert f"Order {bad['increment_id']}" in body and BAD_SKU in body
    assert good["increment_id"] not in body

    # Another cycle within digest_minutes: no second mail.
    store.cli("sync", "--once")
    assert len(mails.messages) == 1

    # The interval has passed and the order is still unresolved: another digest.
    _age_marker(store, "last_digest", 11)
    store.cli("sync", "--once")
    assert len(mails.messages) == 2
    assert bad["increment_id"] in mails.bodies()[1]

    # The merchant fixes the product and retries: resolved, so no more mail, however long it has been.
    store.configure(pos={"reject_skus": []})
    assert store.cli("retry", bad["increment_id"]).exit_code == 0
    _age_marker(store, "last_digest", 60)
    assert store.cli("sync", "--once").exit_code == 0
    assert len(mails.messages) == 2


def test_the_other_auto_invoicer_warning_reaches_the_digest(store: Store, inbox: tuple[Inbox, int]) -> None:
    mails, port = inbox
    _notify(store, port)
    for _ in range(3):
        store.sandbox.control.place_order("simple", payment="captured")  # invoiced by the gateway
    assert store.cli("sync", "--once").exit_code == 0
    assert len(mails.messages) == 1
    assert "warning" in mails.messages[0]["Subject"]
    assert "Another auto-invoicing feature" in mails.bodies()[0]


def test_an_unreachable_mail_server_is_reported_but_blocks_nothing(
    store: Store, inbox: tuple[Inbox, int]
) -> None:
    mails, port = inbox
    _notify(store, _free_port())  # nothing listens there
    store.configure(pos={"reject_skus": [BAD_SKU]})
    bad = _place(store, BAD_SKU)
    good = _place(store, GOOD_SKU)
    result = store.cli("sync", "--once")
    assert result.exit_code == 1
    assert "the notification e-mail could not be sent" in result.output
    assert store.pos_references() == [good["increment_id"]]

    # Orders keep flowing while the mail server is down (and it is not tried again every cycle).
    later = _place(store, GOOD_SKU)
    result = store.cli("sync", "--once")
    assert "the notification e-mail could not be sent" not in result.output
    assert store.pos_references() == sorted([good["increment_id"], later["increment_id"]])

    # The mail server is back: once the interval has passed, the digest that could not be sent goes out.
    _notify(store, port)
    _age_marker(store, "digest_failed", 11)
    store.cli("sync", "--once")
    assert len(mails.messages) == 1
    assert bad["increment_id"] in mails.bodies()[0]
    assert store.pos_references() == sorted([good["increment_id"], later["increment_id"]])


def test_a_mail_server_that_never_answers_holds_up_one_cycle_at_most(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mail server that accepts the connection and then says nothing costs the SMTP timeout once;
    the next cycles do not wait for it again before the digest interval has passed."""
    monkeypatch.setattr(notify, "SMTP_TIMEOUT_SECONDS", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; no greeting ever comes
        _notify(store, silent.getsockname()[1])
        store.configure(pos={"reject_skus": [BAD_SKU]})
        _place(store, BAD_SKU)
        started = time.monotonic()
        first = store.cli("sync", "--once")
        assert "the notification e-mail could not be sent" in first.output
        assert time.monotonic() - started >= 0.5

        good = _place(store, GOOD_SKU)
        started = time.monotonic()
        second = store.cli("sync", "--once")
        took = time.monotonic() - started
        assert "the notification e-mail could not be sent" not in second.output
        assert took < 0.5, f"the cycle waited {took:.2f}s for the mail server again"
        assert store.pos_references() == [good["increment_id"]]

        # Once the interval has passed, it is tried again.
        _age_marker(store, "digest_failed", 11)
        third = store.cli("sync", "--once")
        assert "the notification e-mail could not be sent" in third.output
