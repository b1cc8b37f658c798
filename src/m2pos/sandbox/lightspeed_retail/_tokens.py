"""OAuth 2 as R-Series does it since 2024 (pos-apis §2 [V] S21): ``POST /auth/oauth/token`` with
``grant_type=refresh_token``, the client id and secret and the refresh token; the answer is a new
access token *and* a new refresh token, and the refresh token used is revoked at once (rotation: an
integration that loses the new pair is locked out). The sandbox also revokes the previous access
token on refresh — the strict reading, so that a request racing a refresh is exercised."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field


@dataclass
class OAuthApp:
    client_id: str = "m2pos-sandbox-client"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - the sandbox's own
    initial_refresh_token: str = "sandbox-refresh-token-0"  # noqa: S105 - ditto
    access_seconds: int = 3600


@dataclass
class TokenState:
    access: dict[str, float] = field(default_factory=dict)  # token → expiry (clock)
    refresh: set[str] = field(default_factory=set)
    refreshes: int = 0
    rejected_refreshes: int = 0


class TokenAuthority:
    def __init__(self, app: OAuthApp) -> None:
        self.app = app
        self.state = TokenState(refresh={app.initial_refresh_token})
        self._lock = threading.Lock()

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> dict[str, object] | None:
        """The new pair, or None (invalid_grant) for an unknown/used token or wrong client."""
        with self._lock:
            ok = (
                secrets.compare_digest(client_id, self.app.client_id)
                and secrets.compare_digest(client_secret, self.app.client_secret)
                and refresh_token in self.state.refresh
            )
            if not ok:
                self.state.rejected_refreshes += 1
                return None
            self.state.refresh.discard(refresh_token)
            self.state.access.clear()
            access, new_refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.state.access[access] = time.monotonic() + self.app.access_seconds
            self.state.refresh.add(new_refresh)
            self.state.refreshes += 1
            return {
                "access_token": access,
                "expires_in": self.app.access_seconds,
                "token_type": "Bearer",
                "scope": "employee:all",
                "refresh_token": new_refresh,
            }

    def valid(self, access_token: str) -> bool:
        with self._lock:
            expiry = self.state.access.get(access_token)
            return expiry is not None and expiry > time.monotonic()

    def expire_access(self) -> None:
        """Control: every access token expires now (the next call gets 401)."""
        with self._lock:
            self.state.access.clear()
