"""Web app users, sessions and one-time tokens.

Revision ID: 0005_web
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_web"
down_revision = "0004"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``web_users``, ``web_sessions`` and ``web_tokens``."""
    op.create_table(
        "web_users",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", _TZ, nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=True,
                  unique=True),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=False,
                  index=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.Column("flashes", sa.JSON, nullable=False),
    )
    op.create_table(
        "web_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=False,
                  index=True),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
    )


def downgrade() -> None:
    """Drop the web tables."""
    op.drop_table("web_tokens")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
