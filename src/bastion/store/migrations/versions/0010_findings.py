"""Findings: reports, their transitions, comments, attachments and system owners.

Revision ID: 0010_findings
Revises: 0005_web (chained after merging branch web)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_findings"
down_revision = "0009_policies"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``findings`` and its ``finding_transitions``, ``_comments``, ``_attachments``."""
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("target", sa.String(200), nullable=False, index=True),
        sa.Column("model", sa.String(200)),
        sa.Column("engagement", sa.String(200), index=True),
        sa.Column("owasp", sa.String(16)),
        sa.Column("atlas", sa.String(32)),
        sa.Column("atlas_name", sa.String(300)),
        sa.Column("policy_category", sa.String(100)),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("repro_rate", sa.Float),
        sa.Column("impact", sa.Text, nullable=False),
        sa.Column("sev_impact", sa.Integer, nullable=False),
        sa.Column("sev_repro", sa.Integer, nullable=False),
        sa.Column("sev_breadth", sa.Integer, nullable=False),
        sa.Column("sev_effort", sa.Integer, nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("reporter", sa.String(200), nullable=False, index=True),
        sa.Column("duplicate_of", sa.Integer, sa.ForeignKey("findings.id")),
        sa.Column("probe", sa.JSON),
        sa.Column("transcript_hash", sa.String(64), nullable=False, index=True),
        sa.Column("prompt_vec", sa.LargeBinary),
        sa.Column("output_vec", sa.LargeBinary),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_ref", sa.String(300)),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("due_at", _TZ),
        sa.Column("triaged_at", _TZ),
        sa.Column("fixed_at", _TZ),
        sa.Column("reopened", sa.Integer, nullable=False),
    )
    op.create_index("ix_findings_queue", "findings",
                    ["is_open", sa.text("severity_rank DESC"), "due_at", "id"])
    op.create_table(
        "finding_transitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id"), nullable=False,
                  index=True),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_table(
        "finding_comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id"), nullable=False,
                  index=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("mentions", sa.JSON, nullable=False),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_table(
        "finding_attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id"), nullable=False,
                  index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_table(
        "finding_owners",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(40), nullable=False, index=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_index("ux_finding_owners", "finding_owners", ["user_id", "target"], unique=True)


def downgrade() -> None:
    """Drop the findings tables."""
    for table in ("finding_owners", "finding_attachments", "finding_comments",
                  "finding_transitions"):
        op.drop_table(table)
    op.drop_index("ix_findings_queue", "findings")
    op.drop_table("findings")
