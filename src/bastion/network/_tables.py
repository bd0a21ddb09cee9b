"""The red-teaming network's tables: applications and review notes, accepted agreements,
engagements and their members.

Registered on :class:`bastion.store.Base`; migration ``0005_web`` creates them with the web
app's tables (the network is the web app's first feature).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store import Base, utcnow


class Application(Base):
    """A request to join the network; ``status`` is ``pending``, ``approved`` or ``rejected``."""

    __tablename__ = "network_applications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    conflicts: Mapped[str] = mapped_column(Text, default="")
    motivation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(40), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("web_users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationNote(Base):
    """A reviewer's note on an application."""

    __tablename__ = "network_application_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("network_applications.id"),
                                                index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("web_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Agreement(Base):
    """A member's acceptance of one version of a document (NDA, rules of engagement)."""

    __tablename__ = "network_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("web_users.id"), index=True)
    document: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Engagement(Base):
    """A scoped, time-boxed red-teaming exercise."""

    __tablename__ = "network_engagements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    models: Mapped[list[str]] = mapped_column(JSON, default=list)
    routes: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories_in: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories_out: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EngagementMember(Base):
    """A member in an engagement, with the gateway account and key issued when they joined.

    A removed member whom staff re-admitted (``readmitted_at``, migration
    ``0014_member_readmitted``) may join again; that adds a new row with a new key.
    """

    __tablename__ = "network_engagement_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    engagement_id: Mapped[str] = mapped_column(ForeignKey("network_engagements.id"),
                                               index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("web_users.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    removed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    removal_reason: Mapped[str | None] = mapped_column(Text, default=None)
    readmitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)
    readmitted_by: Mapped[str | None] = mapped_column(String(40), default=None)


