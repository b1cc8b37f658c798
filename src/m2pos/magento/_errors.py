"""The exception tree, and turning a Magento error response into a message a merchant understands.

Magento's error body is ``{"message": "... %name ... %1 ...", "parameters": {...} | [...],
"errors": [...]}`` with placeholders left raw (domain notes §4), so we fill them here. The known
set-up traps are recognised from the raw message and explained with what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import httpx
import orjson


class Action(StrEnum):
    """What the retry loop does with a failure (Airbyte's ``ResponseAction``, trimmed)."""

    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    FAIL = "fail"


class FailureType(StrEnum):
    """Who has to act, so messages and dashboards can say it."""

    TRANSIENT = "transient"  # the network or Magento is briefly unavailable: retrying is the fix
    CONFIG = "config"  # settings or credentials must change before anything works
    REJECTED = "rejected"  # Magento refused this request or record; others still work
    SYSTEM = "system"  # Magento (or something in front of it) answered in an unexpected way

    @property
    def explanation(self) -> str:
        return _FAILURE_EXPLANATIONS[self]


_FAILURE_EXPLANATIONS = {
    FailureType.TRANSIENT: "A temporary problem; m2pos retries on its own.",
    FailureType.CONFIG: "The connection settings need to change; retrying will not help.",
    FailureType.REJECTED: "Magento refused this request; other records are not affected.",
    FailureType.SYSTEM: "Magento answered in an unexpected way.",
}


@dataclass(frozen=True, slots=True)
class ErrorResolution:
    """One row of the error table: what to do with a failure, and whose problem it is."""

    action: Action
    failure_type: FailureType

    @property
    def retryable(self) -> bool:
        return self.action is not Action.FAIL


_FAIL_SYSTEM = ErrorResolution(Action.FAIL, FailureType.SYSTEM)


class MagentoError(Exception):
    """Base of every error raised by :mod:`m2pos.magento`. ``str()`` is the merchant-facing text."""

    # True when the request may have been applied although no answer arrived (a timeout after the
    # body was sent, a dropped connection, a 5xx). Non-idempotent writes must not be repeated
    # blindly after such a failure.
    ambiguous: bool = False

    def __init__(
        self,
        message: str,
        *,
        route: str = "",
        resolution: ErrorResolution = _FAIL_SYSTEM,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.route = route
        self.resolution = resolution
        self.hint = hint
        super().__init__(self._render())

    @property
    def failure_type(self) -> FailureType:
        return self.resolution.failure_type

    def _render(self) -> str:
        where = f" ({self.route})" if self.route else ""
        text = f"{self.message}{where}"
        return f"{text}. {self.hint}" if self.hint else text


class MagentoHTTPError(MagentoError):
    """Magento (or a proxy in front of it) answered with an error status."""

    summary: ClassVar[str] = "Magento returned an error"

    def __init__(
        self,
        *,
        status: int,
        route: str,
        magento_message: str,
        parameters: Any = None,
        message: str | None = None,
        hint: str | None = None,
        resolution: ErrorResolution = _FAIL_SYSTEM,
        retry_after: float | None = None,
        body_excerpt: str = "",
    ) -> None:
        self.status = status
        self.magento_message = magento_message  # raw, placeholders unfilled: match on this
        self.parameters = parameters
        self.retry_after = retry_after
        self.body_excerpt = body_excerpt
        filled = message if message is not None else fill_placeholders(magento_message, parameters)
        super().__init__(
            f"{self.summary} (HTTP {status}): {filled}" if filled else f"{self.summary} (HTTP {status})",
            route=route,
            resolution=resolution,
            hint=hint,
        )


class MagentoBadRequestError(MagentoHTTPError):
    """400: Magento refused the request or the data (validation, business rule, input limits)."""

    summary = "Magento refused the request"


class MagentoAuthError(MagentoHTTPError):
    """401/403: credentials, permissions, or a firewall."""

    summary = "Magento refused the credentials"


class MagentoNotFoundError(MagentoHTTPError):
    """404: the record does not exist, or the URL/store code matches no route."""

    summary = "Not found in Magento"


class MagentoRateLimitError(MagentoHTTPError):
    """429: too many requests (Magento or a firewall in front of it)."""

    summary = "Magento is limiting the request rate"


class MagentoServerError(MagentoHTTPError):
    """5xx: Magento failed or is unavailable; the request may or may not have been applied."""

    summary = "Magento server error"
    ambiguous: bool = True


class MagentoRedirectError(MagentoHTTPError):
    """3xx: API calls are never redirected by Magento itself, so the URL is wrong (often http→https)."""

    summary = "Magento answered with a redirect"

    @property
    def location(self) -> str | None:
        return self.parameters.get("location") if isinstance(self.parameters, dict) else None


class MagentoTransportError(MagentoError):
    """No HTTP answer arrived."""

    def __init__(
        self, message: str, *, route: str, resolution: ErrorResolution, sent: bool, hint: str | None = None
    ) -> None:
        # ``sent`` is False when the failure happened before the request left this machine
        # (refused connection, DNS, connect timeout): then nothing can have been applied.
        self.sent = sent
        self.ambiguous = sent
        super().__init__(message, route=route, resolution=resolution, hint=hint)


class MagentoConnectionError(MagentoTransportError):
    """Could not connect, or the connection broke (DNS, refused, TLS, dropped)."""


class MagentoTimeout(MagentoTransportError):
    """Magento did not answer in time."""


class MagentoInvalidResponseError(MagentoError):
    """A success status whose body is not the JSON Magento sends (WAF page, proxy, wrong URL)."""


# ---------------------------------------------------------------------------------------------
# Placeholders

_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


def _render_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_render_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fill_placeholders(message: str, parameters: Any) -> str:
    """Fill ``%name`` from a ``parameters`` object and ``%1``, ``%2``… from a ``parameters`` array.

    Unknown placeholders are left as they are, so nothing is silently lost.
    """
    if not parameters:
        return message

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if isinstance(parameters, list) and key.isdigit():
            index = int(key) - 1
            if 0 <= index < len(parameters):
                return _render_value(parameters[index])
        elif isinstance(parameters, dict) and key in parameters:
            return _render_value(parameters[key])
        return match.group(0)

    return _PLACEHOLDER.sub(replace, message)


# ---------------------------------------------------------------------------------------------
# Known traps, as data: a pattern on Magento's raw message and the advice to give.

_BEARER_REFUSED = (
    "Magento 2.4.4 and later refuse integration access tokens sent as Bearer tokens unless, in the "
    "Magento admin, Stores → Configuration → Services → OAuth → Consumer Settings → "
    '"Allow OAuth Access Tokens to be used as standalone Bearer tokens" is set to Yes. Either set it, '
    "or give m2pos all four integration credentials (consumer key, consumer secret, access token, "
    "access token secret) so it signs each request with OAuth 1.0a. If the setting is already Yes, "
    "the integration lacks the API permission named above"
)
_ACL_MISSING = (
    "The integration lacks the API permission named above: in the Magento admin open System → "
    "Extensions → Integrations, edit the integration, and grant the resource on its API tab (then "
    "save and re-authorise it if Magento asks)"
)
_CHECK_CREDENTIALS = (
    "Copy the four integration credentials (consumer key, consumer secret, access token, access "
    "token secret) again from System → Extensions → Integrations → Edit → Integration Details, and "
    "check that this machine's clock is right (OAuth signatures carry a timestamp)"
)


@dataclass(frozen=True, slots=True)
class _Trap:
    pattern: re.Pattern[str]
    advice: str
    bearer_advice: str | None = None  # replaces ``advice`` when the client authenticates with Bearer


def _trap(pattern: str, advice: str, bearer_advice: str | None = None) -> _Trap:
    return _Trap(re.compile(pattern, re.IGNORECASE), advice, bearer_advice)


KNOWN_TRAPS: tuple[_Trap, ...] = (
    _trap(r"(isn't|is not) authorized to access", _ACL_MISSING, _BEARER_REFUSED),
    _trap(
        r"signature is invalid",
        _CHECK_CREDENTIALS + ". A SKU containing '/' in a URL path also breaks signatures on Magento "
        "(magento/magento2#37913); m2pos pushes stock through /V1/inventory/source-items to avoid it",
    ),
    _trap(
        r"timestamp",
        "Magento refused the OAuth timestamp: set this machine's clock right (enable NTP); "
        "the store's clock may be wrong too",
    ),
    _trap(
        r"nonce",
        "Magento saw this OAuth nonce before, usually because a clock is wrong or a request was "
        "replayed; check this machine's clock (NTP)",
    ),
    _trap(
        r"2fa provider-specific",
        "Admin tokens need two-factor authentication since Magento 2.4 and expire after 4 hours. "
        "Create an integration instead (System → Extensions → Integrations → Add New Integration) "
        "and give m2pos its four credentials",
    ),
    _trap(
        r"Maximum SearchCriteria pageSize",
        "Magento's web API input limits are on (Stores → Configuration → Services → Web API Input "
        "Limits). m2pos pages by 100 by default; lower its page size below the maximum shown",
    ),
    _trap(
        r"Maximum items of type",
        "Magento's web API input limits are on and cap the number of items per call. m2pos sends "
        "stock 20 items at a time; if your store's limit is lower, lower m2pos's chunk size, or raise "
        '"Complex array limit" under Stores → Configuration → Services → Web API Input Limits',
    ),
    _trap(
        r"Operation allowed only in HTTPS",
        "This store only accepts API calls over HTTPS: use an https:// store URL",
    ),
    _trap(
        r"Cannot perform GET operation with store code 'all'",
        "Use a store view code (or 'default') instead of 'all'",
    ),
    _trap(
        r"Request does not match any route",
        "Check the store URL (the part before /rest/) and the store code: an unknown store code makes "
        "every route unknown. /V1/inventory routes also need Magento's Inventory (MSI) modules enabled",
    ),
    _trap(
        r"Internal Error\. Details are available in Magento log file",
        "Magento failed internally; give the report ID to the store's developer (they find it in "
        "var/report or var/log/exception.log). m2pos retries",
    ),
    _trap(
        r"The entity that was requested doesn't exist",
        "The record does not exist in this store (deleted, or the id belongs to another store)",
    ),
    _trap(
        r"An invoice cannot be created when an order has a status of",
        "Magento does not invoice orders that are on hold, in payment review, canceled, complete or "
        "closed; resolve the order in the Magento admin first",
    ),
)

_STATUS_ADVICE = {
    401: _CHECK_CREDENTIALS,
    403: (
        "Something in front of Magento (a firewall, IP allow-list or CDN) refused the call; ask "
        "the host to allow this machine's IP address to reach /rest/"
    ),
    429: "Magento or a firewall in front of it limits the request rate; m2pos slows down and retries",
    502: "A proxy in front of Magento could not reach it; m2pos retries",
    503: "Magento is unavailable (maintenance mode, deploy or overload); m2pos retries",
    504: "Magento took too long behind its proxy; m2pos retries",
}


def explain(status: int, raw_message: str, *, using_bearer: bool) -> str | None:
    """The advice for a Magento error, or None when there is nothing useful to add."""
    for trap in KNOWN_TRAPS:
        if trap.pattern.search(raw_message):
            if using_bearer and trap.bearer_advice:
                return trap.bearer_advice
            return trap.advice
    return _STATUS_ADVICE.get(status)


# ---------------------------------------------------------------------------------------------
# Building the exception from a response

_HTTP_ERROR_CLASSES: dict[int, type[MagentoHTTPError]] = {
    400: MagentoBadRequestError,
    401: MagentoAuthError,
    403: MagentoAuthError,
    404: MagentoNotFoundError,
    429: MagentoRateLimitError,
}

_WAF_MARKERS = ("cloudflare", "incapsula", "sucuri", "akamai", "captcha", "access denied", "mod_security")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def _error_class(status: int) -> type[MagentoHTTPError]:
    if status in _HTTP_ERROR_CLASSES:
        return _HTTP_ERROR_CLASSES[status]
    if 300 <= status < 400:
        return MagentoRedirectError
    if status >= 500:
        return MagentoServerError
    return MagentoHTTPError


def excerpt(text: str, limit: int = 200) -> str:
    """Readable start of a body (tags stripped), for messages."""
    plain = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def describe_non_json(response: httpx.Response) -> str:
    """Say what a non-JSON body probably is: WAF, maintenance page, login page, or a wrong URL."""
    text = response.text[:20_000]
    lowered = text.lower()
    content_type = response.headers.get("content-type", "unknown type")
    title_match = _TITLE.search(text)
    title = excerpt(title_match.group(1), 80) if title_match else ""
    what = f"an HTML page titled '{title}'" if title else f"a non-JSON body ({content_type})"
    if "maintenance" in lowered:
        cause = "Magento looks to be in maintenance mode (bin/magento maintenance:status)"
    elif any(marker in lowered for marker in _WAF_MARKERS):
        cause = (
            "a web application firewall or CDN blocked the call; ask the host to allow this machine "
            "to reach /rest/"
        )
    else:
        cause = (
            "the store URL probably points at the storefront, a login page or another site, or a "
            "firewall or maintenance page answered instead of Magento"
        )
    return f"Expected JSON from the Magento REST API but got {what}: {cause}"


def _parse_error_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def error_from_response(
    response: httpx.Response,
    *,
    route: str,
    resolution: ErrorResolution,
    using_bearer: bool,
    retry_after: float | None = None,
) -> MagentoHTTPError:
    """The typed exception for an error response, message filled and the known trap explained."""
    status = response.status_code
    cls = _error_class(status)
    common: dict[str, Any] = {
        "status": status,
        "route": route,
        "resolution": resolution,
        "retry_after": retry_after,
        "body_excerpt": excerpt(response.text) if response.content else "",
    }
    if cls is MagentoRedirectError:
        location = response.headers.get("location", "")
        if response.url.scheme == "http" and location.startswith("https://"):
            hint = "The store only answers over HTTPS: change the store URL to start with https://"
        else:
            hint = (
                "API calls are never redirected by Magento itself, so the store URL is probably wrong "
                "(the storefront URL, a missing sub-folder, or http instead of https)"
            )
        return cls(
            magento_message="",
            message=f"redirected to {location or 'an unknown location'}",
            parameters={"location": location},
            hint=hint,
            **common,
        )
    body = _parse_error_body(response)
    if body is None or "message" not in body:
        if not response.content:
            return cls(
                magento_message="", message="empty response", hint=_STATUS_ADVICE.get(status), **common
            )
        return cls(magento_message="", message=describe_non_json(response), **common)
    raw = str(body.get("message", ""))
    parameters = body.get("parameters")
    filled = fill_placeholders(raw, parameters)
    details = [
        fill_placeholders(str(e.get("message", "")), e.get("parameters"))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    details = [d for d in details if d and d != filled]
    if details:
        filled = f"{filled} ({'; '.join(details)})"
    return cls(
        magento_message=raw,
        parameters=parameters,
        message=filled,
        hint=explain(status, raw, using_bearer=using_bearer),
        **common,
    )
