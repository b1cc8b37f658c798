"""HTTP, the server session and XML for the Lightspeed OnSite Server API.

* Every call carries HTTP Basic auth, ``User-Agent: {app id}/{app version}`` and ``X-PAPPID`` (the
  app's private id) [pos-apis §1.1, V].
* One server session: the ``LS_SERVER_SESSION_ID`` cookie the server sets on the first call is sent
  on every later one. OnSite limits open sessions to the store's seats and never expires them, so
  the first call is made alone (concurrent first calls would each open a session), a session that
  the server replaces is adopted once and any surplus one is logged out, the cookie is kept in
  ``session_file`` so that a process killed mid-run is replaced by one that reuses its session, and
  ``aclose()`` logs out (``POST /api/sessions/current/logout/``).
* Retries: a small bounded number, only where repeating cannot duplicate anything — idempotent
  verbs on 5xx/429/timeouts/broken connections; ``POST`` only on 429/503 and on a connection that
  never opened. ``Retry-After`` is honoured up to ``max_retry_after_seconds``.
* XML out with the standard library; XML in through defusedxml with DTDs, entities and external
  references forbidden.
* Errors become :class:`OnSiteCallError` (a :class:`PosError`): retryable for outages, rate limits,
  timeouts, locks held by someone else and "no seat free"; not retryable for what a person must mend
  (400, credentials, licence, 404, 405).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal, InvalidOperation
from http.cookies import CookieError, SimpleCookie
from typing import Any

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring

from m2pos.engine.ratelimit import RateLimitedTransport, RateLimiter
from m2pos.pos.common.errors import StatusPolicy, may_resend_after, may_resend_answered
from m2pos.pos.lightspeed_onsite._settings import OnSiteSettings
from m2pos.pos.port import PosError
from m2pos.retry_after import retry_after

log = logging.getLogger("m2pos.pos.lightspeed_onsite")

COOKIE = "LS_SERVER_SESSION_ID"
LOGOUT = "sessions/current/logout/"
POS_NAME = "Lightspeed OnSite"
_SESSION_ID = re.compile(r"^[A-Za-z0-9._~+/=-]{1,512}$")
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MESSAGE_CHARS = 300

Element = ET.Element


class OnSiteCallError(PosError):
    """A call the server refused or that did not complete."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


# -- XML ----------------------------------------------------------------------------------------------


def clean(text: str | None) -> str:
    """Text that XML 1.0 can carry (control characters dropped)."""
    return _INVALID_XML_CHARS.sub("", text or "")


def number(value: Decimal) -> str:
    """A plain decimal (``14``, ``14.5``, ``-1.000``): never an exponent."""
    return format(value, "f")


def sub(parent: Element, tag: str, text: str | None = None, **attrib: str) -> Element:
    node = ET.SubElement(parent, tag, attrib)
    if text is not None:
        node.text = clean(text)
    return node


def to_bytes(root: Element) -> bytes:
    return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True))


def parse_xml(content: bytes, what: str) -> Element:
    try:
        root: Element = safe_fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise OnSiteCallError(
            f"{POS_NAME} answered {what} with XML that declares a DTD or entities "
            f"({type(error).__name__}); m2pos refuses such XML (entity expansion, external files). "
            "Check that pos.base_url points to the Lightspeed Server and not to something in between.",
            retryable=False,
        ) from None
    except ParseError:
        excerpt = content[:80].decode("utf-8", "replace")
        raise OnSiteCallError(
            f"{POS_NAME} answered {what} with something that is not XML ({excerpt!r}); "
            "check pos.base_url (it must end in /api/). m2pos retries later.",
            retryable=True,
        ) from None
    return root


def text(node: Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path)
    return "" if found is None or found.text is None else found.text.strip()


def decimal(node: Element | None, path: str) -> Decimal:
    raw = text(node, path)
    try:
        return Decimal(raw) if raw and raw != "None" else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def flag(node: Element | None, path: str) -> bool:
    return text(node, path).lower() in ("true", "1", "yes")


def ref_id(node: Element | None, path: str | None = None) -> int | None:
    """The id of a reference element (``<customer id="13" uri="…/13/"/>``); None when empty."""
    target = node if path is None or node is None else node.find(path)
    if target is None:
        return None
    raw = target.get("id")
    if not raw and target.get("uri"):
        match = re.search(r"/(\d+)/?$", target.get("uri", ""))
        raw = match.group(1) if match else None
    return int(raw) if raw and raw.isdigit() else None


