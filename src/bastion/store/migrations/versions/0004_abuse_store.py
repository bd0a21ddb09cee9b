"""Strike scores and blocked-prompt marks kept in the database (when there is no Redis).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``abuse_scores`` and ``abuse_marks``."""
    op.create_table(
        "abuse_scores",
        sa.Column("account_id", sa.String(40), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "abuse_marks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=True),
    )


def downgrade() -> None:
    """Drop the abuse tables."""
    op.drop_table("abuse_marks")
    op.drop_table("abuse_scores")
