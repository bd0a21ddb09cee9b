"""Findings record which embedder made their dedupe vectors, and whether it reads the attack.

Revision ID: 0013_finding_vec_model
Revises: 0012_monitor_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_finding_vec_model"
down_revision = "0012_monitor_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``findings.vec_model`` and ``findings.attack_read``, empty: which model made the
    stored vectors is not known, so dedupe leaves them out until ``bastion findings
    refresh-vectors`` remakes them (and fills both)."""
    op.add_column("findings", sa.Column("vec_model", sa.String(64), nullable=True))
    op.add_column("findings", sa.Column("attack_read", sa.Boolean, nullable=True))


def downgrade() -> None:
    """Drop ``findings.vec_model`` and ``findings.attack_read``."""
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("attack_read")
        batch.drop_column("vec_model")
