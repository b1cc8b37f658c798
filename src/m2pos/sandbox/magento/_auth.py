"""Who is calling: admin Bearer tokens, integration tokens (Bearer or OAuth 1.0a), or a guest.

Magento resolves the caller while checking the route's ACL (``RequestValidator::checkPermissions``),
so authentication runs after routing (unknown route: 404 first) and anonymous routes skip it. A Bearer
token Magento does not recognise — including an integration token while
``oauth/consumer/enable_integration_as_bearer`` is off (the 2.4.4+ default) — leaves the caller a
guest, and the ACL check then fails with 401 "The consumer isn't authorized to access %resources."
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Literal

Principal = Literal["guest", "admin", "integration"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class AdminTokens:
    """JWT-shaped admin tokens like 2.4's (HS256 over a sandbox secret), valid for 4 hours."""

    lifetime_seconds: int = 4 * 3600

    def __post_init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._revoked: set[str] = set()

    def issue(self, username: str, now: float) -> str:
        header = _b64(json.dumps({"kid": "1", "alg": "HS256"}).encode())
        payload = _b64(
            json.dumps(
                {
                    "uid": 1,
                    "utypid": 2,
                    "iat": int(now),
                    "exp": int(now) + self.lifetime_seconds,
                    "sub": username,
                }
            ).encode()
        )
        sig = _b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def valid(self, token: str, now: float) -> bool:
        parts = token.split(".")
        if len(parts) != 3 or token in self._revoked:
            return False
        expected = _b64(hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return False
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return False
        return bool(int(claims.get("exp", 0)) > now)  # an expired token is simply no token (guest)

    def revoke(self, token: str) -> None:
        with self._lock:
            self._revoked.add(token)
