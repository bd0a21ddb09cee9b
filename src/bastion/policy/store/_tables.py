"""The policy store's tables, on the same declarative base as every Bastion table.

``policy_versions`` holds every saved text; ``policy_heads`` names the version each policy
publishes (one row per policy, so the gateway's reload check reads a handful of rows);
``policy_testsets`` holds the labelled rows attached to a policy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store import Base, utcnow


class PolicyVersionRow(Base):
    """One saved version of a policy: its Markdown text, who saved it and why.

    ``number`` counts the versions of one policy from 1; ``state`` is ``draft`` until the
    version is first published, then ``published`` (it stays so after a newer one replaces
    it: the head says which version is live).
    """

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "number", name="uq_policy_versions_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(120), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PolicyHeadRow(Base):
    """The published version of one policy; ``serial`` grows with every publish."""

    __tablename__ = "policy_heads"

    policy_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("policy_versions.id"))
    serial: Mapped[int] = mapped_column(Integer, default=1)
    published_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PolicyTestsetRow(Base):
    """Labelled rows attached to a policy, as JSONL (``text``, ``label``, ``category``)."""

    __tablename__ = "policy_testsets"

    policy_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
