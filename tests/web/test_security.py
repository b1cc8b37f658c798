"""The console's guard over real HTTP: sessions, CSRF, login throttling, first-run set-up, headers,
and secrets that never reach the browser."""

from __future__ import annotations

import re

from tests.web.conftest import PASSWORD, SETUP_CODE, USER, ConsoleSite, csrf_of

SECRET = "p0s-Secret-never-shown"


def login_token(client: object) -> str:
    page = client.get("/login")  # type: ignore[attr-defined]
    found = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_every_page_needs_a_login(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        for path in ("/status", "/status/panel", "/settings", "/connections", "/orders", "/orders/1",
                     "/credit-memos", "/notifications"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path
        for path in ("/settings", "/connections", "/orders/1/retry", "/notifications/test", "/logout"):
            if path == "/logout":
                continue  # logging out needs no session
            assert client.post(path, data={"orders__mode": "wait_for_invoice"}).status_code == 401, path
        assert client.get("/healthz").json() == {"status": "ok"}


def test_a_forged_or_foreign_session_cookie_is_refused(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        client.cookies.set("m2pos_session", "made-up-token")
        assert client.get("/status").status_code == 303


def test_session_cookie_flags_and_security_headers(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        token = login_token(client)
        response = client.post("/login", data={"login_csrf": token, "username": USER, "password": PASSWORD})
        assert response.status_code == 303
        cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "m2pos_session" in v
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = client.get("/status")
        assert page.status_code == 200
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


def test_secure_cookies_over_https(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        token = login_token(client)
        response = client.post(
            "/login",
            data={"login_csrf": token, "username": USER, "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},  # behind a TLS-terminating proxy
        )
        cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "m2pos_session" in v
        )
        assert "Secure" in cookie


def test_login_attempts_are_throttled_per_user_name(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        token = login_token(client)
        for _ in range(5):
            wrong = client.post("/login", data={"login_csrf": token, "username": USER, "password": "nope"})
            assert wrong.status_code == 401
        blocked = client.post("/login", data={"login_csrf": token, "username": USER, "password": PASSWORD})
        assert blocked.status_code == 429  # even the right password waits
        assert "Too many failed logins. Try again in 15 minutes." in blocked.text
        assert "m2pos_session" not in blocked.headers.get("set-cookie", "")


def test_login_needs_its_form_token_and_never_redirects_elsewhere(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        login_token(client)
        forged = client.post("/login", data={"login_csrf": "forged", "username": USER, "password": PASSWORD})
        assert forged.status_code == 403
        token = login_token(client)
        response = client.post(
            "/login",
            data={
                "login_csrf": token,
                "username": USER,
                "password": PASSWORD,
                "next": "https://evil.example/",
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/status"


def test_logout_ends_the_session_on_the_server(site: ConsoleSite) -> None:
    site.add_user()
    client, csrf = site.logged_in_client()
    session = client.cookies["m2pos_session"]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.set("m2pos_session", session)  # a copy of the old cookie no longer works
    assert client.get("/status").status_code == 303


def test_first_run_set_up_needs_the_printed_code_and_happens_once(site: ConsoleSite) -> None:
    with site.client() as client:
        assert client.get("/login").headers["location"] == "/setup"
        page = client.get("/setup")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        form = {"login_csrf": token, "username": "owner", "password": PASSWORD, "repeat": PASSWORD}
        assert client.post("/setup", data={**form, "code": "guess"}).status_code == 403
        short = client.post(
            "/setup", data={**form, "code": SETUP_CODE, "password": "short", "repeat": "short"}
        )
        assert short.status_code == 400 and "at least 10 characters" in short.text
        assert client.post("/setup", data={**form, "code": SETUP_CODE}).status_code == 303
        assert site.console.store.has_users()
    with site.client() as other:
        again = other.post("/setup", data={**form, "code": SETUP_CODE, "username": "intruder"})
        assert again.status_code == 303 and again.headers["location"] == "/login"
        assert site.console.store.user("intruder") is None


def test_secrets_are_encrypted_at_rest_and_never_sent_back(site: ConsoleSite) -> None:
    site.add_user()
    client, csrf = site.logged_in_client()
    saved = client.post("/connections", data={"csrf_token": csrf, "magento__consumer_secret": SECRET})
    assert saved.status_code == 303
    page = client.get("/connections")
    assert SECRET not in page.text
    assert "Saved — leave empty to keep it" in page.text
    # An empty secret keeps the saved one.
    client.post("/connections", data={"csrf_token": csrf_of(page.text), "magento__consumer_secret": ""})
    settings = site.console.settings()
    assert settings.magento.consumer_secret is not None
    assert settings.magento.consumer_secret.get_secret_value() == SECRET
    rows = {row.key: row for row in site.console.store.saved_settings()}
    stored = rows["magento.consumer_secret"]
    assert stored.secret and SECRET not in stored.value_json
    key_file = site.store.directory / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    raw = (site.store.directory / "ledger.db").read_bytes()
    assert SECRET.encode() not in raw


def test_a_setting_set_by_the_environment_cannot_be_changed_in_the_console(site: ConsoleSite) -> None:
    from tests.web.conftest import serve_console

    with serve_console(site.store, environ={"M2POS_ORDERS__MODE": "wait_for_invoice"}) as locked_site:
        locked_site.add_user()
        client, csrf = locked_site.logged_in_client()
        page = client.get("/settings")
        assert "Set by the environment variable M2POS_ORDERS__MODE" in page.text
        assert re.search(r'value="auto_invoice"[^>]*disabled', page.text, re.S)
        client.post("/settings", data={"csrf_token": csrf, "orders__mode": "auto_invoice"})
        assert locked_site.console.settings().orders.mode == "wait_for_invoice"
        assert all(row.key != "orders.mode" for row in locked_site.console.store.saved_settings())
