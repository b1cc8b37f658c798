"""The console served over real HTTP (uvicorn on a thread) beside a Magento sandbox, a settings
file and a memory POS (``tests/engine/conftest.Store``); a real Chromium driven by Playwright.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from m2pos.ledger import Ledger
from m2pos.sandbox._serve import serve_in_thread
from m2pos.settings import read_layers
from m2pos.web import Console, console_app
from m2pos.web._security import hash_password
from tests.engine.conftest import Store, open_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SETUP_CODE = "setup-code-for-tests"
USER, PASSWORD = "merchant", "a long enough password"


@dataclass
class ConsoleSite:
    store: Store
    console: Console
    ledger: Ledger
    url: str
    clients: list[httpx.Client] = field(default_factory=list)

    def add_user(self, username: str = USER, password: str = PASSWORD) -> None:
        self.console.store.set_user(username, hash_password(password))

    def client(self) -> httpx.Client:
        """A client without a session (closed with the site)."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self.clients.append(client)
        return client

    def logged_in_client(self, username: str = USER, password: str = PASSWORD) -> tuple[httpx.Client, str]:
        """An HTTP client with a session, and the session's CSRF token (read from a page)."""
        client = self.client()
        page = client.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token, page.text
        response = client.post(
            "/login", data={"login_csrf": token.group(1), "username": username, "password": password}
        )
        assert response.status_code == 303, response.text
        return client, csrf_of(client.get("/settings").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@contextmanager
def serve_console(store: Store, environ: dict[str, str] | None = None) -> Iterator[ConsoleSite]:
    """The console of ``store`` (its settings file, its ledger), as ``m2pos web`` serves it."""
    ledger = Ledger.open(store.database_url)
    app, console, _ = console_app(
        lambda: read_layers(store.config_path, environ or {}),
        ledger,
        environ=environ or {},
        setup_code=SETUP_CODE,
    )
    try:
        with serve_in_thread(app) as url:
            console_site = ConsoleSite(store, console, ledger, url)
            yield console_site
            for client in console_site.clients:
                client.close()
    finally:
        ledger.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ConsoleSite]:
    with open_store(tmp_path) as store:
        store.configure(state={"secret_key_file": str(tmp_path / "secret.key")})
        with serve_console(store) as console_site:
            yield console_site


@pytest.fixture
def browser() -> Iterator[Any]:
    """A Chromium per test: Playwright's sync API runs an event loop in this thread while it is open,
    so it must be closed before a later test runs ``asyncio.run`` (the CLI in-process)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def log_in(page: Any, site: ConsoleSite, username: str = USER, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/status")
