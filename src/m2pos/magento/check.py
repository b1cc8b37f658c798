"""Test a Magento connection and diagnose the known set-up traps, each with what to do.

:func:`diagnose` returns a list of :class:`CheckResult` (no printing), so a web console can show
the same results; :func:`run_check` builds a client from the CLI options and prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Required, TypedDict, Unpack
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape

from m2pos.magento._auth import BearerToken, OAuth1Credentials
from m2pos.magento._client import MagentoClient
from m2pos.magento._errors import (
    MagentoError,
    MagentoHTTPError,
    MagentoTransportError,
    describe_non_json,
    error_from_response,
)
from m2pos.magento._retry import RetryPolicy

CLOCK_WARN_SECONDS = 60.0
# Magento refuses OAuth timestamps too far from its own clock; 600 s is the deviation its nonce
# generator allows as far as we know [U: not verified against a live store].
CLOCK_FAIL_SECONDS = 600.0
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: CheckStatus
    detail: str
    advice: str = ""


def _ok(name: str, detail: str, advice: str = "") -> CheckResult:
    return CheckResult(name, CheckStatus.OK, detail, advice)


def _warn(name: str, detail: str, advice: str = "") -> CheckResult:
    return CheckResult(name, CheckStatus.WARN, detail, advice)


def _fail(name: str, detail: str, advice: str = "") -> CheckResult:
    return CheckResult(name, CheckStatus.FAIL, detail, advice)


def _probe_params(page_size: int = 1, fields: str | None = None) -> list[tuple[str, str]]:
    # Raw parameters: the probe of input limits must send a page size the builder refuses.
    params = [("searchCriteria[pageSize]", str(page_size)), ("searchCriteria[currentPage]", "1")]
    return [*params, ("fields", fields)] if fields else params


@dataclass(slots=True)
class _Probe:
    """One request's outcome: a decoded body, or the error Magento's answer maps to."""

    response: httpx.Response | None
    body: Any = None
    error: MagentoError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def _probe(
    client: MagentoClient,
    method: str,
    path: str,
    *,
    params: Sequence[tuple[str, str]] | None = None,
    json: Any = None,
    store_code: str | None = None,
    anonymous: bool = False,
) -> _Probe:
    requester = client._requester
    route = f"{method} /V1{path}"
    try:
        response = await requester.send(
            method, path, params=params, json=json, store_code=store_code, anonymous=anonymous
        )
    except MagentoTransportError as exc:
        return _Probe(None, error=exc)
    if not response.is_success:
        error = error_from_response(
            response,
            route=route,
            resolution=client.retry.resolve(response.status_code),
            using_bearer=requester.using_bearer,
        )
        return _Probe(response, error=error)
    try:
        return _Probe(response, body=orjson.loads(response.content))
    except orjson.JSONDecodeError:
        return _Probe(response, error=MagentoError(describe_non_json(response), route=route))


def _url_checks(client: MagentoClient) -> list[CheckResult]:
    parts = urlsplit(client.base_url)
    results: list[CheckResult] = []
    if "/rest" in parts.path:
        results.append(
            _fail(
                "Store URL",
                f"{client.base_url} already contains /rest",
                "Give the store's base URL (e.g. https://shop.example.com); m2pos adds /rest/<store>/V1",
            )
        )
    if parts.scheme == "http" and (parts.hostname or "") not in _LOCAL_HOSTS:
        secret = "the Bearer token" if isinstance(client.auth, BearerToken) else "order and customer data"
        results.append(
            _warn(
                "HTTPS",
                f"The store URL uses http://, so {secret} travels unencrypted",
                "Use an https:// store URL",
            )
        )
    return results


def _auth_name(client: MagentoClient) -> str:
    if isinstance(client.auth, OAuth1Credentials):
        return "OAuth 1.0a (integration)"
    if isinstance(client.auth, BearerToken):
        return "Bearer token"
    return "no credentials"


def _connection_failure(client: MagentoClient, error: MagentoError) -> CheckResult:
    """Name the trap behind a failed first call."""
    if isinstance(error, MagentoTransportError):
        return _fail("Connection", error.message, error.hint or "Check the store URL and the network")
    if not isinstance(error, MagentoHTTPError):  # a success status with a non-JSON body
        return _fail(
            "Connection",
            error.message,
            "Open the store URL in a browser; if a firewall or CDN answers, ask the host to let this "
            "machine reach /rest/",
        )
    raw = error.magento_message
    if error.status == 401 and "authorized to access" in raw:
        name = "Bearer token" if isinstance(client.auth, BearerToken) else "Permissions"
        return _fail(name, error.message, error.hint or "")
    if error.status == 401:
        return _fail("Authentication", error.message, error.hint or "")
    if "Operation allowed only in HTTPS" in raw:
        return _fail("HTTPS", error.message, error.hint or "")
    return _fail("Connection", error.message, error.hint or "")


_CREDENTIALS_ADVICE = (
    "Create an integration (System → Extensions → Integrations → Add New Integration), activate it, "
    "and give m2pos its consumer key, consumer secret, access token and access token secret"
)


async def _store_code_check(client: MagentoClient, error: MagentoError) -> CheckResult | None:
    """An unknown store code makes every route unknown: tell it apart from a wrong URL."""
    if not (isinstance(error, MagentoHTTPError) and error.status == 404):
        return None
    if "match any route" not in error.magento_message:
        return None
    if client.store_code != "default":
        retry = await _probe(client, "GET", "/orders", params=_probe_params(), store_code="default")
        if retry.ok or (isinstance(retry.error, MagentoHTTPError) and retry.error.status != 404):
            codes = await _store_codes(client)
            known = f" Store view codes of this store: {', '.join(codes)}." if codes else ""
            return _fail(
                "Store code",
                f"Magento does not know the store code '{client.store_code}'.{known}",
                "Use 'default' or one of the store view codes (Stores → All Stores). m2pos filters "
                "orders by store_id, so 'default' works for every store view",
            )
    return _fail(
        "Connection",
        f"{client.rest_base} does not lead to the Magento REST API (no route matched)",
        "Check the store URL: it is the address of the Magento installation, without /rest/. If the "
        "store lives in a sub-folder, include it",
    )


async def _store_codes(client: MagentoClient) -> list[str]:
    probe = await _probe(client, "GET", "/store/storeViews", store_code="default")
    if not probe.ok or not isinstance(probe.body, list):
        return []
    return [str(v["code"]) for v in probe.body if isinstance(v, dict) and "code" in v]


def _clock_check(client: MagentoClient, response: httpx.Response | None, now: datetime) -> CheckResult:
    # With several Date headers (a proxy and the application server), the last one is nearest to
    # the application.
    dates = response.headers.get_list("date") if response is not None else []
    header = dates[-1] if dates else None
    if not header:
        return _warn("Clock", "The server sent no Date header, so the clocks could not be compared")
    try:
        server = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return _warn("Clock", f"Could not read the server's Date header ({header!r})")
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    skew = (now - server).total_seconds()
    direction = "ahead of" if skew > 0 else "behind"
    detail = f"This machine's clock is {abs(skew):.0f} s {direction} the store's"
    oauth = isinstance(client.auth, OAuth1Credentials)
    advice = "Enable time synchronisation (NTP) on this machine, and ask the host to check the store's. " + (
        "OAuth 1.0a signatures carry a timestamp and Magento refuses ones too far from its own clock"
        if oauth
        else "Timestamps compared with Magento's (order watermarks) depend on it"
    )
    if abs(skew) > CLOCK_FAIL_SECONDS:
        return (_fail if oauth else _warn)("Clock", detail, advice)
    if abs(skew) > CLOCK_WARN_SECONDS:
        return _warn("Clock", detail, advice)
    return _ok("Clock", f"{detail} (fine)")


async def _input_limits_check(client: MagentoClient) -> CheckResult:
    probe = await _probe(client, "GET", "/orders", params=_probe_params(301, fields="total_count"))
    if probe.ok:
        return _ok(
            "Input limits",
            "Web API input limits are off (a page of 301 was accepted)",
            "Nothing to do: m2pos keeps pages ≤ 300 and stock pushes ≤ 20 items, so it keeps working "
            "if the limits are turned on",
        )
    error = probe.error
    if isinstance(error, MagentoHTTPError) and "Maximum SearchCriteria pageSize" in error.magento_message:
        maximum = error.parameters.get("max") if isinstance(error.parameters, dict) else None
        limit = int(maximum) if isinstance(maximum, int | str) and str(maximum).isdigit() else 300
        detail = f"Web API input limits are on: pages of at most {limit}, and at most 20 items per call"
        if client.page_size > limit:
            return _fail(
                "Input limits",
                detail,
                f"Lower m2pos's page size from {client.page_size} to {limit} or less",
            )
        return _ok(
            "Input limits",
            detail,
            f"Nothing to do: m2pos pages by {client.page_size} and pushes stock 20 items per call",
        )
    return _warn("Input limits", f"Could not tell whether input limits are on: {error}")


_RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("invoices", "/invoices", "Sales → Operations → Invoices"),
    ("credit memos", "/creditmemos", "Sales → Operations → Credit Memos"),
    ("products", "/products", "Catalog → Inventory → Products"),
    ("stock sources", "/inventory/source-items", "Stores → Inventory → Sources"),
)


async def _permissions_check(client: MagentoClient) -> CheckResult:
    readable = ["orders"]
    missing: list[str] = []
    notes: list[str] = []
    for label, path, acl in _RESOURCES:
        probe = await _probe(client, "GET", path, params=_probe_params())
        error = probe.error
        if probe.ok:
            readable.append(label)
        elif isinstance(error, MagentoHTTPError) and error.status == 401:
            missing.append(f"{label} ({acl})")
        elif (
            isinstance(error, MagentoHTTPError)
            and error.status == 404
            and path.startswith("/inventory")
            and "match any route" in error.magento_message
        ):
            notes.append(
                "The Inventory (MSI) API is not installed: m2pos will push stock through the legacy "
                "stock-item route (default source only)"
            )
        else:
            notes.append(f"{label}: {error}")
    detail = f"Readable: {', '.join(readable)}"
    if missing:
        return _fail(
            "Permissions",
            f"{detail}. Not permitted: {', '.join(missing)}",
            "Grant these resources on the integration's API tab (System → Extensions → Integrations)",
        )
    if notes:
        return _warn("Permissions", detail, "; ".join(notes))
    return _ok("Permissions", detail)


async def _admin_token_check(client: MagentoClient, username: str, password: SecretStr) -> CheckResult:
    probe = await _probe(
        client,
        "POST",
        "/integration/admin/token",
        json={"username": username, "password": password.get_secret_value()},
        anonymous=True,
    )
    error = probe.error
    if probe.ok:
        return _warn(
            "Admin login",
            "The admin username and password give a token, but admin tokens expire after 4 hours",
            _CREDENTIALS_ADVICE + " instead: integrations do not expire and need no 2FA",
        )
    if isinstance(error, MagentoHTTPError) and "2fa" in error.magento_message.lower():
        return _fail(
            "Admin login",
            "Two-factor authentication blocks admin tokens (Magento 2.4 has 2FA on by default)",
            _CREDENTIALS_ADVICE + " instead of an admin username and password",
        )
    if isinstance(error, MagentoHTTPError) and error.status in (400, 401):
        return _fail("Admin login", error.message, "Check the admin username and password")
    return _fail("Admin login", str(error))


def _local_now() -> datetime:
    return datetime.now(UTC)


async def diagnose(
    client: MagentoClient,
    *,
    admin_username: str | None = None,
    admin_password: str | SecretStr | None = None,
    now: Callable[[], datetime] = _local_now,
) -> list[CheckResult]:
    """Run the checks against ``client``'s store and return what was found, in order.

    Pass ``admin_username``/``admin_password`` when a merchant offers admin credentials instead of
    an integration: the check explains why those do not fit (2FA, 4-hour tokens).
    """
    results = _url_checks(client)
    if client.auth is None and admin_username is None:
        results.append(_fail("Credentials", "No credentials were given", _CREDENTIALS_ADVICE))

    first = await _probe(client, "GET", "/orders", params=_probe_params())
    connected = first.ok and isinstance(first.body, dict) and "total_count" in first.body
    if connected:
        results.append(
            _ok(
                "Connection",
                f"Reached {client.rest_base} with {_auth_name(client)}; "
                f"{first.body['total_count']} orders visible",
            )
        )
    elif client.auth is None and isinstance(first.error, MagentoHTTPError) and first.error.status == 401:
        results.append(
            _ok("Connection", f"Reached {client.rest_base}; it asks for credentials, as it should")
        )
    elif first.error is not None:
        store = await _store_code_check(client, first.error)
        results.append(store or _connection_failure(client, first.error))
    elif first.error is None:
        results.append(_fail("Connection", "Magento's answer to an order search had no total_count"))

    if first.response is not None:
        results.append(_clock_check(client, first.response, now()))
    if connected:
        results.append(await _input_limits_check(client))
        results.append(await _permissions_check(client))
    if admin_username is not None:
        password = (
            admin_password if isinstance(admin_password, SecretStr) else SecretStr(admin_password or "")
        )
        results.append(await _admin_token_check(client, admin_username, password))
    return results


_ICONS = {CheckStatus.OK: "[green]✔[/]", CheckStatus.WARN: "[yellow]⚠[/]", CheckStatus.FAIL: "[red]✖[/]"}


def print_results(results: Sequence[CheckResult], console: Console, *, title: str) -> None:
    console.print(f"[bold]{escape(title)}[/]")
    for result in results:
        console.print(f"{_ICONS[result.status]} [bold]{escape(result.name)}[/]: {escape(result.detail)}")
        if result.advice:
            console.print(
                f"    → {escape(result.advice)}", style="dim" if result.status is CheckStatus.OK else ""
            )
    failures = sum(r.status is CheckStatus.FAIL for r in results)
    warnings = sum(r.status is CheckStatus.WARN for r in results)
    if failures:
        console.print(f"[red bold]{failures} problem(s) to fix[/] before m2pos can use this store.")
    elif warnings:
        console.print(f"[yellow]The connection works[/], with {warnings} warning(s).")
    else:
        console.print("[green bold]The connection works.[/]")


def _credentials(
    consumer_key: str | None,
    consumer_secret: str | None,
    access_token: str | None,
    access_token_secret: str | None,
    bearer_token: str | None,
) -> tuple[httpx.Auth | None, list[CheckResult]]:
    oauth = {
        "consumer key": consumer_key,
        "consumer secret": consumer_secret,
        "access token": access_token,
        "access token secret": access_token_secret,
    }
    if consumer_key and consumer_secret and access_token and access_token_secret:
        return OAuth1Credentials(consumer_key, consumer_secret, access_token, access_token_secret), []
    given = [k for k, v in oauth.items() if v]
    results: list[CheckResult] = []
    if given:
        missing = [k for k in oauth if k not in given]
        results.append(
            _fail(
                "Credentials",
                f"OAuth 1.0a needs four credentials; missing: {', '.join(missing)}",
                "Copy all four from System → Extensions → Integrations → Edit → Integration Details",
            )
        )
    if bearer_token:
        return BearerToken(bearer_token), results
    if given and access_token:
        # Try the access token alone so the report can still say whether Bearer is refused.
        return BearerToken(access_token), results
    return None, results


class ConnectionOptions(TypedDict, total=False):
    """What to connect with: the options of ``m2pos check magento`` (and the console's form)."""

    base_url: Required[str]
    store_code: str
    consumer_key: str | None
    consumer_secret: str | None
    access_token: str | None
    access_token_secret: str | None
    bearer_token: str | None
    admin_username: str | None
    admin_password: str | None
    transport: httpx.AsyncBaseTransport | None


async def run_check(*, console: Console | None = None, **options: Unpack[ConnectionOptions]) -> bool:
    """Check the connection, print the report, and return True when nothing failed."""
    title, results = await check_connection(**options)
    print_results(results, console or Console(), title=title)
    return not any(r.status is CheckStatus.FAIL for r in results)


async def check_connection(**options: Unpack[ConnectionOptions]) -> tuple[str, list[CheckResult]]:
    """The diagnosis of ``m2pos check magento`` (and the console's "Test connection"): a title
    naming the REST base, and the results in order."""
    o = options
    auth, results = _credentials(
        o.get("consumer_key"),
        o.get("consumer_secret"),
        o.get("access_token"),
        o.get("access_token_secret"),
        o.get("bearer_token"),
    )
    async with MagentoClient(
        o["base_url"],
        store_code=o.get("store_code", "default"),
        auth=auth,
        retry=RetryPolicy(max_attempts=1),  # a diagnosis reports the first answer, it does not wait
        timeout=httpx.Timeout(15.0, connect=10.0),
        transport=o.get("transport"),
    ) as client:
        results += await diagnose(
            client, admin_username=o.get("admin_username"), admin_password=o.get("admin_password")
        )
        return f"Magento connection check: {client.rest_base}", results
