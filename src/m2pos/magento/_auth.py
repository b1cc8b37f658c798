"""Authentication: OAuth 1.0a signing of every request (integrations), or a Bearer token.

Both are :class:`httpx.Auth` objects, so they sign the request exactly as it leaves the client:
the final URL with its query string (part of the OAuth base string) and with path segments as
encoded on the wire (a SKU's ``/`` travels and is signed as ``%2F``). Secrets are held as
:class:`pydantic.SecretStr` and never appear in reprs, logs or exception messages.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from oauthlib import oauth1
from oauthlib.oauth1.rfc5849 import signature, utils
from pydantic import SecretStr

SignatureMethod = Literal["HMAC-SHA256", "HMAC-SHA1"]
_SIGNATURE_METHODS: dict[str, str] = {
    "HMAC-SHA256": oauth1.SIGNATURE_HMAC_SHA256,
    "HMAC-SHA1": oauth1.SIGNATURE_HMAC_SHA1,  # Magento accepts both; Adobe documents SHA256
}


def natcmp(a: str, b: str) -> int:
    """PHP's ``strnatcmp`` for strings without white space: digit runs compare as numbers."""
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i].isdigit() and b[j].isdigit():
            end_a, end_b = i, j
            while end_a < len(a) and a[end_a].isdigit():
                end_a += 1
            while end_b < len(b) and b[end_b].isdigit():
                end_b += 1
            run_a, run_b = a[i:end_a], b[j:end_b]
            if run_a[0] == "0" or run_b[0] == "0":  # PHP compares such runs left-aligned
                result = (run_a > run_b) - (run_a < run_b)
            else:
                result = (int(run_a) > int(run_b)) - (int(run_a) < int(run_b))
            if result:
                return result
            i, j = end_a, end_b
            continue
        if a[i] != b[j]:
            return -1 if a[i] < b[j] else 1
        i += 1
        j += 1
    rest_a, rest_b = len(a) - i, len(b) - j
    return (rest_a > rest_b) - (rest_a < rest_b)


def _pair_cmp(x: tuple[str, str], y: tuple[str, str]) -> int:
    return natcmp(x[0], y[0]) or natcmp(x[1], y[1])


def _normalize_parameters(params: list[tuple[str, str]]) -> str:
    pairs = [(utils.escape(k), utils.escape(v)) for k, v in params]
    pairs.sort(key=functools.cmp_to_key(_pair_cmp))
    return "&".join(f"{k}={v}" for k, v in pairs)


class _MagentoOAuthClient(oauth1.Client):
    """oauthlib's client, with the parameter order Magento verifies against.

    Magento (Laminas OAuth) sorts the encoded parameters with PHP's ``strnatcmp``, not RFC 5849's
    byte order; the two differ once a search index reaches 10 (``[10]`` sorts after ``[9]``).
    oauthlib still builds the nonce, timestamp, base-string URI and header. This override also
    skips oauthlib's debug logging of the base string, which contains the access token.
    """

    def get_oauth_signature(self, request: Any) -> str:
        params = signature.collect_parameters(uri_query=urlsplit(request.uri).query)
        params += [(k, v) for k, v in request.oauth_params if k not in ("oauth_signature", "realm")]
        base = signature.signature_base_string(
            request.http_method, signature.base_string_uri(request.uri), _normalize_parameters(params)
        )
        return str(self.SIGNATURE_METHODS[self.signature_method](base, self))


def _secret(value: str | SecretStr) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


class OAuth1Credentials(httpx.Auth):
    """The four credentials of a Magento integration; signs each request with OAuth 1.0a."""

    def __init__(
        self,
        consumer_key: str | SecretStr,
        consumer_secret: str | SecretStr,
        access_token: str | SecretStr,
        access_token_secret: str | SecretStr,
        signature_method: SignatureMethod = "HMAC-SHA256",
    ) -> None:
        if signature_method not in _SIGNATURE_METHODS:
            raise ValueError(f"unsupported OAuth signature method {signature_method!r}")
        self.consumer_key = _secret(consumer_key)
        self.consumer_secret = _secret(consumer_secret)
        self.access_token = _secret(access_token)
        self.access_token_secret = _secret(access_token_secret)
        self.signature_method: SignatureMethod = signature_method

    def authorization_header(
        self, method: str, url: str, *, nonce: str | None = None, timestamp: str | None = None
    ) -> str:
        """The ``Authorization`` header for ``method url`` (nonce/timestamp fixed only in tests)."""
        # A fresh oauthlib client per request: its repr would show the access token.
        client = _MagentoOAuthClient(
            self.consumer_key.get_secret_value(),
            client_secret=self.consumer_secret.get_secret_value(),
            resource_owner_key=self.access_token.get_secret_value(),
            resource_owner_secret=self.access_token_secret.get_secret_value(),
            signature_method=_SIGNATURE_METHODS[self.signature_method],
            signature_type=oauth1.SIGNATURE_TYPE_AUTH_HEADER,
            nonce=nonce,
            timestamp=timestamp,
        )
        # JSON bodies are not part of an OAuth 1.0a signature (only form bodies are), so sign
        # without the body.
        _, headers, _ = client.sign(url, http_method=method.upper())  # type: ignore[arg-type]
        return str(headers["Authorization"])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization_header(request.method, str(request.url))
        yield request

    def __repr__(self) -> str:
        return f"OAuth1Credentials(consumer_key='**********', signature_method='{self.signature_method}')"


class BearerToken(httpx.Auth):
    """An admin token, or an integration access token where the store allows it as Bearer."""

    def __init__(self, token: str | SecretStr) -> None:
        self.token = _secret(token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "BearerToken('**********')"
