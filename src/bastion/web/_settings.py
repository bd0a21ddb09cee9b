"""The web app's settings: typed, validated, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bastion.accounts import AbuseSettings


class WebSettings(BaseModel):
    """How the web app runs.

    Attributes:
        database_url: the store (``None``: ``$BASTION_DATABASE_URL`` or ``bastion.db``).
        migrate: upgrade the schema at start-up.
        session_minutes: how long a login lasts; it ends sooner at logout or a password change.
        secure_cookies: ``True`` always marks cookies ``Secure``; ``None`` does so when the
            request came over https (directly or as ``X-Forwarded-Proto`` from a trusted proxy).
        login_attempts_per_minute: login POSTs allowed per client address per minute.
        applications_per_hour: applications the public ``/apply`` form accepts per client
            address per hour (each one lands in the reviewers' queue).
        costly_actions_per_minute: playground runs, co-pilot digests and code scans and finding
            verifications allowed per user per minute, all together (see ``web/_quota.py``).
        max_failures: failed logins in a row before an account is locked.
        lockout_minutes: how long a locked account stays locked.
        limits_storage: ``memory://`` or ``redis://...`` for the login and application limits.
        totp_issuer: the issuer name shown by authenticator apps.
        title: the product name shown in the page header.
        max_body_mib: the largest request body accepted, in MiB (uploads are capped lower by
            their forms: 20 MiB for findings, 10 MiB for the co-pilot); a larger one is a 413.
        policy_tier: the classifier tier the policy playground and test sets run.
        strikes_url: where the gateway keeps strike scores: its ``redis_url`` (``None``: the
            database, the gateway's default without Redis).
        abuse: the gateway's ``abuse`` settings (its half-life and levels), so the dashboard
            reads strike scores and levels as the gateway does.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None
    migrate: bool = True
    session_minutes: int = Field(default=8 * 60, ge=1, le=30 * 24 * 60)
    secure_cookies: bool | None = None
    login_attempts_per_minute: int = Field(default=10, ge=1)
    applications_per_hour: int = Field(default=10, ge=1)
    costly_actions_per_minute: int = Field(default=30, ge=1)
    max_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    limits_storage: str = "memory://"
    totp_issuer: str = "Bastion"
    title: str = "Bastion"
    max_body_mib: int = Field(default=32, ge=1, le=1024)
    policy_tier: str = "default"
    strikes_url: str | None = None
    abuse: AbuseSettings = AbuseSettings()
