"""The console's routes: HTML pages rendered on the server, forms posted back, a little JavaScript.

Security, in one place: every route but the login, first-run set-up and static files needs a
session (cookie ``m2pos_session``: random, HttpOnly, SameSite=Strict, Secure over HTTPS); every
POST needs the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``) and a
same-origin ``Origin`` when the browser sends one; failed logins are throttled per user name and
per address; responses forbid framing and outside scripts (Content-Security-Policy).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from m2pos import __version__
from m2pos.ledger import OrderStatus, utcnow
from m2pos.ledger.console import ConsoleSessionRow
from m2pos.ledger.runs import store_overview
from m2pos.magento.check import CheckResult, CheckStatus
from m2pos.metrics import CONTENT_TYPE, render_metrics
from m2pos.web._console import STATUS_LABELS, Console
from m2pos.web._forms import NOTIFICATIONS, Section, connection_sections, order_sections
from m2pos.web._security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Throttle,
    hash_password,
    new_token,
    password_problem,
    same_token,
    verify_password,
)

log = logging.getLogger("m2pos.web")
_HERE = Path(__file__).parent
_FORM = "application/x-www-form-urlencoded"  # the console's forms; nothing is uploaded
_PUBLIC = ("/login", "/setup", "/static/", "/healthz", "/metrics")  # /metrics: its own token
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class WebOptions:
    setup_code: str  # asked for on the first-run page, so that only whoever started m2pos can claim it


class NotLoggedIn(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def create_app(console: Console, options: WebOptions) -> FastAPI:
    app = FastAPI(title="m2pos console", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    templates = Environment(
        loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(default=True)
    )
    templates.globals.update(version=__version__, status_labels=STATUS_LABELS)
    templates.filters["when"] = lambda at: f"{at:%Y-%m-%d %H:%M:%S} UTC" if at else "never"

    def settings_web() -> Any:
        return console.settings().web

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        session: ConsoleSessionRow | None = getattr(request.state, "session", None)
        context.setdefault("flash", request.query_params.get("done", ""))
        html = templates.get_template(name).render(
            request=request,
            user=session.username if session else None,
            csrf_token=session.csrf_token if session else "",
            page=name.removesuffix(".html"),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    # --- the guard ----------------------------------------------------------------------------------

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        try:
            if not path.startswith(_PUBLIC):
                request.state.session = _session(request)
                if request.method not in ("GET", "HEAD"):
                    await _check_csrf(request, request.state.session.csrf_token)
            elif request.method == "POST":
                _check_origin(request)
            response = await call_next(request)
        except NotLoggedIn:
            if request.method in ("GET", "HEAD"):
                response = RedirectResponse(f"/login?next={quote(path)}", status_code=303)
            else:
                response = HTMLResponse("Log in first.", status_code=401)
        except Forbidden as refusal:
            log.warning("console request refused", extra={"path": path, "reason": refusal.reason})
            response = HTMLResponse(f"Refused: {refusal.reason}", status_code=403)
        for header, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    def _session(request: Request) -> ConsoleSessionRow:
        token = request.cookies.get(SESSION_COOKIE)
        session = console.store.session(token, utcnow()) if token else None
        if session is None:
            raise NotLoggedIn
        return session

    async def _check_csrf(request: Request, expected: str) -> None:
        _check_origin(request)
        given = request.headers.get("x-csrf-token")
        if given is None and request.headers.get("content-type", "").startswith(_FORM):
            # The raw body, parsed here: Starlette replays a body read in a middleware to the route.
            values = parse_qs((await request.body()).decode("utf-8", "replace")).get("csrf_token")
            given = values[-1] if values else None
        if not same_token(given, expected):
            raise Forbidden("the form's security token is missing or out of date; reload the page")

    def _check_origin(request: Request) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise Forbidden(f"a request from another site ({origin})")

    def _secure(request: Request) -> bool:
        configured = settings_web().secure_cookies
        if configured is not None:
            return bool(configured)
        return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"

    def _login_form(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
        response = render(request, name, status_code, login_csrf=token, **context)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), max_age=3600
        )
        return response

    def _form_token_ok(request: Request, form: FormData) -> bool:
        given = form.get("login_csrf")
        return same_token(given if isinstance(given, str) else None, request.cookies.get(LOGIN_CSRF_COOKIE))

    # --- logging in ---------------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus, with ``Authorization: Bearer <web.metrics_token>``."""
        token = settings_web().metrics_token
        if token is None:
            return Response("Not found: set web.metrics_token to scrape metrics.", status_code=404)
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not same_token(given or None, token.get_secret_value()):
            return Response("Send Authorization: Bearer <web.metrics_token>.", status_code=401)
        return Response(render_metrics(console.ledger.engine), media_type=CONTENT_TYPE)

    @app.get("/login")
    def login_page(request: Request, next: str = "/status") -> Response:
        if not console.store.has_users():
            return RedirectResponse("/setup", status_code=303)
        return _login_form(request, "login.html", next=_local(next))

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        target = _local(str(form.get("next", "/status")))
        if not _form_token_ok(request, form):
            return _login_form(request, "login.html", 403, next=target, error="The form expired; try again.")
        address = request.client.host if request.client else "unknown"
        throttle = Throttle(console.store, settings_web().login_attempts)
        now = utcnow()
        wait = throttle.wait(username, address, now)
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            error = f"Too many failed logins. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
            return _login_form(request, "login.html", 429, next=target, error=error, username=username)
        user = console.store.user(username)
        if user is None or not verify_password(password, user.password_hash):
            throttle.failed(username, address, now)
            log.warning("console login failed", extra={"username": username[:64], "address": address})
            error = "Wrong user name or password."
            return _login_form(request, "login.html", 401, next=target, error=error, username=username)
        throttle.succeeded(username)
        return _start_session(request, username, target)

    def _start_session(request: Request, username: str, target: str) -> Response:
        token, now = new_token(), utcnow()
        lifetime = timedelta(hours=settings_web().session_hours)
        console.store.create_session(token, username, new_token(), now, lifetime)
        console.store.logged_in(username, now)
        log.info("console login", extra={"username": username})
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            max_age=int(lifetime.total_seconds()),
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            console.store.end_session(token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/setup")
    def setup_page(request: Request, code: str = "") -> Response:
        if console.store.has_users():
            return RedirectResponse("/login", status_code=303)
        return _login_form(request, "setup.html", code=code, username="admin")

    @app.post("/setup")
    async def setup(request: Request) -> Response:
        if console.store.has_users():
            return RedirectResponse("/login", status_code=303)
        form = await request.form()
        username = str(form.get("username", "")).strip()
        password, repeated = str(form.get("password", "")), str(form.get("repeat", ""))
        code = str(form.get("code", "")).strip()
        context = {"code": code, "username": username}
        if not _form_token_ok(request, form):
            return _login_form(request, "setup.html", 403, error="The form expired; try again.", **context)
        if not same_token(code, options.setup_code):
            return _login_form(
                request,
                "setup.html",
                403,
                error="Wrong set-up code: use the one m2pos printed when it started.",
                **context,
            )
        problem = password_problem(password, repeated)
        if not username or len(username) > 64:
            problem = "Choose a user name (at most 64 characters)."
        if problem:
            return _login_form(request, "setup.html", 400, error=problem, **context)
        console.store.set_user(username, hash_password(password))
        log.info("console user created at first run", extra={"username": username})
        return _start_session(request, username, "/status")

    # --- the deployment's stores (distributed mode) ---------------------------------------------------

    @app.get("/stores")
    def stores(request: Request) -> Response:
        lines = store_overview(console.ledger.engine, with_orders=True)
        return render(request, "stores.html", lines=lines)

    # --- status -------------------------------------------------------------------------------------

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/status", status_code=303)

    @app.get("/status")
    def status_page(request: Request) -> Response:
        return render(request, "status.html", status=console.status(), settings=console.settings())

    @app.get("/status/panel")
    def status_panel(request: Request) -> Response:
        return render(request, "_status_panel.html", status=console.status(), settings=console.settings())

    # --- settings pages -----------------------------------------------------------------------------

    def settings_page(
        request: Request, template: str, sections: list[Section], status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        values, locked, origins = console.form_values(sections)
        context.setdefault("errors", {})
        return render(
            request,
            template,
            status_code,
            sections=sections,
            values={**values, **context.pop("submitted", {})},
            locked=locked,
            origins=origins,
            pos_kind=console.settings().pos.kind,
            **context,
        )

    async def save_page(request: Request, template: str, sections: list[Section], done: str) -> Response:
        form = await request.form()
        submitted = _fields_of(form)
        user: ConsoleSessionRow = request.state.session
        outcome = console.save(sections, submitted, user.username)
        if outcome.saved:
            return RedirectResponse(f"{request.url.path}?done={quote(done)}", status_code=303)
        # What was typed is shown again, except secrets: they never go back to the browser.
        shown = {
            f.key: submitted[f.name][-1]
            for s in sections
            for f in s.fields
            if submitted.get(f.name) and f.kind != "secret"
        }
        return settings_page(
            request, template, sections, 400, errors=outcome.errors, general=outcome.general, submitted=shown
        )

    @app.get("/settings")
    def order_settings(request: Request) -> Response:
        return settings_page(request, "settings.html", order_sections(console.settings().pos.kind))

    @app.post("/settings")
    async def save_order_settings(request: Request) -> Response:
        sections = order_sections(console.settings().pos.kind)
        return await save_page(
            request, "settings.html", sections, "Saved. The next cycle uses these settings."
        )

    @app.get("/connections")
    def connections(request: Request) -> Response:
        return settings_page(request, "connections.html", connection_sections(console.settings().pos.kind))

    @app.post("/connections")
    async def save_connections(request: Request) -> Response:
        sections = connection_sections(console.settings().pos.kind)
        return await save_page(
            request, "connections.html", sections, "Saved. The next cycle connects with these."
        )

    @app.post("/connections/test/{system}")
    async def test_connection(request: Request, system: str) -> Response:
        sections = connection_sections(console.settings().pos.kind)
        form = await request.form()
        submitted = _fields_of(form)
        try:
            settings, _ = console.preview(sections, submitted)
        except ValueError as error:  # SettingsError: the values typed cannot even be tried
            title, results = "Connection check", [CheckResult("Settings", CheckStatus.FAIL, str(error))]
        else:
            title, results = await (
                console.test_magento(settings) if system == "magento" else console.test_pos(settings)
            )
        return settings_page(
            request, "connections.html", sections, check_title=title, check_results=results, checked=system
        )

    @app.get("/notifications")
    def notifications(request: Request) -> Response:
        return settings_page(request, "notifications.html", [NOTIFICATIONS])

    @app.post("/notifications")
    async def save_notifications(request: Request) -> Response:
        return await save_page(request, "notifications.html", [NOTIFICATIONS], "Saved.")

    @app.post("/notifications/test")
    async def test_email(request: Request) -> Response:
        try:
            sent = await console.send_test_email()
        except (OSError, ValueError) as error:
            return settings_page(request, "notifications.html", [NOTIFICATIONS], 502, email_error=str(error))
        return settings_page(request, "notifications.html", [NOTIFICATIONS], email_sent=sent)

    # --- orders and credit memos --------------------------------------------------------------------

    @app.get("/orders")
    def orders(request: Request, q: str = "", status: str = "", page: int = 1) -> Response:
        status = status if status in OrderStatus.ALL else ""
        page = max(1, page)
        rows, total = console.store.search_orders(q.strip(), status or None, 50, (page - 1) * 50)
        return render(request, "orders.html", rows=rows, total=total, q=q, status=status, page_number=page)

    @app.get("/orders/{row_id}")
    async def order(request: Request, row_id: int) -> Response:
        found = console.order(row_id)
        if found is None:
            return render(request, "missing.html", 404, what="order")
        row, events, memos = found
        explanations, explain_error = await console.explain(row.increment_id)
        explanation = next((e for e in explanations if e.entity_id == row.magento_entity_id), None)
        return render(
            request,
            "order.html",
            row=row,
            events=events,
            memos=memos,
            explanation=explanation,
            explain_error=explain_error,
        )

    @app.post("/orders/{row_id}/retry")
    def retry_order(request: Request, row_id: int) -> Response:
        done = console.request_retry("order", row_id, request.state.session.username)
        return RedirectResponse(f"/orders/{row_id}?done={quote(done)}", status_code=303)

    @app.get("/orders/{row_id}/resend")
    def resend_page(request: Request, row_id: int) -> Response:
        found = console.order(row_id)
        if found is None:
            return render(request, "missing.html", 404, what="order")
        return render(request, "resend.html", row=found[0], plan=console.resend_plan(found[0]))

    @app.post("/orders/{row_id}/resend")
    def resend(request: Request, row_id: int) -> Response:
        done = console.request_resend(row_id, request.state.session.username)
        return RedirectResponse(f"/orders/{row_id}?done={quote(done)}", status_code=303)

    @app.get("/credit-memos")
    def credit_memos(request: Request, q: str = "", status: str = "", page: int = 1) -> Response:
        status = status if status in OrderStatus.ALL else ""
        page = max(1, page)
        rows, total = console.store.search_credit_memos(q.strip(), status or None, 50, (page - 1) * 50)
        return render(
            request, "credit_memos.html", rows=rows, total=total, q=q, status=status, page_number=page
        )

    @app.get("/credit-memos/{row_id}")
    def credit_memo(request: Request, row_id: int) -> Response:
        found = console.credit_memo(row_id)
        if found is None:
            return render(request, "missing.html", 404, what="credit memo")
        return render(request, "credit_memo.html", row=found[0], events=found[1])

    @app.post("/credit-memos/{row_id}/retry")
    def retry_credit_memo(request: Request, row_id: int) -> Response:
        done = console.request_retry("credit_memo", row_id, request.state.session.username)
        return RedirectResponse(f"/credit-memos/{row_id}?done={quote(done)}", status_code=303)

    return app


def _fields_of(form: FormData) -> dict[str, list[str]]:
    """Each form field's values (the console takes no file uploads)."""
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


def _local(target: str) -> str:
    """Only a path on this site: a login link must not send anyone elsewhere."""
    parts = urlsplit(target)
    # Browsers read a backslash as "/" and drop tabs and newlines, so "/<backslash>evil.example"
    # would leave the site once anything stopped percent-encoding it.
    odd = "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    if odd or parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/status"
    return target
