"""The co-pilot's table: proposed actions, waiting for a person to confirm or reject them.

Registered on the store's declarative base so Alembic sees it (migration ``0008_copilot``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store import Base, utcnow


class ProposalRow(Base):
    """One proposed action and what became of it.

    ``status`` moves ``proposed`` -> ``running`` -> ``done`` | ``failed``, or ``proposed`` ->
    ``rejected``; only a person's confirmation moves it out of ``proposed``.
    """

    __tablename__ = "copilot_proposals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(200), index=True)
    playbook: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    title: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    rank: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="proposed", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
