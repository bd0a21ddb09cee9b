"""Web users remember the last TOTP step accepted, so a code cannot be used twice.

Revision ID: 0011_totp_last_step
Revises: 0010_findings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_totp_last_step"
down_revision = "0010_findings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``web_users.totp_last_step`` (empty: no code accepted since this migration)."""
    op.add_column("web_users", sa.Column("totp_last_step", sa.Integer, nullable=True))


def downgrade() -> None:
    """Drop ``web_users.totp_last_step``."""
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("totp_last_step")
