"""OnSite error responses.

No error schema of the OnSite Server API is documented; public clients only read the status and show
``"{status}: {raw body}"``. The sandbox answers API errors with a short XML body
``<error><status>404</status><message>…</message></error>`` and authentication/licensing refusals
with a short ``text/plain`` body (as a front layer would), so a client must cope with both.
"""

from __future__ import annotations


class OnSiteError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        plain: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.plain = plain
        self.headers = headers or {}


def bad_request(message: str) -> OnSiteError:
    return OnSiteError(400, message)


def not_found(what: str = "The requested resource does not exist.") -> OnSiteError:
    return OnSiteError(404, what)


def conflict(message: str) -> OnSiteError:
    return OnSiteError(409, message)
