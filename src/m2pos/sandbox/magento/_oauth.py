"""OAuth 1.0a request verification, written from Adobe's documented algorithm and Magento's code path.

The server side of Magento (``Framework\\Oauth\\Helper\\Request`` + ``Oauth::validateAccessTokenRequest``
+ Laminas ``Hmac::sign``), in the order it checks things:

1. protocol parameters come from the ``Authorization: OAuth …`` header (``rawurldecode``-d), query
   pairs are added after ``rawurldecode`` of key and value — so a ``+`` in the query stays a literal
   ``+`` (clients must send spaces as ``%20``, not ``+``, or the signature fails);
2. ``oauth_version`` must be ``1.0``; the six protocol parameters are required; the token must be 32
   characters; the signature method must be supported (HMAC-SHA1/HMAC-SHA256);
3. the consumer key must be 32 characters and known;
4. the nonce generator refuses a timestamp more than 600 s in the *future* of the server clock
   (``Nonce\\Generator::TIME_DEVIATION``; past timestamps pass) and a nonce the consumer already used;
   the timestamp error is re-wrapped as "An error occurred validating the nonce";
5. the access token must belong to the consumer; then the signature is compared.

Base string: ``METHOD&enc(scheme://host[:port]/path)&enc(k=v&…)``, keys and values ``rawurlencode``-d,
pairs sorted by key with PHP's ``strnatcmp`` (Laminas ``uksort``), signing key
``enc(consumer_secret)&enc(token_secret)``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import threading
import time
from urllib.parse import quote, unquote

from m2pos.sandbox.magento._credentials import SandboxCredentials
from m2pos.sandbox.magento._errors import MagentoError, bad_request, required_fields

TIME_DEVIATION = 600
NONCE_RETENTION_SECONDS = 7200  # Magento's cleanup cron purges old nonces (2 h by default)
SIGNATURE_METHODS = ("HMAC-SHA1", "HMAC-SHA256")
REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_token",
)
_PROTOCOL = re.compile(r"^oauth_\w+$")


def rawurlencode(text: str) -> str:
    return quote(text, safe="-_.~")


def rawurldecode(text: str) -> str:
    return unquote(text)  # unlike urldecode, leaves "+" alone


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def strnatcmp(a: str, b: str) -> int:
    """Port of PHP's ``strnatcmp_ex`` (case-sensitive natural order)."""
    if not a or not b:
        return (len(a) > len(b)) - (len(a) < len(b))
    ai = bi = 0
    la, lb = len(a), len(b)
    leading = True
    while True:
        ca = a[ai] if ai < la else ""
        cb = b[bi] if bi < lb else ""
        while leading and ca == "0" and ai + 1 < la and _is_digit(a[ai + 1]):
            ai += 1
            ca = a[ai]
        while leading and cb == "0" and bi + 1 < lb and _is_digit(b[bi + 1]):
            bi += 1
            cb = b[bi]
        leading = False
        while ca.isspace():
            ai += 1
            ca = a[ai] if ai < la else ""
        while cb.isspace():
            bi += 1
            cb = b[bi] if bi < lb else ""
        if ca and cb and _is_digit(ca) and _is_digit(cb):
            fractional = ca == "0" or cb == "0"
            result, ai, bi = (_compare_left if fractional else _compare_right)(a, ai, b, bi)
            if result != 0:
                return result
            if ai >= la and bi >= lb:
                return 0
            if ai >= la:
                return -1
            if bi >= lb:
                return 1
            ca, cb = a[ai], b[bi]
        if ca < cb:
            return -1
        if ca > cb:
            return 1
        ai += 1
        bi += 1
        if ai >= la and bi >= lb:
            return 0
        if ai >= la:
            return -1
        if bi >= lb:
            return 1


def _compare_right(a: str, ai: int, b: str, bi: int) -> tuple[int, int, int]:
    bias = 0
    while True:
        da = ai < len(a) and _is_digit(a[ai])
        db = bi < len(b) and _is_digit(b[bi])
        if not da and not db:
            return bias, ai, bi
        if not da:
            return -1, ai, bi
        if not db:
            return 1, ai, bi
        if a[ai] < b[bi] and not bias:
            bias = -1
        elif a[ai] > b[bi] and not bias:
            bias = 1
        ai += 1
        bi += 1


def _compare_left(a: str, ai: int, b: str, bi: int) -> tuple[int, int, int]:
    while True:
        da = ai < len(a) and _is_digit(a[ai])
        db = bi < len(b) and _is_digit(b[bi])
        if not da and not db:
            return 0, ai, bi
        if not da:
            return -1, ai, bi
        if not db:
            return 1, ai, bi
        if a[ai] < b[bi]:
            return -1, ai, bi
        if a[ai] > b[bi]:
            return 1, ai, bi
        ai += 1
        bi += 1


