"""How a POS's HTTP error answers read, written as data: which statuses a retry can cure, and what
the merchant is told to do. Each client declares its :class:`StatusPolicy` (the advice only its POS
needs) and builds its errors from :meth:`StatusPolicy.read`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class StatusPolicy:
    pos_name: str  # as the first words of a message name it ("Lightspeed Retail (R-Series)")
    short_name: str  # as advice names it ("Lightspeed")
    advice: Mapping[int, str] = field(default_factory=dict)  # status → what to do, for this POS
    retry_statuses: frozenset[int] = frozenset({408, 409, 429})  # and every 5xx
    server_trouble: str = ""  # what a 5xx says, when not "<short name> had a problem"

    def retryable(self, status: int) -> bool:
        return status >= 500 or status in self.retry_statuses

    def what_to_do(self, status: int) -> str:
        if status in self.advice:
            return self.advice[status]
        name = self.short_name
        if status == 429:
            return f"{name} is limiting requests; m2pos retries later (or lower pos.requests_per_second)."
        if status >= 500:
            return self.server_trouble or f"{name} had a problem; m2pos retries later."
        if status == 404:
            return f"The record is not (or no longer) in {name}."
        return f"Fix what {name} names, in the order or in {name}, then retry."

    def read(self, response: httpx.Response, said: str) -> tuple[str, bool]:
        """(message, retryable) for an error answer; ``said`` is the POS's own words from its body."""
        status = response.status_code
        where = f"{response.request.method} {response.request.url.path}"
        head = f'{self.pos_name} answered {status} to {where}: "{said or response.reason_phrase}".'
        return f"{head} {self.what_to_do(status)}", self.retryable(status)


# --- may a failed request be sent again? ---------------------------------------------------------
# The exactly-once rule of every POS client: a POST (a write) is sent again only when it surely
# never reached the POS; a read or a PUT/DELETE (idempotent) may always be repeated.


def never_sent(error: httpx.TransportError) -> bool:
    """The connection never opened (or no connection was free): the POS saw nothing."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def may_resend_after(method: str, error: httpx.TransportError) -> bool:
    return method != "POST" or never_sent(error)


def may_resend_answered(method: str, status: int) -> bool:
    """429 and 503 are refusals before any work; another 5xx may follow a write that happened."""
    return status in (429, 503) or (method != "POST" and status >= 500)
