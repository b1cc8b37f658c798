"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from m2pos.ledger import create_ledger_engine, migrate
from m2pos.ledger.tables import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_ledger_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == [], "add an Alembic migration for these model changes"
