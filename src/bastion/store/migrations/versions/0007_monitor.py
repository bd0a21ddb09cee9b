"""Monitoring: events, per-minute rollups, incidents and alerts.

Revision ID: 0007_monitor
Revises: 0005_web (chained after merging the web foundation)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_monitor"
down_revision = "0005_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``monitor_events``, ``monitor_rollups``, ``monitor_incidents``, ``monitor_alerts``."""
    op.create_table(
        "monitor_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("account_id", sa.String(40)),
        sa.Column("key_id", sa.String(40)),
        sa.Column("model", sa.String(200)),
        sa.Column("route", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("policy_id", sa.String(100)),
        sa.Column("policy_version", sa.String(40)),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(40)),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Boolean, nullable=False),
        sa.Column("fail_open", sa.Boolean, nullable=False),
        sa.Column("sample", sa.Text),
    )
    op.create_index("ix_monitor_events_account_at", "monitor_events", ["account_id", "at"])
    op.create_table(
        "monitor_rollups",
        sa.Column("dimension", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
        sa.Column("bucket", sa.BigInteger, primary_key=True),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("blocks", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("fail_opens", sa.Integer, nullable=False),
        sa.Column("latency_ms_sum", sa.Float, nullable=False),
        sa.Column("latency_ms_max", sa.Float, nullable=False),
    )
    op.create_index("ix_monitor_rollups_dim_bucket", "monitor_rollups", ["dimension", "bucket"])
    op.create_table(
        "monitor_incidents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False, index=True),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("accounts", sa.JSON, nullable=False),
        sa.Column("key_ids", sa.JSON, nullable=False),
        sa.Column("status_by", sa.String(200)),
        sa.Column("status_reason", sa.Text),
    )
    op.create_table(
        "monitor_alerts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("incident_id", sa.String(40), sa.ForeignKey("monitor_incidents.id"),
                  nullable=False, index=True),
        sa.Column("detector", sa.String(60), nullable=False),
        sa.Column("key", sa.String(300), nullable=False, index=True),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    """Drop the monitoring tables."""
    op.drop_table("monitor_alerts")
    op.drop_table("monitor_incidents")
    op.drop_table("monitor_rollups")
    op.drop_table("monitor_events")
