"""The tables: accounts, API keys, and the hash-chained audit log.

Times are stored as timezone-aware UTC. Keys are stored only as sha256 digests; the audit
log stores canonical JSON bodies whose hashes chain each event to the one before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The declarative base of every Bastion table."""


class Account(Base):
    """A person or service that holds API keys.

    ``engagement_until`` marks a red-teamer's active engagement: until then the account is
    audited but never suspended by the abuse monitor.
    """

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    engagement: Mapped[str | None] = mapped_column(String(200), default=None)
    engagement_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)


class ApiKey(Base):
    """An API key, stored as its sha256 digest; ``prefix`` is shown in listings."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Set for engagement keys (migration 0005_web): the key stops working at this time.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AuditEvent(Base):
    """One audit event: ``hash = sha256(prev_hash + body)``; ``body`` is canonical JSON.

    ``mac`` is the HMAC of the hash under the audit key (kept outside the database), when one
    is configured.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    type: Mapped[str] = mapped_column(String(60), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    account_id: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), default=None)


class AbuseScore(Base):
    """An account's strike score as of ``at`` (epoch seconds); it decays from there."""

    __tablename__ = "abuse_scores"

    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)


class AbuseMark(Base):
    """A blocked prompt (``kind='block'``, with its MinHash fingerprint, never its text) or a
    blocked prompt of a severe category (``kind='severe'``, for the long-window count)."""

    __tablename__ = "abuse_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Float)
    fingerprint: Mapped[str | None] = mapped_column(Text, default=None)


class AuditHead(Base):
    """The single row that names the last event of the chain (and serialises writers)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), default=None)
