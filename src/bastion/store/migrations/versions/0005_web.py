"""Web app users, sessions and one-time tokens; the red-teaming network; key expiry.

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
    """Create the web and network tables; give API keys an expiry."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", _TZ, nullable=True))
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
    _network()


def _network() -> None:
    op.create_table(
        "network_applications",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("expertise", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("conflicts", sa.Text, nullable=False),
        sa.Column("motivation", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", _TZ, nullable=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "network_application_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(40), sa.ForeignKey("network_applications.id"),
                  nullable=False, index=True),
        sa.Column("author_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "network_agreements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=False,
                  index=True),
        sa.Column("document", sa.String(40), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("accepted_at", _TZ, nullable=False),
    )
    op.create_table(
        "network_engagements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("routes", sa.JSON, nullable=False),
        sa.Column("categories_in", sa.JSON, nullable=False),
        sa.Column("categories_out", sa.JSON, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("starts_at", _TZ, nullable=False),
        sa.Column("ends_at", _TZ, nullable=False),
        sa.Column("requests_per_minute", sa.Integer, nullable=True),
        sa.Column("tokens_per_minute", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "network_engagement_members",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("engagement_id", sa.String(40), sa.ForeignKey("network_engagements.id"),
                  nullable=False, index=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("web_users.id"), nullable=False,
                  index=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("key_id", sa.String(40), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("joined_at", _TZ, nullable=False),
        sa.Column("removed_at", _TZ, nullable=True),
        sa.Column("removed_by", sa.String(40), nullable=True),
        sa.Column("removal_reason", sa.Text, nullable=True),
    )


def downgrade() -> None:
    """Drop the network and web tables and the key expiry."""
    for table in ("network_engagement_members", "network_engagements", "network_agreements",
                  "network_application_notes", "network_applications"):
        op.drop_table(table)
    op.drop_table("web_tokens")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
