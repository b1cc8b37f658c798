"""The ASGI side: the token endpoint, the API through faults, the leaky bucket and bearer auth, and a
small control interface under ``/_sandbox/``. Raw ASGI (not Starlette endpoints) so that the shared
fault injection can drop a response after its write was committed."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from m2pos.sandbox._faults import (
    Counters,
    FaultInjector,
    FaultKind,
    Reply,
    read_body,
    run_with_faults,
    send_reply,
)
from m2pos.sandbox.lightspeed_retail._bucket import LeakyBucket, cost_of
from m2pos.sandbox.lightspeed_retail._render import error_body
from m2pos.sandbox.lightspeed_retail._routes import PATH, dispatch, parse_query
from m2pos.sandbox.lightspeed_retail._store import RetailError, Store
from m2pos.sandbox.lightspeed_retail._tokens import TokenAuthority

TOKEN_PATH = "/auth/oauth/token"  # noqa: S105 - a path, not a secret
JSON = ("Content-Type", "application/json")


def _json_reply(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), [JSON, *(headers or [])])


def _error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Reply:
    return _json_reply(status, error_body(status, message), headers)


def _fault_reply(kind: FaultKind) -> Reply:
    if kind == "rate_limit":
        return _error(429, "Rate Limit Exceeded: Please try again later")
    if kind == "timeout":
        return _error(504, "Gateway Timeout")
    return _error(500, "Internal Server Error")


def route_key(method: str, path: str) -> str:
    if path == TOKEN_PATH:
        return f"{method} {TOKEN_PATH}"
    match = PATH.match(path)
    if match is None:
        return f"{method} {path}"
    tail = "/{id}" if match["id"] else ""
    return f"{method} /API/V3/Account/{{accountID}}/{match['resource']}{tail}.json"


class RetailApp:
    def __init__(
        self,
        store: Store,
        tokens: TokenAuthority,
        bucket: LeakyBucket,
        faults: FaultInjector,
        counters: Counters,
    ) -> None:
        self.store, self.tokens, self.bucket, self.faults, self.counters = (
            store,
            tokens,
            bucket,
            faults,
            counters,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"].upper(), scope["path"]
        if path.startswith("/_sandbox"):
            await send_reply(
                send, self.counters, "control", await self._control(method, path, await read_body(receive))
            )
            return
        key = route_key(method, path)
        self.counters.hit(key)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = scope.get("query_string", b"").decode("latin-1")

        async def handle(body: bytes) -> Reply:
            if path == TOKEN_PATH and method == "POST":
                return self._token(body, headers)
            return await run_in_threadpool(self._api, method, path, query, headers, body)

        await run_with_faults(
            receive,
            send,
            key=key,
            injector=self.faults,
            counters=self.counters,
            fault_reply=_fault_reply,
            handle=handle,
        )

    def _token(self, body: bytes, headers: dict[str, str]) -> Reply:
        text = body.decode("utf-8", "replace")
        if headers.get("content-type", "").startswith("application/json"):
            try:
                form = {str(k): str(v) for k, v in json.loads(text or "{}").items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = dict(parse_qsl(text))
        if form.get("grant_type") != "refresh_token":
            return _json_reply(
                400, {"error": "unsupported_grant_type", "error_description": "Use grant_type=refresh_token."}
            )
        pair = self.tokens.refresh(
            form.get("client_id", ""), form.get("client_secret", ""), form.get("refresh_token", "")
        )
        if pair is None:
            return _json_reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The refresh token is invalid or was already used.",
                },
            )
        return _json_reply(200, pair)

    def _api(self, method: str, path: str, query_text: str, headers: dict[str, str], body: bytes) -> Reply:
        match = PATH.match(path)
        if match is None:
            return _error(404, f"No such API path {path}.")
        wait = self.bucket.take(cost_of(method))
        if wait is not None:
            return _error(
                429,
                "Rate Limit Exceeded: Please try again later",
                [("Retry-After", f"{wait:g}"), *self.bucket.headers()],
            )
        bucket = self.bucket.headers()
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not self.tokens.valid(auth[7:].strip()):
            return _error(401, "Invalid access token.", bucket)
        if match["account"] != self.store.account_id:
            return _error(403, f"Access to account {match['account']} denied.", bucket)
        try:
            payload: dict[str, Any] = {}
            if method in ("POST", "PUT"):
                try:
                    loaded = json.loads(body.decode("utf-8") or "{}")
                except ValueError:
                    raise RetailError(400, "The request body is not valid JSON.") from None
                if not isinstance(loaded, dict):
                    raise RetailError(400, "The request body must be a JSON object.")
                payload = loaded
            status, result = dispatch(
                self.store, method, match["resource"], match["id"], parse_query(query_text), payload
            )
        except RetailError as error:
            return _error(error.status, error.message, bucket)
        return _json_reply(status, result, bucket)

    async def _control(self, method: str, path: str, body: bytes) -> Reply:
        if path.rstrip("/") == "/_sandbox/faults" and method == "POST":
            try:
                self.faults.settings.update(json.loads(body or b"{}"))
            except (ValueError, TypeError) as error:
                return _json_reply(400, {"error": str(error)})
            return _json_reply(200, self.faults.settings.as_dict())
        if path.rstrip("/") in ("/_sandbox", "/_sandbox/info") and method == "GET":
            with self.store.lock:
                counts = {
                    "items": len(self.store.items),
                    "customers": len(self.store.customers),
                    "sales": len(self.store.sales),
                }
            return _json_reply(
                200,
                {
                    "counts": counts,
                    "bucket": {
                        "size": self.bucket.size,
                        "drip": self.bucket.drip,
                        "refused": self.bucket.refused,
                    },
                    "faults": self.faults.settings.as_dict(),
                    "requests": self.counters.snapshot(),
                },
            )
        return _json_reply(404, {"error": "unknown control path"})