def quote(value: str) -> str:
    """A string value for ``filter=`` (double quotes, backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_filter(field: str, values: Iterable[str]) -> str:
    return f"{field} IN {{{', '.join(quote(v) for v in values)}}}"


# -- errors -------------------------------------------------------------------------------------------


def _server_message(response: httpx.Response) -> str:
    body = response.content[:4000]
    message = ""
    if b"<" in body[:100]:
        try:
            root = safe_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            message = text(root, "message") or " ".join(root.itertext())
        except (DefusedXmlException, ParseError):
            message = ""
    if not message:
        message = body.decode("utf-8", "replace")
    message = " ".join(message.split())
    return message[:_MESSAGE_CHARS] + ("…" if len(message) > _MESSAGE_CHARS else "")


_LOCKED = "The record is being edited (locked) in Lightspeed; m2pos retries later."
STATUSES = StatusPolicy(
    POS_NAME,
    "Lightspeed",
    {
        401: "Check pos.username and pos.password (an OnSite user allowed to use the API).",
        403: "Check pos.app_id and pos.app_private_id, and that the app is licensed in Lightspeed "
        "(System Preferences › Third Party Apps).",
        409: _LOCKED,
        423: _LOCKED,
    },
    retry_statuses=frozenset({408, 409, 423, 429}),
    server_trouble="Lightspeed Server had a problem; m2pos retries later.",
)
# Out of seats is a 403 too, but one that passes: sessions expire or the server restarts.
SEATS_TAKEN = StatusPolicy(
    POS_NAME,
    "Lightspeed",
    {
        403: "Every API seat of the store is taken by open sessions. m2pos retries later; to free seats, "
        "stop other API clients or restart Lightspeed Server (sessions are only cleared by a restart)."
    },
    retry_statuses=frozenset({403}),
)


def http_error(response: httpx.Response) -> OnSiteCallError:
    said = _server_message(response)
    policy = SEATS_TAKEN if response.status_code == 403 and "seat" in said.lower() else STATUSES
    message, retryable = policy.read(response, said)
    return OnSiteCallError(message, retryable=retryable, status=response.status_code)


def transport_error(error: httpx.TransportError, base_url: str, method: str, path: str) -> OnSiteCallError:
    name = type(error).__name__
    if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        return OnSiteCallError(
            f"{POS_NAME} at {base_url}: its TLS certificate could not be verified. OnSite servers use a "
            "self-signed certificate: set pos.ca_file to that certificate, or pos.verify_tls = false.",
            retryable=False,
        )
    if isinstance(error, httpx.TimeoutException):
        what = f"did not answer {method} {path} in time ({name})"
    else:
        what = f"could not be reached for {method} {path} ({name})"
    return OnSiteCallError(
        f"{POS_NAME} at {base_url} {what}. Check that Lightspeed Server is running and reachable "
        "(pos.base_url); m2pos retries later.",
        retryable=True,
    )


def session_cookie(response: httpx.Response) -> str | None:
    """The ``LS_SERVER_SESSION_ID`` the response sets (None: none, or an expiring one)."""
    for raw in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            continue
        morsel = jar.get(COOKIE)
        if morsel is not None and morsel.value and _SESSION_ID.match(morsel.value):
            return morsel.value
    return None


# -- the client ---------------------------------------------------------------------------------------


def _verify(settings: OnSiteSettings) -> ssl.SSLContext | bool:
    if not settings.verify_tls:
        return False
    if settings.ca_file is not None:
        return ssl.create_default_context(cafile=str(settings.ca_file))
    return True


class OnSiteClient:
    def __init__(
        self,
        settings: OnSiteSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = settings.base_url
        self.max_attempts = settings.max_attempts
        self.max_retry_after = settings.max_retry_after_seconds
        self.session_file = settings.session_file
        self._sleep = sleep
        inner = transport or httpx.AsyncHTTPTransport(verify=_verify(settings))
        self.limiter = limiter or RateLimiter(settings.requests_per_second)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            transport=RateLimitedTransport(inner, self.limiter),
            timeout=settings.timeout_seconds,
            auth=httpx.BasicAuth(settings.username, settings.password.get_secret_value()),
            headers={
                "User-Agent": f"{settings.app_id}/{settings.app_version}",
                "X-PAPPID": settings.app_private_id.get_secret_value(),
                "Accept": "application/xml, text/xml",
            },
        )
        self._session_id: str | None = self._read_session_file()
        self._first_call = asyncio.Lock()
        self.requests = 0
        self.sessions_opened = 0
        self.closed = False

    def __repr__(self) -> str:
        return f"OnSiteClient({self.base_url!r})"

    # -- session ----------------------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def _read_session_file(self) -> str | None:
        if self.session_file is None:
            return None
        try:
            value = self.session_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return value if _SESSION_ID.match(value) else None

    def _write_session_file(self, value: str | None) -> None:
        path = self.session_file
        if path is None:
            return
        try:
            if value is None:
                path.unlink(missing_ok=True)
                return
            tmp = path.with_name(path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(value)
            os.replace(tmp, path)
        except OSError as error:
            log.warning("cannot keep the OnSite session in %s: %s", path, error)

    async def _adopt(self, new: str, sent: str | None) -> None:
        if sent == self._session_id:
            self._session_id = new
            self.sessions_opened += 1
            self._write_session_file(new)
            return
        # Another call adopted a new session meanwhile (the server forgot the old one): this one is
        # surplus and would hold a seat until the server restarts.
        await self._logout(new)

    async def _logout(self, session_id: str) -> bool:
        try:
            response = await self._http.post(LOGOUT, headers={"Cookie": f"{COOKIE}={session_id}"})
        except httpx.TransportError as error:
            log.warning("OnSite logout failed: %s", type(error).__name__)
            return False
        finally:
            self._http.cookies.clear()
        self.requests += 1
        return response.status_code < 400

    async def logout(self) -> None:
        """End the server session (frees the seat); the session file goes with it."""
        session = self._session_id
        if session is None:
            return
        if await self._logout(session):
            self._session_id = None
            self._write_session_file(None)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.logout()
        finally:
            await self._http.aclose()

    # -- requests ---------------------------------------------------------------------------------

    async def _exchange(
        self, method: str, path: str, body: bytes | None, params: Mapping[str, Any] | None, cookie: str | None
    ) -> httpx.Response:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "text/xml; charset=utf-8"
        self.requests += 1
        try:
            response = await self._http.request(method, path, content=body, params=params, headers=headers)
        finally:
            self._http.cookies.clear()  # the session cookie is sent by hand, never from the jar
        new = session_cookie(response)
        if new and new != cookie and path != LOGOUT:
            await self._adopt(new, cookie)
        return response

    async def _send(
        self, method: str, path: str, body: bytes | None, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        if self._session_id is None:
            async with self._first_call:  # the first call alone: it opens the session
                if self._session_id is None:
                    return await self._exchange(method, path, body, params, None)
        return await self._exchange(method, path, body, params, self._session_id)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        if self.closed:
            raise OnSiteCallError(f"{POS_NAME}: the connection was closed", retryable=True)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, path, body, params)
            except httpx.TransportError as error:
                certificate = "CERTIFICATE_VERIFY_FAILED" in str(error)
                if may_resend_after(method, error) and not certificate and attempt < self.max_attempts:
                    await self._sleep(self._backoff(attempt))
                    continue
                raise transport_error(error, self.base_url, method, path) from None
            status = response.status_code
            transient = may_resend_answered(method, status)
            if transient and attempt < self.max_attempts:
                wait = retry_after(response)
                if wait is None:
                    wait = self._backoff(attempt)
                if wait <= self.max_retry_after:
                    await self._sleep(wait)
                    continue
            if status >= 400:
                raise http_error(response)
            return response

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(2.0, 0.1 * 3 ** (attempt - 1)))

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Element:
        response = await self.request("GET", path, params=params)
        return parse_xml(response.content, f"GET {path}")

    async def post(self, path: str, root: Element) -> Element:
        response = await self.request("POST", path, body=to_bytes(root))
        return parse_xml(response.content, f"POST {path}")

    async def put(self, path: str, root: Element) -> Element:
        response = await self.request("PUT", path, body=to_bytes(root))
        return parse_xml(response.content, f"PUT {path}")

    async def delete(self, path: str) -> None:
        await self.request("DELETE", path)

    @asynccontextmanager
    async def locked(self, path: str) -> AsyncIterator[None]:
        """``LOCK`` the resource for the block, ``UNLOCK`` it whatever happens."""
        await self.request("LOCK", path)
        try:
            yield
        finally:
            try:
                await self.request("UNLOCK", path)
            except PosError as error:
                # The lock expires by itself (OnSite keeps it about a minute); the edit is done.
                log.warning("OnSite UNLOCK failed", extra={"resource": path, "error": error.message})
