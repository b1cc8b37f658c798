"""The three headers, demo mode, sessions (cookie, seats, logout) and safe XML parsing."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from m2pos.sandbox.onsite import DEMO_ONSITE_CREDENTIALS, SESSION_COOKIE, OnSiteCredentials

from .conftest import XML, OnSite, parse


def _headers(**changes: str | None) -> dict[str, str]:
    headers = DEMO_ONSITE_CREDENTIALS.headers()
    for key, value in changes.items():
        name = key.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def _raw(onsite: OnSite, headers: dict[str, str], path: str = "/api/") -> httpx.Response:
    with httpx.Client(verify=False, timeout=10) as client:  # noqa: S501
        if "User-Agent" not in headers:
            headers = {**headers, "User-Agent": "python-httpx"}
        return client.get(f"{onsite.base}{path}", headers=headers)


def test_root_with_the_three_headers(onsite: OnSite) -> None:
    response = onsite.get("/api/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text.endswith("<resources/>")
    assert SESSION_COOKIE in response.headers["set-cookie"]


def test_every_header_is_required(onsite: OnSite) -> None:
    no_auth = _raw(onsite, _headers(Authorization=None))
    assert no_auth.status_code == 401 and "Basic" in no_auth.headers["www-authenticate"]
    wrong = "Basic " + base64.b64encode(b"lightspeed:wrong").decode()
    assert _raw(onsite, _headers(Authorization=wrong)).status_code == 401
    assert _raw(onsite, _headers(Authorization="Basic %%%")).status_code == 401
    no_pappid = _raw(onsite, _headers(X_PAPPID=None))
    assert no_pappid.status_code == 403 and "X-PAPPID" in no_pappid.text
    bad_agent = _raw(onsite, _headers(User_Agent="python-httpx"))
    assert bad_agent.status_code == 403
    assert onsite.sandbox.control.sessions() == []  # refused calls open no session
    assert _raw(onsite, _headers()).status_code == 200


def test_demo_mode_accepts_any_private_id_but_other_apps_need_theirs(make_onsite: Any) -> None:
    registered = OnSiteCredentials(
        app_id="com.example.m2pos", app_private_id="5a0e7c1e-0000-4000-8000-000000000001"
    )
    onsite = make_onsite(credentials=registered)
    demo = _headers(X_PAPPID="anything-at-all")
    demo["Authorization"] = registered.headers()["Authorization"]
    assert _raw(onsite, demo).status_code == 200
    assert _raw(onsite, registered.headers()).status_code == 200
    wrong_id = {**registered.headers(), "X-PAPPID": "not-the-registered-id"}
    assert _raw(onsite, wrong_id).status_code == 403
    unknown_app = {**registered.headers(), "User-Agent": "com.example.other/2.0"}
    refused = _raw(onsite, unknown_app)
    assert refused.status_code == 403 and "not licensed" in refused.text
    onsite.sandbox.control.set_config(demo_app_enabled=False)
    assert _raw(onsite, demo).status_code == 403


def test_cookie_reuses_the_session_and_its_absence_opens_another(onsite: OnSite) -> None:
    control = onsite.sandbox.control
    for _ in range(3):
        assert onsite.get("/api/").status_code == 200
    sessions = control.sessions()
    assert len(sessions) == 1 and sessions[0]["requests"] == 3
    for _ in range(2):  # no cookie jar: every call logs in again
        assert _raw(onsite, _headers()).status_code == 200
    assert len(control.sessions()) == 3


def test_seat_limit_and_logout(make_onsite: Any) -> None:
    onsite = make_onsite(seats=2)
    second = onsite.new_client()
    assert onsite.get("/api/").status_code == 200
    assert second.get("/api/").status_code == 200
    third = onsite.new_client()
    refused = third.get("/api/")
    assert refused.status_code == 403 and "seat" in refused.text.lower()
    assert onsite.get("/api/products/", count=1).status_code == 200  # open sessions keep working
    logout = onsite.post("/api/sessions/current/logout/")
    assert logout.status_code == 204 and logout.content == b""
    assert len(onsite.sandbox.control.sessions()) == 1
    assert third.get("/api/").status_code == 200  # the seat was freed
    assert onsite.sandbox.control.clear_sessions() == 2  # a server restart
    assert second.get("/api/").status_code == 200  # its stale cookie just opens a new session


def test_logout_releases_the_sessions_locks(onsite: OnSite) -> None:
    other = onsite.new_client()
    order = onsite.create_order()
    assert onsite.lock(f"/api/orders/{order}/").status_code == 204
    assert other.lock(f"/api/orders/{order}/").status_code == 423
    assert onsite.post("/api/sessions/current/logout/").status_code == 204
    assert other.lock(f"/api/orders/{order}/").status_code == 204


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<customer><name><first>&lol3;</first><last>X</last></name></customer>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE customer [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<customer><name><first>&secret;</first><last>X</last></name></customer>"""


def test_entity_expansion_and_external_entities_are_refused(onsite: OnSite) -> None:
    before = len(onsite.sandbox.control.customers())
    for body in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        response = onsite.post("/api/customers/", body)
        assert response.status_code == 400, response.text
        assert "not allowed" in parse(response).findtext("message", "")
    assert len(onsite.sandbox.control.customers()) == before


def test_bad_bodies(onsite: OnSite) -> None:
    assert onsite.post("/api/customers/", "<customer><name>").status_code == 400
    assert onsite.post("/api/customers/", "<product><code>X</code></product>").status_code == 400
    json_body = onsite.http.post(
        f"{onsite.base}/api/customers/", json={"name": "x"}, headers={"Content-Type": "application/json"}
    )
    assert json_body.status_code == 415
    ok = onsite.http.post(
        f"{onsite.base}/api/customers/",
        content="<customer><name><first>A</first><last>B</last></name></customer>",
        headers={**XML, "Content-Type": "application/xml"},
    )
    assert ok.status_code == 201


def test_routing_details(onsite: OnSite) -> None:
    redirect = onsite.get("/api/products")
    assert redirect.status_code == 301 and redirect.headers["location"].endswith("/api/products/")
    assert onsite.get("/api/nothing/").status_code == 404
    assert onsite.get("/api/orders/abc/").status_code == 404
    not_allowed = onsite.request("DELETE", "/api/products/")
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["allow"]
    missing = onsite.get("/api/products/999999/")
    assert missing.status_code == 404 and parse(missing).findtext("status") == "404"
