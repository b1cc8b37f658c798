"""Attacks on the console over real HTTP: anonymous requests to every route, forged and replayed
sessions, cross-site requests to every state-changing POST, open redirects, and secrets leaking
into pages, logs or the ledger file. ``test_security.py`` covers the basics; this file goes wider.

Routes are read from the app itself, so a route added later is attacked too.
"""

from __future__ import annotations

import http.client
import logging
import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute

from m2pos.ledger import OrderStatus, utcnow
from m2pos.web._app import WebOptions, _local, create_app
from m2pos.web._security import new_token
from tests.engine.conftest import open_store
from tests.web.conftest import PASSWORD, SETUP_CODE, USER, ConsoleSite, serve_console

SKU = "24-MB01"
# Reachable without a session (each has its own guard: a form token, the set-up code, a bearer token).
PUBLIC = {"/login", "/setup", "/healthz", "/metrics"}
EVIL = "evil.example"


def routes(site: ConsoleSite) -> list[tuple[str, str]]:
    """(method, path) of every route of the console, path parameters filled with 1."""
    app = create_app(site.console, WebOptions(setup_code=SETUP_CODE))
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue  # the /static mount
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path))
    return found


def login_token(client: httpx.Client) -> str:
    found = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
    assert found
    return found.group(1)


def snapshot(site: ConsoleSite) -> dict[str, list[Any]]:
    """Every row of the ledger file (the console writes nothing else), to tell that nothing changed."""
    path = site.store.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        rows = {}
        for table in tables:
            query = f'SELECT * FROM "{table}"'  # noqa: S608 - a name read from sqlite_master
            rows[table] = sorted(map(repr, db.execute(query)))
        return rows


