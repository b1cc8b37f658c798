"""OAuth 1.0a signing, cross-checked against a from-scratch port of Adobe's documented algorithm."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from m2pos.magento import BearerToken, MagentoClient, OAuth1Credentials, SearchCriteria
from tests.magento.conftest import FakeMagento, error_response, json_response, search_result

CREDS = ("ck_2f9a", "cs_s3cr3t", "at_7b1c", "ats_t0ps3cr3t")


def rawurlencode(value: str) -> str:
    """PHP's rawurlencode (RFC 3986): everything but A-Z a-z 0-9 - _ . ~ is percent-encoded."""
    return quote(value, safe="~")


def rawurldecode(value: str) -> str:
    return unquote(value)  # unlike parse_qs, a '+' stays a '+'


def natural_key(text: str) -> list[int | str]:
    """Natural order by digit runs, as PHP's strnatcmp orders our bracketed keys."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def adobe_signature(
    method: str,
    url: str,
    oauth: dict[str, str],
    consumer_secret: str,
    token_secret: str,
    algo: str,
    *,
    natural: bool = True,
) -> str:
    """Adobe's standalone example (gs-authentication-token.md), written from its description.

    base = METHOD & rawurlencode(scheme://host/path) & rawurlencode(sorted k=v), where the pairs are
    the oauth parameters plus the query pairs, each rawurldecoded and re-encoded; the key is
    consumerSecret&tokenSecret. Magento's verifier (Laminas) sorts the encoded keys with strnatcmp.
    """
    parts = urlsplit(url)
    base_uri = f"{parts.scheme}://{parts.netloc}{parts.path}"
    pairs = [(rawurlencode(k), rawurlencode(v)) for k, v in oauth.items() if k != "oauth_signature"]
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        pairs.append((rawurlencode(rawurldecode(key)), rawurlencode(rawurldecode(value))))
    pairs.sort(key=lambda kv: (natural_key(kv[0]), natural_key(kv[1])) if natural else kv)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), rawurlencode(base_uri), rawurlencode(normalized)])
    key = f"{consumer_secret}&{token_secret}"
    digest = hashlib.sha256 if algo == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new(key.encode(), base.encode(), digest).digest()).decode()


def parse_oauth_header(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    fields = {}
    for part in header[len("OAuth ") :].split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = unquote(value.strip('"'))
    return fields


def assert_signed_like_adobe(request: httpx.Request, algo: str = "HMAC-SHA256") -> None:
    oauth = parse_oauth_header(request.headers["Authorization"])
    assert oauth["oauth_signature_method"] == algo
    assert oauth["oauth_consumer_key"] == CREDS[0]
    assert oauth["oauth_token"] == CREDS[2]
    expected = adobe_signature(request.method, str(request.url), oauth, CREDS[1], CREDS[3], algo)
    assert oauth["oauth_signature"] == expected


@pytest.fixture
def oauth_client(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> MagentoClient:
    return make_client(auth=OAuth1Credentials(*CREDS))


async def test_a_search_request_is_signed_with_its_query_string(
    fake: FakeMagento, oauth_client: MagentoClient
) -> None:
    fake.on("GET", "/orders", json_response(search_result([{"entity_id": 1}])))
    criteria = (
        SearchCriteria().where("updated_at", "gteq", "2024-01-01 00:00:00").where("state", "in", ["new"])
    )
    async with oauth_client:
        await oauth_client.orders(criteria, fields="items[entity_id,increment_id]").to_list()
    (request,) = fake.requests
    assert "searchCriteria%5Bfilter_groups%5D" in str(request.url)
    assert "2024-01-01%2000%3A00%3A00" in str(request.url)  # a space travels as %20, never '+'
    assert_signed_like_adobe(request)


async def test_a_sku_with_a_slash_is_sent_and_signed_as_percent_2f(
    fake: FakeMagento, oauth_client: MagentoClient
) -> None:
    fake.on("PUT", "/products/AB%2F10/stockItems/1", json_response(7))
    async with oauth_client:
        assert await oauth_client.update_stock_item("AB/10", 12, True) == 7
    (put,) = fake.requests
    assert put.url.raw_path.decode() == "/rest/default/V1/products/AB%2F10/stockItems/1"
    assert_signed_like_adobe(put)


async def test_hmac_sha1_is_supported(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> None:
    fake.on("GET", "/orders/5", json_response({"entity_id": 5}))
    async with make_client(auth=OAuth1Credentials(*CREDS, signature_method="HMAC-SHA1")) as client:
        await client.get_order(5)
    assert_signed_like_adobe(fake.requests[0], "HMAC-SHA1")


def test_the_signature_covers_the_query_the_port_and_the_method() -> None:
    creds = OAuth1Credentials(*CREDS)
    fixed = {"nonce": "abc123", "timestamp": "1700000000"}

    def sig(method: str, url: str) -> str:
        return parse_oauth_header(creds.authorization_header(method, url, **fixed))["oauth_signature"]

    url = "http://127.0.0.1:8081/rest/default/V1/orders?searchCriteria%5BpageSize%5D=1"
    assert sig("GET", url) != sig("GET", url.replace("=1", "=2"))
    assert sig("GET", url) != sig("GET", url.replace(":8081", ":8082"))
    assert sig("GET", url) != sig("POST", url)
    header = creds.authorization_header("GET", url, **fixed)
    oauth = parse_oauth_header(header)
    assert oauth["oauth_signature"] == adobe_signature("GET", url, oauth, CREDS[1], CREDS[3], "HMAC-SHA256")


async def test_ten_and_more_filter_groups_are_ordered_as_magento_orders_them(
    fake: FakeMagento, oauth_client: MagentoClient
) -> None:
    fake.on("GET", "/orders", json_response(search_result([])))
    criteria = SearchCriteria()
    for i in range(12):
        criteria = criteria.where(f"field_{i}", "neq", str(i))
    async with oauth_client:
        await oauth_client.orders(criteria).to_list()
    (request,) = fake.requests
    assert_signed_like_adobe(request)
    # The case is real: RFC 5849's byte order would give another signature here.
    oauth = parse_oauth_header(request.headers["Authorization"])
    byte_order = adobe_signature(
        "GET", str(request.url), oauth, CREDS[1], CREDS[3], "HMAC-SHA256", natural=False
    )
    assert oauth["oauth_signature"] != byte_order


def test_unsupported_signature_methods_are_refused() -> None:
    with pytest.raises(ValueError, match="PLAINTEXT"):
        OAuth1Credentials(*CREDS, signature_method="PLAINTEXT")  # type: ignore[arg-type]


async def test_bearer_token_header(fake: FakeMagento, make_client: Callable[..., MagentoClient]) -> None:
    fake.on("GET", "/orders/5", json_response({"entity_id": 5}))
    async with make_client(auth=BearerToken("tok-123")) as client:
        await client.get_order(5)
    assert fake.requests[0].headers["Authorization"] == "Bearer tok-123"


async def test_secrets_never_show_in_reprs_or_errors(
    fake: FakeMagento, make_client: Callable[..., MagentoClient]
) -> None:
    oauth = OAuth1Credentials(*CREDS)
    bearer = BearerToken("tok-123-secret")
    fake.on("GET", "/orders/5", error_response(401, "The signature is invalid. Verify and try again."))
    texts = [repr(oauth), str(oauth), repr(bearer), str(bearer)]
    for auth in (oauth, bearer):
        async with make_client(auth=auth) as client:
            texts.append(repr(client))
            with pytest.raises(Exception) as caught:  # noqa: PT011 - the message is what is checked
                await client.get_order(5)
            texts.append(str(caught.value))
            texts.append(repr(caught.value))
    joined = "\n".join(texts)
    for secret in (*CREDS, "tok-123-secret"):
        assert secret not in joined
