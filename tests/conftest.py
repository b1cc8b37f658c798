"""Fixtures shared by every test package: databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pos_support import http_server, magento  # noqa: F401 - fixtures for the POS tests

POSTGRES_ADMIN_URL = os.environ.get(
    "M2POS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _postgres_admin() -> object | None:
    try:
        import psycopg

        return psycopg.connect(
            POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"),
            autocommit=True,
            connect_timeout=3,
        )
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin = _postgres_admin()
    if admin is None:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    name = f"m2pos_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each ledger test runs on SQLite and on PostgreSQL."""
    return str(
        request.getfixturevalue(f"{request.param}_url" if request.param == "sqlite" else "postgres_url")
    )
