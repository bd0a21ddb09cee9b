"""The findings tables, on the store's declarative base (migrations ``0010_findings`` and
``0013_finding_vec_model``).

A finding keeps its transcript and attachments exactly as submitted (hostile text included:
pages escape it when they render). The columns the list and the priority queue sort on are
indexed: the list pages by the primary key, the queue reads ``(is_open, severity_rank DESC,
due_at, id)`` in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store import Base, utcnow


class FindingRow(Base):
    """One reported vulnerability (see :class:`bastion.findings.Finding` for the fields)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(200), index=True)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    engagement: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    owasp: Mapped[str | None] = mapped_column(String(16), default=None)
    atlas: Mapped[str | None] = mapped_column(String(32), default=None)
    atlas_name: Mapped[str | None] = mapped_column(String(300), default=None)
    policy_category: Mapped[str | None] = mapped_column(String(100), default=None)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    steps: Mapped[str] = mapped_column(Text, default="")
    repro_rate: Mapped[float | None] = mapped_column(Float, default=None)
    impact: Mapped[str] = mapped_column(Text, default="")
    sev_impact: Mapped[int] = mapped_column(Integer)
    sev_repro: Mapped[int] = mapped_column(Integer)
    sev_breadth: Mapped[int] = mapped_column(Integer)
    sev_effort: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(10))
    severity_rank: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True, default="new")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter: Mapped[str] = mapped_column(String(200), index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), default=None)
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    transcript_hash: Mapped[str] = mapped_column(String(64), index=True)
    prompt_vec: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    output_vec: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    #: Which embedder made the two vectors (:func:`bastion.classify.embedder_id`); NULL for
    #: vectors stored before it was recorded. Vectors of two models are never compared.
    vec_model: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Whether that embedder reads the attack's language (its attack cosine counts).
    attack_read: Mapped[bool | None] = mapped_column(Boolean, default=None)
    source: Mapped[str] = mapped_column(String(40), default="manual")
    source_ref: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    triaged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    fixed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    reopened: Mapped[int] = mapped_column(Integer, default=0)



# The list pages by id (the primary key); the queue reads this index in order.
Index("ix_findings_queue", FindingRow.is_open, FindingRow.severity_rank.desc(),
      FindingRow.due_at, FindingRow.id)


class TransitionRow(Base):
    """One change of a finding's state: who, when, why."""

    __tablename__ = "finding_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CommentRow(Base):
    """A comment on a finding, with the members it @mentions."""

    __tablename__ = "finding_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AttachmentRow(Base):
    """A file attached to a finding, stored byte for byte with its sha256."""

    __tablename__ = "finding_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OwnerRow(Base):
    """A system (a finding ``target``) a developer owns: they see and fix its findings."""

    __tablename__ = "finding_owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ux_finding_owners", "user_id", "target", unique=True),)
