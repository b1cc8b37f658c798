"""The web console (``m2pos web``): settings, connections, status, orders, credit memos, e-mail.

Small public surface: :func:`console_app` builds the ASGI app for one store's ledger and settings;
:func:`first_run_lines` says how to reach it (and, before anyone has an account, how to claim it).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from m2pos.ledger import Ledger
from m2pos.settings_store import LayersSource
from m2pos.web._app import WebOptions, create_app
from m2pos.web._console import Console
from m2pos.web._security import new_token


def console_app(
    layers: LayersSource,
    ledger: Ledger,
    *,
    environ: Mapping[str, str] | None = None,
    setup_code: str | None = None,
) -> tuple[FastAPI, Console, str]:
    """The app, the console behind it, and the first-run set-up code (random unless given)."""
    console = Console(layers, ledger, environ)
    code = setup_code or new_token()[:16]
    return create_app(console, WebOptions(setup_code=code)), console, code


def first_run_lines(console: Console, base_url: str, setup_code: str) -> list[str]:
    lines = [f"Console: {base_url}/"]
    if not console.store.has_users():
        lines.append(f"First run: open {base_url}/setup?code={setup_code} and choose the console's password")
    return lines


__all__ = ["Console", "console_app", "first_run_lines"]
