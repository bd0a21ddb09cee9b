"""Web users record when an admin last re-admitted them after a removal.

Revision ID: 0016_user_readmitted
Revises: 0015_recovery_codes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_user_readmitted"
down_revision = "0015_recovery_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``web_users.readmitted_at``, empty: the re-admissions of before this migration are
    in the audit log only (``user.readmitted``), so those members are not asked again."""
    op.add_column("web_users",
                  sa.Column("readmitted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop ``web_users.readmitted_at``."""
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("readmitted_at")
