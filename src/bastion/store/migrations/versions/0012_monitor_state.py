"""Monitoring: what the detectors learned, kept across restarts.

Revision ID: 0012_monitor_state
Revises: 0011_totp_last_step
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_monitor_state"
down_revision = "0011_totp_last_step"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``monitor_detector_state``: one row per detector and key."""
    op.create_table(
        "monitor_detector_state",
        sa.Column("detector", sa.String(60), primary_key=True),
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("settings", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_monitor_detector_state_detector_at", "monitor_detector_state",
                    ["detector", "at"])


def downgrade() -> None:
    """Drop ``monitor_detector_state``."""
    op.drop_index("ix_monitor_detector_state_detector_at", "monitor_detector_state")
    op.drop_table("monitor_detector_state")