@pytest.fixture
def m2pos_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every m2pos record, even after an in-process CLI run turned propagation off."""
    logger = logging.getLogger("m2pos")
    saved = logger.propagate, logger.level
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    logger.setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.propagate, logger.level = saved


def failed_order(site: ConsoleSite) -> Any:
    """An order that needs attention (the POS refused its product), for the retry and resend routes."""
    store = site.store
    store.configure(pos={"reject_skus": [SKU]}, orders={"max_attempts": 1})
    order = store.sandbox.control.place_order("simple", payment="authorised", items=[{"sku": SKU, "qty": 1}])
    store.cli("sync", "--once")
    rows, _ = site.console.store.search_orders(order["increment_id"], None, 10, 0)
    assert len(rows) == 1 and rows[0].status == OrderStatus.NEEDS_ATTENTION
    return rows[0]


# --- authentication --------------------------------------------------------------------------------


def test_every_route_but_the_public_ones_refuses_an_anonymous_request(site: ConsoleSite) -> None:
    site.add_user()
    found = routes(site)
    # The enumeration sees the console's pages (so an empty route table cannot pass).
    assert {("GET", "/settings"), ("POST", "/connections"), ("POST", "/logout")} <= set(found)
    with site.client() as client:
        checked = 0
        for method, path in found:
            if path in PUBLIC:
                continue
            response = client.request(
                method, path, data={"csrf_token": "guess", "orders__mode": "auto_invoice"}
            )
            if method == "GET":
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/login?next="), path
            else:
                assert response.status_code in (401, 403), (method, path, response.status_code)
            assert "csrf_token" not in response.text, path
            checked += 1
        assert checked >= 20
        # The public ones guard themselves.
        assert client.get("/metrics").status_code == 404  # no web.metrics_token: nothing to scrape
    assert site.console.store.saved_settings() == []


@pytest.mark.parametrize(
    "raw_path",
    [
        "/static/../settings",
        "/static/%2e%2e/settings",
        "/static/..%2fsettings",
        "/login/../settings",
        "/login%2f..%2fsettings",
        "/healthz/../connections",
        "//settings",
        "/settings/",
        "/SETTINGS",
        "/settings;login",
        "/setup/../connections",
    ],
)
def test_a_crafted_path_does_not_slip_past_the_guard(site: ConsoleSite, raw_path: str) -> None:
    """Sent byte for byte (httpx would normalise the dots): the guard and the router must agree."""
    site.add_user()
    parts = urlsplit(site.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("GET", raw_path)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    assert response.status in (303, 307, 400, 401, 403, 404), (raw_path, response.status)
    if response.status in (303, 307):
        location = response.getheader("location") or ""
        assert location.startswith("/login") or location.startswith("/settings"), location
    assert "csrf_token" not in body and "Consumer secret" not in body, raw_path


def test_repeated_wrong_passwords_from_one_address_are_throttled_across_user_names(site: ConsoleSite) -> None:
    """Password spraying: five failures from one address, each on another user name, block the address."""
    site.add_user()
    with site.client() as client:
        token = login_token(client)
        for i in range(5):
            wrong = client.post(
                "/login", data={"login_csrf": token, "username": f"guess{i}", "password": "nope-nope-nope"}
            )
            assert wrong.status_code == 401
        blocked = client.post("/login", data={"login_csrf": token, "username": USER, "password": PASSWORD})
        assert blocked.status_code == 429
        assert "m2pos_session" not in blocked.headers.get("set-cookie", "")
        assert "m2pos_session" not in client.cookies


def test_an_unknown_user_and_a_wrong_password_look_the_same(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        token = login_token(client)
        unknown = client.post(
            "/login", data={"login_csrf": token, "username": "nobody", "password": "x" * 12}
        )
        wrong = client.post("/login", data={"login_csrf": token, "username": USER, "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong user name or password." in unknown.text and "Wrong user name or password." in wrong.text


def _refused_as_session(site: ConsoleSite, cookie: str, csrf: str, page: str = "/settings") -> None:
    """With ``cookie`` as its session, a browser is sent to the login from ``page`` and may not post."""
    with site.client() as browser:
        browser.cookies.set("m2pos_session", cookie)
        assert browser.get(page).status_code == 303
        posted = browser.post("/settings", data={"csrf_token": csrf, "orders__mode": "wait_for_invoice"})
        assert posted.status_code == 401


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
        lambda t: t + "A",  # one appended
        lambda t: t[:-4],  # truncated
        lambda t: t.upper(),
        lambda t: t[::-1],
        lambda t: "",
        lambda t: "' OR '1'='1",
    ],
    ids=["flipped", "appended", "truncated", "case", "reversed", "empty", "sql"],
)
def test_a_tampered_session_cookie_is_refused(site: ConsoleSite, tamper: Any) -> None:
    site.add_user()
    client, csrf = site.logged_in_client()
    real = client.cookies["m2pos_session"]
    assert client.get("/settings").status_code == 200  # the real one works: the refusals below mean something
    _refused_as_session(site, tamper(real), csrf)
    assert site.console.store.saved_settings() == []


def test_a_cookie_replayed_after_logout_cannot_post(site: ConsoleSite) -> None:
    site.add_user()
    client, csrf = site.logged_in_client()
    old = client.cookies["m2pos_session"]
    logged_out = client.post("/logout", data={"csrf_token": csrf})
    assert logged_out.status_code == 303
    assert any(
        "m2pos_session=" in v and ("Max-Age=0" in v or "expires=" in v.lower())
        for k, v in logged_out.headers.multi_items()
        if k == "set-cookie"
    ), "the logout does not clear the cookie in the browser"
    _refused_as_session(site, old, csrf, page="/connections")
    assert site.console.store.saved_settings() == []


def test_an_expired_session_is_refused_by_the_server(site: ConsoleSite) -> None:
    """The cookie's Max-Age is only advice to the browser: the server checks the expiry itself."""
    site.add_user()
    token, csrf, live = new_token(), new_token(), new_token()
    site.console.store.create_session(live, USER, csrf, utcnow(), timedelta(hours=12))
    # Created last: creating a session sweeps out the expired ones, and this one must stay in the table.
    site.console.store.create_session(token, USER, csrf, utcnow() - timedelta(hours=13), timedelta(hours=12))
    assert len(snapshot(site)["console_sessions"]) == 2
    with site.client() as client:
        client.cookies.set("m2pos_session", live)
        assert client.get("/settings").status_code == 200  # the same row, not expired, works
    _refused_as_session(site, token, csrf)


