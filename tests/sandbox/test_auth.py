"""Authentication over real HTTP: OAuth 1.0a signed by oauthlib, Bearer tokens, 2FA, store codes."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256

from m2pos.sandbox.magento import DEMO_CREDENTIALS, SandboxCredentials
from m2pos.sandbox.magento._oauth import strnatcmp

from .conftest import Magento, oauth_sign

PAGE = {"searchCriteria[pageSize]": 1}


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1])
def test_oauth_signed_request_is_accepted(magento: Magento, method: str) -> None:
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "created_at",
        "searchCriteria[filter_groups][0][filters][0][value]": "2020-01-01 00:00:00",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "gt",
        "searchCriteria[pageSize]": 5,
        "fields": "items[entity_id,increment_id],total_count",
    }
    resp = magento.get("/V1/orders", params, signature_method=method)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"items": None, "total_count": 0}  # empty list filtered by fields -> null


def test_bad_signature_is_refused(magento: Magento) -> None:
    resp = magento.get("/V1/orders", PAGE, consumer_secret="x" * 32)
    assert resp.status_code == 401
    assert resp.json() == {"message": "The signature is invalid. Verify and try again."}


def test_tampered_query_breaks_the_signature(magento: Magento) -> None:
    url = magento.url("/V1/orders", PAGE)
    headers = oauth_sign("GET", url)
    resp = magento.http.get(url.replace("pageSize%5D=1", "pageSize%5D=2"), headers=headers)
    assert resp.status_code == 401


def test_plus_for_space_in_query_fails_like_magento(magento: Magento) -> None:
    # Magento rawurldecodes query values, so a '+' stays '+' while oauthlib signs it as a space.
    url = magento.url("/V1/orders", {"searchCriteria[pageSize]": 1}) + "&x=a+b"
    resp = magento.http.get(url, headers=oauth_sign("GET", url))
    assert resp.status_code == 401
    good = magento.url("/V1/orders", {"searchCriteria[pageSize]": 1}) + "&x=a%20b"
    assert magento.http.get(good, headers=oauth_sign("GET", good)).status_code == 200


def test_future_timestamp_beyond_600s_is_refused(magento: Magento) -> None:
    resp = magento.get("/V1/orders", PAGE, timestamp=int(time.time()) + 700)
    assert resp.status_code == 401
    assert resp.json() == {"message": "An error occurred validating the nonce"}
    ok = magento.get("/V1/orders", PAGE, timestamp=int(time.time()) + 500)
    assert ok.status_code == 200


def test_skewed_server_clock(make_magento: Any) -> None:
    behind = make_magento(clock_offset_seconds=-900)  # the server is 15 min behind: client is "future"
    assert behind.get("/V1/orders", PAGE).status_code == 401
    ahead = make_magento(clock_offset_seconds=900)  # Magento only refuses future timestamps
    assert ahead.get("/V1/orders", PAGE).status_code == 200


def test_skewed_clock_shows_in_date_header(make_magento: Any) -> None:
    m = make_magento(clock_offset_seconds=-86400)
    dates = m.get("/V1/orders", PAGE).headers.get_list("date")
    yesterday = time.gmtime(time.time() - 86400).tm_mday
    assert any(int(d.split()[1]) == yesterday for d in dates)


def test_reused_nonce_is_refused(magento: Magento) -> None:
    first = magento.get("/V1/orders", PAGE, nonce="fixednonce123")
    again = magento.get("/V1/orders", PAGE, nonce="fixednonce123")
    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json() == {
        "message": "The nonce is already being used by the consumer with ID %1",
        "parameters": ["1"],
    }


def test_unsupported_signature_method(magento: Magento) -> None:
    url = magento.url("/V1/orders", PAGE)
    header = oauth_sign("GET", url)["Authorization"].replace("HMAC-SHA256", "HMAC-MD5")
    resp = magento.http.get(url, headers={"Authorization": header})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Signature method %1 is not supported", "parameters": ["HMAC-MD5"]}


def test_missing_oauth_parameter(magento: Magento) -> None:
    url = magento.url("/V1/orders", PAGE)
    header = oauth_sign("GET", url)["Authorization"]
    params = [p.strip() for p in header.removeprefix("OAuth ").split(",") if "oauth_nonce" not in p]
    header = "OAuth " + ", ".join(params)
    resp = magento.http.get(url, headers={"Authorization": header})
    assert resp.status_code == 400
    assert resp.json()["parameters"] == {"fieldName": "oauth_nonce"}


def test_unknown_consumer(magento: Magento) -> None:
    other = SandboxCredentials("k" * 32, "s" * 32, DEMO_CREDENTIALS.access_token, "t" * 32)
    resp = magento.get("/V1/orders", PAGE, creds=other)
    assert resp.status_code == 401
    assert resp.json()["message"] == "A consumer having the specified key does not exist"


def test_no_credentials_gives_the_acl_message(magento: Magento) -> None:
    resp = magento.get("/V1/orders", PAGE, auth="none")
    assert resp.status_code == 401
    assert resp.json() == {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Sales::sales"},
    }


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("GET", "/V1/products", "Magento_Catalog::products"),
        ("GET", "/V1/inventory/source-items", "Magento_InventoryApi::source"),
        ("POST", "/V1/inventory/source-items", "Magento_InventoryApi::stock_source_item_assign"),
        ("PUT", "/V1/products/ABC%2F10/stockItems/1", "Magento_CatalogInventory::cataloginventory"),
        ("POST", "/V1/order/1/invoice", "Magento_Sales::sales"),
    ],
)
def test_integration_token_as_bearer_is_refused_by_default(
    magento: Magento, method: str, path: str, resource: str
) -> None:
    resp = magento.request(method, path, PAGE if method == "GET" else None, {}, auth="integration-bearer")
    assert resp.status_code == 401
    assert resp.json()["parameters"] == {"resources": resource}


def test_integration_token_as_bearer_when_allowed(make_magento: Any) -> None:
    m = make_magento(allow_integration_bearer=True)
    assert m.get("/V1/orders", PAGE, auth="integration-bearer").status_code == 200
    m.sandbox.control.set_config(allow_integration_bearer=False)
    assert m.get("/V1/orders", PAGE, auth="integration-bearer").status_code == 401


def test_admin_token_with_two_factor_auth(magento: Magento) -> None:
    creds = magento.sandbox.credentials
    body = {"username": creds.admin_username, "password": creds.admin_password}
    resp = magento.post("/V1/integration/admin/token", body, auth="none")
    assert resp.status_code == 401
    assert resp.json()["message"] == "Please use the 2fa provider-specific endpoints to obtain a token."
    wrong = magento.post("/V1/integration/admin/token", {**body, "password": "nope"}, auth="none")
    assert wrong.status_code == 401
    assert wrong.json()["message"].startswith("The account sign-in was incorrect")


def test_admin_token_without_two_factor_auth_is_a_bearer(make_magento: Any) -> None:
    m = make_magento(two_factor_auth=False)
    creds = m.sandbox.credentials
    resp = m.post(
        "/V1/integration/admin/token",
        {"username": creds.admin_username, "password": creds.admin_password},
        auth="none",
    )
    assert resp.status_code == 200
    token = resp.json()
    assert isinstance(token, str)
    url = m.url("/V1/orders", PAGE)
    assert m.http.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert m.http.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    missing = m.post("/V1/integration/admin/token", {"username": "admin"}, auth="none")
    assert missing.status_code == 400
    assert missing.json()["parameters"] == {"fieldName": "password"}


def test_https_redirect(make_magento: Any) -> None:
    m = make_magento(https_redirect=True)
    resp = m.get("/V1/orders", PAGE)
    assert resp.status_code == 301
    assert resp.headers["location"].startswith("https://")
    assert resp.headers["location"].endswith("/rest/default/V1/orders?searchCriteria%5BpageSize%5D=1")


def test_store_codes(magento: Magento) -> None:
    base = magento.base
    for path, status in (
        ("/rest/V1/orders", 200),
        ("/rest/default/V1/orders", 200),
        ("/rest/french/V1/orders", 200),
        ("/rest/nosuchstore/V1/orders", 404),
    ):
        url = f"{base}{path}?searchCriteria%5BpageSize%5D=1"
        assert magento.http.get(url, headers=oauth_sign("GET", url)).status_code == status, path
    url = f"{base}/rest/all/V1/orders?searchCriteria%5BpageSize%5D=1"
    resp = magento.http.get(url, headers=oauth_sign("GET", url))
    assert resp.status_code == 400
    assert resp.json() == {"message": "Cannot perform GET operation with store code 'all'"}


def test_unknown_route_is_404_before_auth(magento: Magento) -> None:
    resp = magento.http.get(f"{magento.base}/rest/V1/nothing/here")
    assert resp.status_code == 404
    assert resp.json() == {"message": "Request does not match any route."}
    wrong_method = magento.request("DELETE", "/V1/orders", None)
    assert wrong_method.status_code == 404


def test_encoded_slash_in_path_breaks_oauth_by_default(make_magento: Any) -> None:
    body = {"stockItem": {"qty": 3, "is_in_stock": True}}
    buggy = make_magento()
    assert buggy.put("/V1/products/ABC%2F10/stockItems/1", body).status_code == 401
    fixed = make_magento(oauth_encoded_slash_bug=False)
    resp = fixed.put("/V1/products/ABC%2F10/stockItems/1", body)
    assert resp.status_code == 200, resp.text


def test_strnatcmp_matches_php_natural_order() -> None:
    keys = ["a%5B10%5D", "a%5B2%5D", "a%5B1%5D", "oauth_nonce", "fields", "a01", "a1"]
    ordered = sorted(keys, key=functools.cmp_to_key(strnatcmp))
    assert ordered == ["a%5B1%5D", "a%5B2%5D", "a%5B10%5D", "a01", "a1", "fields", "oauth_nonce"]
    assert strnatcmp("img12", "img10") == 1
    assert strnatcmp("x", "x") == 0


def test_ten_or_more_indexes_break_rfc_ordered_signatures(magento: Magento) -> None:
    # Laminas sorts the signed parameters with PHP's strnatcmp ("[2]" before "[10]"), oauthlib with
    # byte order ("[10]" before "[2]"): their signatures differ once an index reaches 10.
    groups = {f"searchCriteria[filter_groups][{i}][filters][0][field]": "entity_id" for i in range(11)}
    assert magento.get("/V1/orders", dict(list(groups.items())[:10])).status_code == 200
    assert magento.get("/V1/orders", groups).status_code == 401
