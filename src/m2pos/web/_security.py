"""Passwords, session tokens and login throttling for the web console.

Passwords are hashed with scrypt (memory-hard, in the standard library); tokens are 256-bit random
strings compared in constant time. Failed logins are counted per user name and per address in the
database, so a restart does not reset them and several console processes share them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from m2pos.ledger.console import ConsoleStore

SESSION_COOKIE = "m2pos_session"
LOGIN_CSRF_COOKIE = "m2pos_login_csrf"  # double-submit token of the login and set-up forms
THROTTLE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    parameters = f"{_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}"
    return f"scrypt${parameters}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), dklen=len(expected), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def password_problem(password: str, repeated: str) -> str | None:
    """Why a new password cannot be used (None: it can)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if password != repeated:
        return "The two passwords differ."
    return None


@dataclass(frozen=True)
class Throttle:
    """At most ``attempts`` failed logins per user name and per address in ``THROTTLE_WINDOW``."""

    store: ConsoleStore
    attempts: int

    def wait(self, username: str, address: str, now: datetime) -> timedelta | None:
        """How long this user name or address must wait before trying again (None: it may try)."""
        count, oldest = self.store.login_failures(username, address, now - THROTTLE_WINDOW)
        if count < self.attempts or oldest is None:
            return None
        return max(timedelta(seconds=1), oldest + THROTTLE_WINDOW - now)

    def failed(self, username: str, address: str, now: datetime) -> None:
        self.store.record_login_failure(username, address, now)

    def succeeded(self, username: str) -> None:
        self.store.clear_login_failures(username)