def test_a_session_of_another_console_is_refused(site: ConsoleSite, tmp_path: Path) -> None:
    """Sessions are random tokens looked up in this console's ledger (not signed cookies): a valid
    session of another m2pos, with its own ledger and key, is worth nothing here."""
    site.add_user()
    with open_store(tmp_path / "other") as other_store:
        other_store.configure(state={"secret_key_file": str(tmp_path / "other" / "secret.key")})
        with serve_console(other_store) as other:
            other.add_user()
            client, csrf = other.logged_in_client()
            assert client.get("/settings").status_code == 200
            foreign = client.cookies["m2pos_session"]
    _refused_as_session(site, foreign, csrf)


def test_a_planted_session_cookie_is_replaced_at_login(site: ConsoleSite) -> None:
    """Session fixation: a token set before login (by a sibling sub-domain, say) is not adopted."""
    site.add_user()
    planted = new_token()
    with site.client() as client:
        client.cookies.set("m2pos_session", planted)
        token = login_token(client)
        response = client.post("/login", data={"login_csrf": token, "username": USER, "password": PASSWORD})
        assert response.status_code == 303
        issued = response.cookies.get("m2pos_session")
        assert issued and issued != planted
    with site.client() as attacker:
        attacker.cookies.set("m2pos_session", planted)
        assert attacker.get("/status").status_code == 303


def test_cookie_flags_of_every_cookie_the_console_sets(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        page = client.get("/login")
        login_cookie = page.headers["set-cookie"]
        assert "m2pos_login_csrf=" in login_cookie
        assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie
        assert "Secure" not in login_cookie  # plain HTTP (a Secure cookie would never come back)
        token = login_token(client)
        response = client.post("/login", data={"login_csrf": token, "username": USER, "password": PASSWORD})
        session_cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "m2pos_session=" in v
        )
        assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
        assert "Max-Age=43200" in session_cookie  # web.session_hours = 12
        assert "Path=/" in session_cookie and "Domain=" not in session_cookie


def test_secure_cookies_when_the_settings_say_so(site: ConsoleSite) -> None:
    site.store.configure(web={"secure_cookies": True})
    site.add_user()
    with site.client() as client:
        assert "Secure" in client.get("/login").headers["set-cookie"]
        token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.cookies.set("m2pos_login_csrf", token)  # httpx would not send a Secure cookie over HTTP
        response = client.post("/login", data={"login_csrf": token, "username": USER, "password": PASSWORD})
        assert response.status_code == 303
        session_cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "m2pos_session=" in v
        )
        assert "Secure" in session_cookie


# --- CSRF ------------------------------------------------------------------------------------------


def test_every_post_without_the_right_token_is_refused_and_changes_nothing(site: ConsoleSite) -> None:
    order = failed_order(site)
    site.add_user()
    client, csrf = site.logged_in_client()
    _, other_csrf = site.logged_in_client()
    assert other_csrf != csrf
    forms = {
        "/settings": {"orders__mode": "wait_for_invoice"},
        "/connections": {"magento__consumer_secret": "attacker-secret"},
        "/notifications": {"notifications__recipients": "attacker@evil.example"},
    }
    posts = [path.replace("/1/", f"/{order.id}/") for method, path in routes(site) if method == "POST"]
    posts = [p for p in posts if p not in PUBLIC]
    assert "/logout" in posts and f"/orders/{order.id}/retry" in posts
    before = snapshot(site)
    attempts: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("no token", {}, {}),
        ("empty token", {"csrf_token": ""}, {}),
        ("wrong token", {"csrf_token": new_token()}, {}),
        ("another session's token", {"csrf_token": other_csrf}, {}),
        ("another session's token in the header", {}, {"X-CSRF-Token": other_csrf}),
        ("right token, another site", {"csrf_token": csrf}, {"Origin": f"https://{EVIL}"}),
        ("right token, another port", {"csrf_token": csrf}, {"Origin": "http://127.0.0.1:1"}),
    ]
    for path in posts:
        for name, token, headers in attempts:
            data = {**forms.get(path, {}), **token}
            response = client.post(path, data=data, headers=headers)
            assert response.status_code == 403, (path, name, response.status_code)
            assert "Refused" in response.text, (path, name)
    # A token sent only in a non-form body (JSON, multipart) is not read: refused as missing.
    assert (
        client.post("/settings", json={"csrf_token": csrf, "orders__mode": "wait_for_invoice"}).status_code
        == 403
    )
    assert client.post("/settings", files={"csrf_token": (None, csrf)}).status_code == 403
    assert snapshot(site) == before, "a refused request changed the ledger"
    assert client.get("/status").status_code == 200, "a refused /logout ended the session"
    # The same requests with the right token do change things (so the refusals above mean something).
    assert client.post("/settings", data={"csrf_token": csrf, **forms["/settings"]}).status_code == 303
    assert site.console.settings().orders.mode == "wait_for_invoice"
    retried = client.post(f"/orders/{order.id}/retry", headers={"X-CSRF-Token": csrf})
    assert retried.status_code == 303
    assert snapshot(site) != before
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/status").status_code == 303


