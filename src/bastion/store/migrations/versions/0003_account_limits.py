"""Accounts carry limits shared by all their keys.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the per-account request and token limits (empty: the gateway's defaults)."""
    op.add_column("accounts", sa.Column("requests_per_minute", sa.Integer, nullable=True))
    op.add_column("accounts", sa.Column("tokens_per_minute", sa.Integer, nullable=True))


def downgrade() -> None:
    """Drop the per-account limits."""
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("tokens_per_minute")
        batch.drop_column("requests_per_minute")
