"""URL building. We encode everything ourselves so the URL signed is byte-for-byte the URL sent.

Path values are quoted with no safe characters, so a SKU's ``/`` becomes ``%2F``. Query values
use RFC 3986 percent-encoding (a space is ``%20``, never ``+``), the form OAuth 1.0a normalises
to; httpx keeps such a pre-encoded query as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote


def segment(value: str | int) -> str:
    """One path segment; ``/`` and every reserved character percent-encoded."""
    return quote(str(value), safe="")


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


def rest_base(base_url: str, store_code: str) -> str:
    """``{base_url}/rest/{store_code}/V1``."""
    return f"{base_url.rstrip('/')}/rest/{segment(store_code)}/V1"


def build_url(base: str, path: str, params: Sequence[tuple[str, str]] | None = None) -> str:
    url = f"{base}{path}"
    return f"{url}?{encode_query(params)}" if params else url
