"""What a worker or scheduler process opens once: the deployment's settings, one database engine
(one connection pool for every store), the store directory and the store runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from m2pos.engine.budgets import Budgets
from m2pos.ledger import create_ledger_engine, migrate
from m2pos.ledger.runs import StoreRuns
from m2pos.ledger.stores import StoreDirectory
from m2pos.secretbox import SecretBox
from m2pos.settings import Settings, SettingsError, merge, read_layers


@dataclass
class Deployment:
    settings: Settings
    engine: Engine
    directory: StoreDirectory
    runs: StoreRuns

    @classmethod
    def open(cls, config: Path | None = None) -> Deployment:
        layers = read_layers(config)
        settings = layers.resolve()
        if not settings.state.database_url.startswith("postgresql"):
            raise SettingsError(
                f"state.database_url: distributed mode keeps every store in one PostgreSQL database "
                f"(postgresql://…); {settings.state.database_url.split(':', 1)[0]} is for one store "
                "with m2pos run"
            )
        engine = create_ledger_engine(settings.state.database_url)
        migrate(engine)
        box = SecretBox(Path(settings.state.secret_key_file))
        # Under the file: each store's default slice (a store's own [orders] may still set its own).
        defaults = {"orders": {"max_orders_per_cycle": settings.worker.orders_per_slice}}
        directory = StoreDirectory(engine, box, merge(defaults, merge(layers.file, layers.environment)))
        return cls(settings, engine, directory, StoreRuns(engine))

    def budgets(self) -> Budgets | None:
        """The shared request budgets (a Redis of [worker] budget_url, or the broker's when it is
        Redis); None: each worker paces by itself (docs/deploy.md says what that costs)."""
        url = self.settings.worker.budget_url or self.settings.worker.broker_url
        return Budgets(url) if url.startswith(("redis://", "rediss://")) else None

    def close(self) -> None:
        self.engine.dispose()
