"""stores: the store directory, each store's run state (queue flag and lease), and its change log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import m2pos.ledger.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UTC = m2pos.ledger.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store"),
    )
    op.create_table(
        "store_runs",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("next_due_at", _UTC(timezone=True), nullable=False),
        sa.Column("queued_at", _UTC(timezone=True), nullable=True),
        sa.Column("lease_holder", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_started_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_finished_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("cycles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store"),
    )
    op.create_index("ix_store_runs_next_due_at", "store_runs", ["next_due_at"])
    op.create_table(
        "store_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_store_changes_store", "store_changes", ["store"])


def downgrade() -> None:
    op.drop_index("ix_store_changes_store", table_name="store_changes")
    op.drop_table("store_changes")
    op.drop_index("ix_store_runs_next_due_at", table_name="store_runs")
    op.drop_table("store_runs")
    op.drop_table("stores")