def test_login_and_set_up_forms_need_their_double_submit_token(site: ConsoleSite) -> None:
    """Login CSRF: a page elsewhere must not log the browser into an account of the attacker's."""
    site.add_user()
    with site.client() as client:
        token = login_token(client)
        form = {"username": USER, "password": PASSWORD}
        assert client.post("/login", data=form).status_code == 403  # no form token
        assert client.post("/login", data={**form, "login_csrf": new_token()}).status_code == 403
        evil = client.post(
            "/login", data={**form, "login_csrf": token}, headers={"Origin": f"https://{EVIL}"}
        )
        assert evil.status_code == 403
        assert "m2pos_session" not in evil.headers.get("set-cookie", "")
    with site.client() as no_cookie:  # the form token without its cookie (a forged cross-site form)
        response = no_cookie.post("/login", data={**form, "login_csrf": token})
        assert response.status_code == 403 and "m2pos_session" not in no_cookie.cookies
    with site.client() as client:
        token = login_token(client)
        assert client.post("/login", data={**form, "login_csrf": token}).status_code == 303  # control


@pytest.mark.parametrize(
    "target",
    [
        f"https://{EVIL}/",
        f"//{EVIL}",
        f"///{EVIL}",
        f"/\\{EVIL}",
        f"\\\\{EVIL}",
        f"/\t/{EVIL}",
        f"https:{EVIL}",
        f"http:/\\{EVIL}",
        "javascript:alert(1)",
        f"  //{EVIL}",
        f"/%2F{EVIL}",
        f"%2F%2F{EVIL}",
        f"/\r\nLocation: https://{EVIL}/",
    ],
)
def test_the_login_next_never_leaves_the_site(site: ConsoleSite, target: str) -> None:
    site.add_user()
    with site.client() as client:
        page = client.get("/login", params={"next": target})
        assert page.status_code == 200
        token = login_token(client)
        response = client.post(
            "/login", data={"login_csrf": token, "username": USER, "password": PASSWORD, "next": target}
        )
        assert response.status_code == 303
        location = response.headers["location"]
    # Resolved as a browser would (it reads a backslash as a slash and drops tabs and newlines).
    browser_view = re.sub(r"^[\x00-\x20]+|[\t\r\n]", "", location).replace("\\", "/")
    browser_view = re.sub(r"^/{2,}", "//", browser_view)  # "///host" is "//host" to a browser
    resolved = urlsplit(urljoin(site.url + "/login", browser_view))
    assert resolved.scheme == "http" and resolved.netloc == urlsplit(site.url).netloc, location
    assert EVIL not in resolved.netloc
    assert all(k.lower() != "location" or v == location for k, v in response.headers.multi_items())


def test_a_local_next_is_followed_and_escaped_on_the_page(site: ConsoleSite) -> None:
    site.add_user()
    with site.client() as client:
        page = client.get("/login", params={"next": '/orders"><script>alert(1)</script>'})
        assert "<script>alert(1)</script>" not in page.text
        token = login_token(client)
        response = client.post(
            "/login",
            data={"login_csrf": token, "username": USER, "password": PASSWORD, "next": "/orders?q=1"},
        )
        assert response.headers["location"] == "/orders?q=1"


# --- secrets ---------------------------------------------------------------------------------------

SECRETS = {
    "magento__consumer_key": "ck-Leak-4f1b9d2e",
    "magento__consumer_secret": "cs-Leak-8a7c6e5d",
    "magento__access_token": "at-Leak-3b2a1f0e",
    "magento__access_token_secret": "ats-Leak-9d8c7b6a",
    "pos__password": "posPw-Leak-5e4d3c2b",
    "pos__app_private_id": "posPriv-Leak-1a2b3c4d",
}
SMTP_SECRET = "smtpPw-Leak-7f6e5d4c"


