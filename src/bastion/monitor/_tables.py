"""The monitoring tables: events, their per-minute rollups, incidents and their alerts, and
what the detectors learned.

They live on the store's declarative :class:`~bastion.store.Base` (so Alembic sees them) but in
this package, beside the code that writes them. Times are epoch seconds (floats), as in the
abuse tables: cheap to bucket with integer arithmetic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store import Base

ROLLUP_DIMENSIONS = ("all", "account", "key", "model", "route", "category", "decision")
"""What rollups are kept per: ``all`` has the single value ``*``."""


class MonitorEventRow(Base):
    """One :class:`~bastion.monitor.MonitorEvent`."""

    __tablename__ = "monitor_events"
    __table_args__ = (Index("ix_monitor_events_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(40), default=None)
    key_id: Mapped[str | None] = mapped_column(String(40), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    route: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10))
    policy_id: Mapped[str | None] = mapped_column(String(100), default=None)
    policy_version: Mapped[str | None] = mapped_column(String(40), default=None)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    decision: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(40), default=None)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[bool] = mapped_column(Boolean, default=False)
    fail_open: Mapped[bool] = mapped_column(Boolean, default=False)
    sample: Mapped[str | None] = mapped_column(Text, default=None)


class MonitorRollup(Base):
    """Counts for one (dimension, value) in one minute: kept up to date as events arrive."""

    __tablename__ = "monitor_rollups"
    __table_args__ = (Index("ix_monitor_rollups_dim_bucket", "dimension", "bucket"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    blocks: Mapped[int] = mapped_column(Integer, default=0)
    flags: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    fail_opens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms_sum: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms_max: Mapped[float] = mapped_column(Float, default=0.0)


class IncidentRow(Base):
    """An incident: deduplicated, grouped alerts and what people did about them."""

    __tablename__ = "monitor_incidents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float] = mapped_column(Float)
    accounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status_by: Mapped[str | None] = mapped_column(String(200), default=None)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)


class AlertRow(Base):
    """One alert of an incident; ``body`` is the alert as JSON (evidence included)."""

    __tablename__ = "monitor_alerts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("monitor_incidents.id"), index=True)
    detector: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(300), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    at: Mapped[float] = mapped_column(Float)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class DetectorStateRow(Base):
    """What one detector learned about one key (an account, a route...), to survive a restart.

    ``settings`` is a digest of the detector's settings: state learned under other settings is
    not loaded. ``at`` is the stream time of the key's newest event (stale keys are evicted).
    """

    __tablename__ = "monitor_detector_state"
    __table_args__ = (Index("ix_monitor_detector_state_detector_at", "detector", "at"),)

    detector: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    settings: Mapped[str] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
