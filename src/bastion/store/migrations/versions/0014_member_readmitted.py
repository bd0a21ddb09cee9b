"""Engagement members record when staff re-admitted them after a removal.

Revision ID: 0014_member_readmitted
Revises: 0013_finding_vec_model
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_member_readmitted"
down_revision = "0013_finding_vec_model"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``network_engagement_members.readmitted_at`` and ``readmitted_by``, empty: no
    removed member of before was re-admitted (they could not be)."""
    op.add_column("network_engagement_members",
                  sa.Column("readmitted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("network_engagement_members",
                  sa.Column("readmitted_by", sa.String(40), nullable=True))


def downgrade() -> None:
    """Drop ``readmitted_by`` and ``readmitted_at``."""
    with op.batch_alter_table("network_engagement_members") as batch:
        batch.drop_column("readmitted_by")
        batch.drop_column("readmitted_at")