def _plain(value: Any) -> str:
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def test_saved_secrets_appear_in_no_page_log_or_file(
    site: ConsoleSite, m2pos_logs: pytest.LogCaptureFixture
) -> None:
    site.store.settings["pos"] = {}
    site.store.configure(
        pos={
            "kind": "lightspeed_onsite",
            "base_url": "https://127.0.0.1:9/api/",  # nothing listens there
            "username": "lightspeed",
            "verify_tls": False,
            "max_attempts": 1,
            "timeout_seconds": 2,
        },
        web={"metrics_token": "metrics-token-for-tests"},
    )
    site.add_user()
    client, csrf = site.logged_in_client()
    saved = client.post("/connections", data={"csrf_token": csrf, **SECRETS})
    assert saved.status_code == 303, saved.text
    saved = client.post(
        "/notifications", data={"csrf_token": csrf, "notifications__smtp_password": SMTP_SECRET}
    )
    assert saved.status_code == 303, saved.text
    secrets = [*SECRETS.values(), SMTP_SECRET]
    settings = site.console.settings()
    assert (
        settings.pos.model_extra and _plain(settings.pos.model_extra["password"]) == SECRETS["pos__password"]
    )
    assert (
        settings.magento.consumer_key
        and settings.magento.consumer_key.get_secret_value() == SECRETS["magento__consumer_key"]
    )

    responses: list[httpx.Response] = []
    for method, path in routes(site):
        if method == "GET":
            responses.append(client.get(path))
    responses += [
        # Error pages: a form refused for another field, connection checks that fail, unknown things.
        client.post(
            "/connections",
            data={
                "csrf_token": csrf,
                "magento__base_url": "not a url",
                "magento__consumer_secret": "typed-Leak-0",
            },
        ),
        client.post("/connections/test/magento", data={"csrf_token": csrf}),
        client.post("/connections/test/pos", data={"csrf_token": csrf}),
        client.post("/connections/test/pos", data={"csrf_token": csrf, "pos__base_url": "::bad::"}),
        client.post("/notifications/test", data={"csrf_token": csrf}),
        client.get("/orders/999999"),
        client.get("/no-such-page"),
        client.post("/settings", data={"csrf_token": "wrong"}),
        client.get("/metrics", headers={"Authorization": "Bearer metrics-token-for-tests"}),
        client.get("/metrics", headers={"Authorization": "Bearer wrong"}),
        client.get("/healthz"),
    ]
    assert responses[0].status_code in (200, 303)
    assert any(r.status_code == 200 and "Saved — leave empty to keep it" in r.text for r in responses)
    for response in responses:
        text = response.text + "".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        for secret in [*secrets, "typed-Leak-0"]:
            assert secret not in text, (response.request.url, secret)

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in m2pos_logs.records) + m2pos_logs.text
    assert m2pos_logs.records, "nothing was logged: the capture is not wired"
    for secret in secrets:
        assert secret not in logged, secret

    directory = site.store.directory
    files = [p for p in directory.iterdir() if p.name.startswith("ledger.db")] + [site.store.config_path]
    assert any(p.name == "ledger.db" for p in files)
    for path in files:
        raw = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in raw, (path.name, secret)
            assert secret.encode("utf-16-le") not in raw, (path.name, secret)


def test_secrets_from_the_settings_file_are_not_sent_to_the_browser(site: ConsoleSite) -> None:
    site.add_user()
    client, _ = site.logged_in_client()
    file_secrets = [str(v) for k, v in site.store.settings["magento"].items() if k != "base_url"]
    assert len(file_secrets) == 4
    for method, path in routes(site):
        if method == "GET":
            text = client.get(path).text
            for secret in file_secrets:
                assert secret not in text, (path, secret)


@pytest.mark.parametrize(
    "target", ["/\\evil.example", "/\\/evil.example", "/\tevil", "/ok\r\nSet-Cookie: x=1"]
)
def test_the_login_redirect_refuses_backslashes_and_control_characters_itself(target: str) -> None:
    # Not only because Starlette percent-encodes them in Location: the check itself refuses them.
    assert _local(target) == "/status"
    assert _local("/orders?status=failed") == "/orders?status=failed"
