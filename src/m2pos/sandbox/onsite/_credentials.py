"""The OnSite user and the applications the sandbox server accepts."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from typing import Any

DEMO_APP_ID = "com.lightspeed.onsite.demo"


@dataclass(frozen=True)
class OnSiteCredentials:
    """An OnSite user (HTTP Basic) and an application (``User-Agent: {app_id}/{app_version}`` and
    ``X-PAPPID: {app_private_id}``).

    The sandbox accepts the user, and: the demo app id with any private id (as a real server does),
    this ``app_id`` with exactly this ``app_private_id`` (a registered, licensed app), and each
    ``(app id, private id)`` pair of ``registered_apps``.
    """

    username: str = "lightspeed"
    password: str = "admin"  # noqa: S105 - OnSite's published demo password
    app_id: str = DEMO_APP_ID
    app_version: str = "1.0"
    app_private_id: str = "12345678-90ab-cdef-1234-567890abcdef"
    registered_apps: tuple[tuple[str, str], ...] = ()

    def headers(self) -> dict[str, str]:
        """The three headers a client sends on every call."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return {
            "Authorization": f"Basic {token}",
            "User-Agent": f"{self.app_id}/{self.app_version}",
            "X-PAPPID": self.app_private_id,
        }

    def private_ids(self) -> dict[str, str]:
        """App id → the private id the server expects (the demo app id is not listed: any is fine)."""
        out = dict(self.registered_apps)
        if self.app_id != DEMO_APP_ID:
            out[self.app_id] = self.app_private_id
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# OnSite's documented demo values (user lightspeed/admin, the demo app id, the docs' sample private id).
DEMO_ONSITE_CREDENTIALS = OnSiteCredentials()
