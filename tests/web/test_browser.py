"""The console in a real browser: Debian's Chromium driven by Playwright, against the console served
over HTTP beside a Magento sandbox, a memory POS and a settings file; the sync runs as the CLI
(``m2pos sync --once``) or as ``m2pos run`` in its own process, as a merchant would run it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from playwright.sync_api import expect

from m2pos.ledger import OrderStatus
from tests.engine.conftest import Store

from .conftest import PASSWORD, SETUP_CODE, USER, ConsoleSite, log_in

SKU = "24-MB01"


def order_row(store: Store, number: str) -> Any:
    ledger = store.ledger()
    try:
        rows = ledger.orders_by_number(number)
        return rows[0] if rows else None
    finally:
        ledger.close()


def wait_for(condition: Any, timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_first_run_sets_the_password_then_login_and_logout(site: ConsoleSite, page: Any) -> None:
    page.goto(f"{site.url}/orders")
    expect(page).to_have_url(f"{site.url}/setup")  # nobody has an account yet
    page.get_by_label("Set-up code").fill("not the code")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create and log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong set-up code")
    assert not site.console.store.has_users()

    page.get_by_label("Set-up code").fill(SETUP_CODE)
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create and log in").click()
    expect(page).to_have_url(f"{site.url}/status")
    expect(page.get_by_role("heading", name="Status", exact=True)).to_be_visible()
    stored = site.console.store.user(USER)
    assert (
        stored is not None
        and stored.password_hash.startswith("scrypt$")
        and PASSWORD not in stored.password_hash
    )

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{site.url}/login")
    page.goto(f"{site.url}/settings")
    expect(page).to_have_url(f"{site.url}/login?next=/settings")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{site.url}/settings")  # back where the login was asked for

    cookie = next(c for c in page.context.cookies() if c["name"] == "m2pos_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("m2pos_session") == -1  # not readable by scripts


def test_changing_the_mode_is_applied_by_the_running_loop_at_its_next_cycle(
    site: ConsoleSite, page: Any
) -> None:
    store = site.store
    store.configure(orders={"poll_interval_seconds": 1})
    site.add_user()
    runner = subprocess.Popen(
        [sys.executable, "-m", "m2pos.cli", "--config", str(store.config_path), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        before = store.sandbox.control.place_order("simple", payment="authorised")
        wait_for(
            lambda: (
                (row := order_row(store, before["increment_id"])) and row.status == OrderStatus.TRANSFERRED
            ),
            what="the Auto-Invoice order to be transferred",
        )

        log_in(page, site)
        page.get_by_role("link", name="Order settings").click()
        expect(page.get_by_role("heading", name="Lightspeed OnSite")).to_have_count(0)  # memory POS here
        auto = page.get_by_role("radio", name="Auto-Invoice")
        expect(auto).to_be_checked()
        expect(page.get_by_text("changing the mode is not retroactive", exact=False)).to_be_visible()
        expect(page.get_by_text("Another extension that invoices orders automatically")).to_be_visible()
        page.get_by_text("Wait for Invoice", exact=True).click()
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_contain_text("Saved. The next cycle uses these settings.")
        expect(page.get_by_role("radio", name="Wait for Invoice")).to_be_checked()

        # An order paid online but not invoiced: Auto-Invoice would download it, Wait for Invoice waits.
        after = store.sandbox.control.place_order("simple", payment="authorised")
        row = wait_for(
            lambda: order_row(store, after["increment_id"]), what="the next cycle to see the order"
        )
        assert row.status == OrderStatus.WAITING, row.message
        assert "wait for invoice" in (row.message or "").lower(), row.message
        assert store.pos_references() == [before["increment_id"]]

        page.get_by_role("link", name="Orders", exact=True).click()
        page.get_by_label("Search").fill(after["increment_id"])
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name=after["increment_id"]).click()
        expect(page.get_by_role("heading", name=f"Order {after['increment_id']}")).to_contain_text("Waiting")
        expect(page.locator(".decision")).to_contain_text("invoice")
    finally:
        runner.terminate()
        runner.wait(timeout=30)
    ledger = store.ledger()
    try:
        changes = [(c.changed_by, c.settings_json) for c in ledger.settings_changes()]
    finally:
        ledger.close()
    assert any(by == f"console: {USER}" and "wait_for_invoice" in text for by, text in changes)


def test_onsite_fields_appear_and_follow_download_orders_as(site: ConsoleSite, page: Any) -> None:
    site.store.settings["pos"] = {}  # no memory POS keys left over
    site.store.configure(
        pos={
            "kind": "lightspeed_onsite",
            "username": "lightspeed",
            "password": "onsite-password",
            "app_private_id": "private-id",
        }
    )
    site.add_user()
    log_in(page, site)
    page.goto(f"{site.url}/settings")
    expect(page.get_by_role("heading", name="Lightspeed OnSite")).to_be_visible()
    expect(page.get_by_text("We recommend reserving inventory when downloading as Orders")).to_be_visible()
    reserve = page.get_by_role("checkbox", name="Reserve Order Inventory")
    deposits = page.get_by_role("checkbox", name="Create Order Deposits")
    expect(page.get_by_role("radio", name="Invoice", exact=True)).to_be_checked()  # the default
    expect(reserve).to_be_disabled()
    expect(deposits).to_be_disabled()

    page.get_by_text("Order", exact=True).click()
    expect(reserve).to_be_enabled()
    expect(deposits).to_be_enabled()
    reserve.check()
    page.get_by_text("Invoice", exact=True).click()
    expect(reserve).to_be_disabled()
    expect(reserve).not_to_be_checked()

    page.get_by_text("Order", exact=True).click()
    reserve.check()
    deposits.check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    page.reload()
    expect(page.get_by_role("radio", name="Order", exact=True)).to_be_checked()
    expect(reserve).to_be_checked()
    expect(deposits).to_be_checked()
    options = (site.console.settings().pos.model_extra or {})["lightspeed_onsite"]
    assert options == {
        "download_orders_as": "order",
        "reserve_order_inventory": True,
        "create_order_deposits": True,
    }


def test_a_validation_error_is_shown_next_to_its_field(site: ConsoleSite, page: Any) -> None:
    site.add_user()
    log_in(page, site)
    page.goto(f"{site.url}/settings")
    page.get_by_text("Wait for Invoice", exact=True).click()
    page.get_by_label("Check Magento every (seconds)").fill("0")
    page.get_by_role("button", name="Save settings").click()
    field = page.locator('.field[data-key="orders.poll_interval_seconds"]')
    expect(field.get_by_role("alert")).to_contain_text("greater than or equal to 1")
    expect(page.get_by_label("Check Magento every (seconds)")).to_have_attribute("aria-invalid", "true")
    assert site.console.settings().orders.mode == "auto_invoice"  # nothing saved

    page.goto(f"{site.url}/connections")
    page.get_by_label("Store URL").fill("shop.example.com")
    page.get_by_role("button", name="Save connections").click()
    field = page.locator('.field[data-key="magento.base_url"]')
    expect(field.get_by_role("alert")).to_contain_text("must start with https://")


def test_a_failed_order_is_retried_from_its_page(site: ConsoleSite, page: Any) -> None:
    store = site.store
    store.configure(pos={"reject_skus": [SKU]}, orders={"max_attempts": 1})
    order = store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": SKU, "qty": 1}])
    number = order["increment_id"]
    # The CLI as its own process: Playwright's sync API holds this thread's event loop.
    assert store.process("sync", "--once").returncode == 1
    assert order_row(store, number).status == OrderStatus.NEEDS_ATTENTION
    store.configure(pos={"reject_skus": []})  # the merchant fixed the product in the POS

    site.add_user()
    log_in(page, site)
    page.goto(f"{site.url}/orders?status=needs_attention")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Order {number}")).to_contain_text("Needs attention")
    expect(page.get_by_role("alert")).to_contain_text(f"the POS refuses product {SKU}")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order {number} will be retried at the next cycle.")
    expect(page.locator(".timeline")).to_contain_text(f"retry requested by {USER}")

    assert store.process("sync", "--once").returncode == 0
    assert order_row(store, number).status == OrderStatus.TRANSFERRED
    page.reload()
    expect(page.get_by_role("heading", name=f"Order {number}")).to_contain_text("Transferred")
    assert store.pos_references() == [number]


def test_requests_without_login_or_csrf_token_are_refused(site: ConsoleSite, page: Any, browser: Any) -> None:
    site.add_user()
    stranger = browser.new_context()
    try:
        anonymous = stranger.new_page()
        anonymous.goto(f"{site.url}/connections")
        expect(anonymous).to_have_url(f"{site.url}/login?next=/connections")
        refused = stranger.request.post(f"{site.url}/settings", form={"orders__mode": "wait_for_invoice"})
        assert refused.status == 401
    finally:
        stranger.close()

    log_in(page, site)
    no_token = page.request.post(f"{site.url}/settings", form={"orders__mode": "wait_for_invoice"})
    assert no_token.status == 403
    page.goto(f"{site.url}/settings")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    elsewhere = page.request.post(
        f"{site.url}/settings",
        form={"csrf_token": token, "orders__mode": "wait_for_invoice"},
        headers={"Origin": "https://attacker.example"},
    )
    assert elsewhere.status == 403
    assert site.console.settings().orders.mode == "auto_invoice"  # none of them changed anything
    accepted = page.request.post(
        f"{site.url}/settings",
        form={"csrf_token": token, "orders__mode": "wait_for_invoice"},
        max_redirects=0,
    )
    assert accepted.status == 303  # the same request with its token is accepted: the refusals were the guard
    assert site.console.settings().orders.mode == "wait_for_invoice"


def test_the_pages_work_on_a_phone_sized_screen_and_with_the_keyboard(
    site: ConsoleSite, browser: Any
) -> None:
    site.add_user()
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        log_in(page, site)
        for path in ("/status", "/settings", "/connections", "/orders", "/credit-memos", "/notifications"):
            page.goto(f"{site.url}{path}")
            wide = page.evaluate(
                "Array.from(document.querySelectorAll('body *'))"
                ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                ".map(e => e.tagName + '.' + e.className)"
            )
            assert wide == [], f"{path} is wider than a phone: {wide}"
        page.goto(f"{site.url}/settings")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        for _ in range(40):  # the save button is reachable with Tab alone
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Save settings":
                break
        else:
            raise AssertionError("Save settings cannot be reached with the keyboard")
    finally:
        context.close()


def test_resend_shows_what_will_happen_then_the_next_cycle_does_it(site: ConsoleSite, page: Any) -> None:
    store = site.store
    order = store.sandbox.control.place_order("simple", payment="checkmo")  # unpaid: waits
    number = order["increment_id"]
    assert store.process("sync", "--once").returncode == 0
    site.add_user()
    log_in(page, site)
    page.goto(f"{site.url}/orders?q={number}")
    page.get_by_role("link", name=number).click()
    page.get_by_role("link", name="Resend…").click()
    expect(page.get_by_role("heading", name=f"Resend order {number}?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("sends it to the POS even though the download rules did not")
    assert store.pos_references() == []  # nothing happens before the confirmation
    page.get_by_role("button", name="Yes, resend it").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order {number} will be resent at the next cycle.")
    expect(page.locator(".timeline")).to_contain_text(f"resend requested by {USER}")
    assert store.process("sync", "--once").returncode == 0
    assert store.pos_references() == [number]
    page.reload()
    expect(page.locator(".timeline")).to_contain_text("was resent")
