"""Policy versions, the published head of each policy, and attached test sets.

Revision ID: 0009_policies
Revises: 0005_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_policies"
down_revision = "0008_copilot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``policy_versions``, ``policy_heads`` and ``policy_testsets``."""
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("policy_id", sa.String(120), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("policy_id", "number", name="uq_policy_versions_number"),
    )
    op.create_table(
        "policy_heads",
        sa.Column("policy_id", sa.String(120), primary_key=True),
        sa.Column("version_id", sa.String(40), sa.ForeignKey("policy_versions.id"),
                  nullable=False),
        sa.Column("serial", sa.Integer, nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "policy_testsets",
        sa.Column("policy_id", sa.String(120), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop the policy tables."""
    op.drop_table("policy_testsets")
    op.drop_table("policy_heads")
    op.drop_table("policy_versions")
