"""web console: users, sessions, failed logins, settings saved from the console

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import m2pos.ledger.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_UTC = m2pos.ledger.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("last_login_at", _UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("expires_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_console_sessions_username", "console_sessions", ["username"])
    op.create_table(
        "console_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_console_login_failures_at", "console_login_failures", ["at"])
    op.create_table(
        "console_settings",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store", "key"),
    )


def downgrade() -> None:
    op.drop_table("console_settings")
    op.drop_index("ix_console_login_failures_at", table_name="console_login_failures")
    op.drop_table("console_login_failures")
    op.drop_index("ix_console_sessions_username", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_users")
