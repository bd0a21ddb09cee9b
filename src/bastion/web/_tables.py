"""The web app's tables: users, their sessions, one-time tokens and two-factor recovery codes.

Registered on :class:`bastion.store.Base` like every table; migration ``0005_web`` (recovery
codes: ``0015_recovery_codes``). Passwords are argon2 hashes; session and one-time tokens are
stored only as sha256 digests (they carry 256 random bits, so a fast hash is enough), and so
are recovery codes (80 random bits each, salted with the user's id: see ``_recovery.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store import Base, utcnow


class WebUser(Base):
    """A person who logs in to the web app.

    ``password_hash`` is ``None`` until the user sets one through a one-time token.
    ``account_id`` links the user to an :class:`~bastion.store.Account` whose API keys
    authenticate as this user on ``/api``. ``totp_last_step`` is the time step of the last
    TOTP code accepted (migration ``0011_totp_last_step``): a code of that step or an earlier
    one is refused, so a code cannot be used twice. ``readmitted_at`` is when an admin last
    re-admitted the user after a removal (migration ``0016_user_readmitted``): what they
    agreed to before it (the network's NDA) no longer counts.
    """

    __tablename__ = "web_users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), default=None,
                                                   unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    readmitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)


class WebSession(Base):
    """A login: the sha256 ``digest`` of the cookie's random token, never the token."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("web_users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    flashes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class WebToken(Base):
    """A one-time token (e.g. ``set-password``), stored as its sha256 ``digest``."""

    __tablename__ = "web_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("web_users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class WebRecoveryCode(Base):
    """A two-factor recovery code, stored as the sha256 ``digest`` of the user's id and the
    code (never the code); ``used_at`` is set when it logs in once, and then it never will
    again. Making a new set deletes the old one."""

    __tablename__ = "web_recovery_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("web_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