def _natural_sorted(keys: list[str]) -> list[str]:
    return sorted(keys, key=functools.cmp_to_key(strnatcmp))


def parse_authorization(header: str) -> dict[str, str] | None:
    """``Helper\\Request::_processHeader``: None when the header is not an OAuth one."""
    pos = header.lower().find("oauth ")
    if pos < 0:
        return None
    params: dict[str, str] = {}
    for chunk in header[pos + 6 :].split(","):
        name, sep, value = chunk.strip().partition("=")
        if not sep:
            continue
        if _PROTOCOL.match(name):
            params[rawurldecode(name)] = rawurldecode(value.strip('"'))
    return params


def query_params(raw_query: str) -> dict[str, str]:
    """``Helper\\Request::_extractQueryStringParams``: exactly one ``=``, protocol params skipped."""
    out: dict[str, str] = {}
    for pair in raw_query.split("&") if raw_query else []:
        parts = pair.split("=")
        if len(parts) == 2 and not _PROTOCOL.match(parts[0]):
            out[rawurldecode(parts[0])] = rawurldecode(parts[1])
    return out


def normalise_url(scheme: str, host: str, raw_path: str) -> str:
    host = host.lower()
    if (scheme == "http" and host.endswith(":80")) or (scheme == "https" and host.endswith(":443")):
        host = host.rsplit(":", 1)[0]
    return f"{scheme}://{host}{raw_path}"


def base_string(method: str, url: str, params: dict[str, str]) -> str:
    encoded = {rawurlencode(k): rawurlencode(v) for k, v in params.items() if k != "oauth_signature"}
    pairs = "&".join(f"{k}={encoded[k]}" for k in _natural_sorted(list(encoded)))
    return "&".join([method.upper(), rawurlencode(url), rawurlencode(pairs)])


def sign(method_name: str, base: str, consumer_secret: str, token_secret: str) -> str:
    digest = hashlib.sha1 if method_name == "HMAC-SHA1" else hashlib.sha256
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), digest).digest()).decode()


class NonceStore:
    """Nonces seen per consumer, kept for the retention period like Magento's ``oauth_nonce`` table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, str], float] = {}
        self._last_prune = time.monotonic()

    def use(self, consumer_id: int, nonce: str) -> bool:
        """Record the nonce; False when it was already used."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_prune > 60:
                self._seen = {k: t for k, t in self._seen.items() if now - t < NONCE_RETENTION_SECONDS}
                self._last_prune = now
            key = (consumer_id, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def verify(
    *,
    authorization: str,
    method: str,
    scheme: str,
    host: str,
    raw_path: str,
    raw_query: str,
    credentials: SandboxCredentials,
    server_time: float,
    nonces: NonceStore,
    signature_methods: tuple[str, ...] = SIGNATURE_METHODS,
    decode_slash_in_path: bool = False,
) -> None:
    """Raise the MagentoError Magento would give, or return when the request is properly signed."""
    params = parse_authorization(authorization)
    if params is None:
        raise ValueError("not an OAuth header")
    params.update(query_params(raw_query))
    if "oauth_version" in params and params["oauth_version"] != "1.0":
        raise bad_request('The "%1" Oauth version isn\'t supported.', [params["oauth_version"]])
    missing = [name for name in REQUIRED if name not in params]
    if missing:
        raise required_fields(missing)
    if len(params["oauth_token"]) != 32:
        raise bad_request("The token length is invalid. Check the length and try again.")
    method_name = params["oauth_signature_method"]
    if method_name not in signature_methods:
        raise bad_request("Signature method %1 is not supported", [method_name])
    if len(params["oauth_consumer_key"]) != 32:
        raise MagentoError(401, "Consumer key is not the correct length")
    if params["oauth_consumer_key"] != credentials.consumer_key:
        raise MagentoError(401, "A consumer having the specified key does not exist")
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        timestamp = 0
    if timestamp <= 0 or timestamp > server_time + TIME_DEVIATION:
        raise MagentoError(401, "An error occurred validating the nonce")
    if not nonces.use(credentials.consumer_id, params["oauth_nonce"]):
        raise MagentoError(
            401,
            "The nonce is already being used by the consumer with ID %1",
            [str(credentials.consumer_id)],
        )
    if params["oauth_token"] != credentials.access_token:
        raise MagentoError(401, "A token with the specified ID does not exist")
    path = raw_path.replace("%2F", "/").replace("%2f", "/") if decode_slash_in_path else raw_path
    expected = sign(
        method_name,
        base_string(method, normalise_url(scheme, host, path), params),
        credentials.consumer_secret,
        credentials.access_token_secret,
    )
    if not hmac.compare_digest(expected, params["oauth_signature"]):
        raise MagentoError(401, "The signature is invalid. Verify and try again.")
