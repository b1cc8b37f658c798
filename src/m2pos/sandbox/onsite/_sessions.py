"""Authentication, server sessions (``LS_SERVER_SESSION_ID``), seats and resource locks.

Faithful [V]: the three headers on every call; the demo app id accepts any private id; the first
authenticated call opens a session and sets ``LS_SERVER_SESSION_ID``; replaying the cookie reuses the
session, without it each call opens another one; open sessions of a read/write app are limited to the
store's seats; stale sessions never expire (only a server restart clears them — here
``control.clear_sessions()``); ``POST /api/sessions/current/logout/`` → 204.

Guessed [U]: the statuses and bodies of refusals (see ``authenticate`` and ``open``), that a cookie
naming an unknown or closed session silently opens a new one (Basic auth is on every call), that locks
belong to a session, are released by its logout and expire after ``lock_timeout_seconds``.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from m2pos.sandbox.onsite._credentials import DEMO_APP_ID, OnSiteCredentials
from m2pos.sandbox.onsite._errors import OnSiteError

COOKIE = "LS_SERVER_SESSION_ID"
_USER_AGENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/(\S+)")


@dataclass(frozen=True)
class Identity:
    user: str
    app_id: str
    app_version: str
    private_id: str


def _refuse(status: int, message: str) -> OnSiteError:
    headers = {"WWW-Authenticate": 'Basic realm="Lightspeed Server"'} if status == 401 else None
    return OnSiteError(status, message, plain=True, headers=headers)


def authenticate(
    headers: dict[str, str], credentials: OnSiteCredentials, demo_app_enabled: bool = True
) -> Identity:
    """Check the three headers. 401 for missing/wrong Basic credentials; 403 for a missing or
    malformed ``User-Agent`` app id, a missing ``X-PAPPID``, or an app that is not registered."""
    auth = headers.get("authorization", "")
    if auth[:6].lower() != "basic ":
        raise _refuse(401, "Authentication required: send Authorization: Basic with an OnSite user.")
    try:
        user, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _refuse(401, "Invalid Authorization header.") from None
    if user != credentials.username or not secrets.compare_digest(password, credentials.password):
        raise _refuse(401, "Invalid username or password.")
    match = _USER_AGENT.match(headers.get("user-agent", ""))
    if match is None:
        raise _refuse(403, "Unknown application: the User-Agent header must be {AppID}/{AppVersion}.")
    app_id, app_version = match.group(1), match.group(2)
    private_id = headers.get("x-pappid", "").strip()
    if not private_id:
        raise _refuse(403, "Missing X-PAPPID header (the application's private id).")
    if app_id == DEMO_APP_ID:
        if not demo_app_enabled:
            raise _refuse(403, f"Application {app_id} is not licensed on this server.")
    else:
        expected = credentials.private_ids().get(app_id)
        if expected is None:
            raise _refuse(403, f"Application {app_id} is not licensed on this server.")
        if not secrets.compare_digest(private_id, expected):
            raise _refuse(403, f"Invalid private id for application {app_id}.")
    return Identity(user, app_id, app_version, private_id)


@dataclass
class Session:
    id: str
    user: str
    app_id: str
    opened: float
    last_seen: float
    requests: int = 0
    locks: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "app_id": self.app_id,
            "opened": self.opened,
            "last_seen": self.last_seen,
            "requests": self.requests,
            "locks": sorted(self.locks),
        }


@dataclass
class Lock:
    session_id: str
    expires: float


class Sessions:
    """Open sessions per user (limited to ``seats``) and the locks they hold."""

    def __init__(self, seats: int, lock_timeout_seconds: float) -> None:
        self.seats = seats
        self.lock_timeout_seconds = lock_timeout_seconds
        self._mutex = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._locks: dict[str, Lock] = {}
        self.opened_total = 0

    # -- sessions ----------------------------------------------------------------------------------

    def resume_or_open(self, identity: Identity, cookie: str | None) -> tuple[Session, bool]:
        """The session named by the cookie (same user), else a new one; True when it is new."""
        now = time.time()
        with self._mutex:
            if cookie:
                found = self._sessions.get(cookie)
                if found is not None and found.user == identity.user:
                    found.last_seen = now
                    found.requests += 1
                    return found, False
            open_for_user = sum(1 for s in self._sessions.values() if s.user == identity.user)
            if open_for_user >= self.seats:
                raise OnSiteError(
                    403,
                    f"No seat available: {open_for_user} sessions are already open for user"
                    f" {identity.user} (seats: {self.seats}). Log out unused sessions"
                    " (POST /api/sessions/current/logout/) or restart the server.",
                    plain=True,
                )
            session = Session(secrets.token_hex(16), identity.user, identity.app_id, now, now, 1)
            self._sessions[session.id] = session
            self.opened_total += 1
            return session, True

    def close(self, session_id: str) -> bool:
        with self._mutex:
            session = self._sessions.pop(session_id, None)
            if session is None:
                return False
            for key in session.locks:
                held = self._locks.get(key)
                if held is not None and held.session_id == session_id:
                    del self._locks[key]
            return True

    def clear(self) -> int:
        """A server restart: every session and lock is gone."""
        with self._mutex:
            count = len(self._sessions)
            self._sessions.clear()
            self._locks.clear()
            return count

    def snapshot(self) -> list[dict[str, Any]]:
        with self._mutex:
            return [s.as_dict() for s in sorted(self._sessions.values(), key=lambda s: s.opened)]

    def count(self) -> int:
        with self._mutex:
            return len(self._sessions)

    # -- locks -------------------------------------------------------------------------------------

    def _holder(self, key: str, now: float) -> Lock | None:
        held = self._locks.get(key)
        if held is None:
            return None
        if held.expires <= now or held.session_id not in self._sessions:
            del self._locks[key]
            session = self._sessions.get(held.session_id)
            if session is not None:
                session.locks.discard(key)
            return None
        return held

    def lock(self, key: str, session_id: str) -> None:
        now = time.time()
        with self._mutex:
            held = self._holder(key, now)
            if held is not None and held.session_id != session_id:
                raise OnSiteError(423, f"The resource {key} is locked by another session.")
            session = self._sessions.get(session_id)
            if session is None:  # logged out by a concurrent request of the same session
                raise OnSiteError(409, "The session was closed.")
            self._locks[key] = Lock(session_id, now + self.lock_timeout_seconds)
            session.locks.add(key)

    def unlock(self, key: str, session_id: str) -> None:
        now = time.time()
        with self._mutex:
            held = self._holder(key, now)
            if held is None:
                return  # unlocking an unlocked resource is accepted (idempotent)
            if held.session_id != session_id:
                raise OnSiteError(423, f"The resource {key} is locked by another session.")
            del self._locks[key]
            session = self._sessions.get(session_id)
            if session is not None:
                session.locks.discard(key)

    def require(self, key: str, session_id: str) -> None:
        """An edit: the resource must be locked by this session."""
        now = time.time()
        with self._mutex:
            held = self._holder(key, now)
            if held is None:
                raise OnSiteError(409, f"The resource {key} must be locked (LOCK) before it can be modified.")
            if held.session_id != session_id:
                raise OnSiteError(423, f"The resource {key} is locked by another session.")
            held.expires = now + self.lock_timeout_seconds

    def locks(self) -> dict[str, str]:
        now = time.time()
        with self._mutex:
            for key in list(self._locks):
                self._holder(key, now)
            return {k: v.session_id for k, v in sorted(self._locks.items())}

    def clear_locks(self) -> int:
        with self._mutex:
            count = len(self._locks)
            for session in self._sessions.values():
                session.locks.clear()
            self._locks.clear()
            return count
