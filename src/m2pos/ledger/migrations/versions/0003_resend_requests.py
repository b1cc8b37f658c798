"""resend requests on orders

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import m2pos.ledger.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("resend_requested_at", m2pos.ledger.tables.UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("resend_requested_by", sa.String(length=128)))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("resend_requested_by")
        batch.drop_column("resend_requested_at")
