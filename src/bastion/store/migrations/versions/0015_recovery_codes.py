"""Two-factor recovery codes: one row per code, stored as a digest, marked when used.

Revision ID: 0015_recovery_codes
Revises: 0014_member_readmitted
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_recovery_codes"
down_revision = "0014_member_readmitted"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``web_recovery_codes``, empty: users who turned two-factor on before make a set
    on their account page."""
    op.create_table(
        "web_recovery_codes",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=False,
                  index=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
    )


def downgrade() -> None:
    """Drop ``web_recovery_codes``."""
    op.drop_table("web_recovery_codes")
