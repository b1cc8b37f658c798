"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

import multiprocessing
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from m2pos.ledger import Ledger, create_ledger_engine, migrate
from m2pos.ledger.tables import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_ledger_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == [], "add an Alembic migration for these model changes"


def _open_at_once(database_url: str, barrier: Any) -> None:
    barrier.wait()
    Ledger.open(database_url).close()  # a failure exits non-zero, with its traceback on stderr


def test_processes_opening_a_new_ledger_at_once_create_it_once(database_url: str) -> None:
    # `m2pos run` and `m2pos web` (or several workers) started together on an empty database.
    context = multiprocessing.get_context("spawn")
    starters = 4
    barrier = context.Barrier(starters)
    processes = [context.Process(target=_open_at_once, args=(database_url, barrier)) for _ in range(starters)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * starters
    engine = create_ledger_engine(database_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()
