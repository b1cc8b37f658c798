"""store_runs.totals_json: each store's running totals (items by outcome, API requests and errors by
system) for the metrics

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("store_runs") as batch:
        batch.add_column(sa.Column("totals_json", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("store_runs") as batch:
        batch.drop_column("totals_json")
