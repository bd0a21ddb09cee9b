"""The co-pilot's proposed actions.

Revision ID: 0008_copilot
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_copilot"
down_revision = "0007_monitor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``copilot_proposals``."""
    op.create_table(
        "copilot_proposals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("incident_id", sa.String(200), nullable=False, index=True),
        sa.Column("playbook", sa.String(60), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    """Drop ``copilot_proposals``."""
    op.drop_table("copilot_proposals")
