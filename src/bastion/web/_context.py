"""What every view can reach: settings, stores, the audit log, shared services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, cast

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from bastion.accounts import AccountStore
from bastion.monitor import AuditLog
from bastion.web._sessions import SessionStore
from bastion.web._settings import WebSettings
from bastion.web._users import UserStore

T = TypeVar("T")


@dataclass
class WebContext:
    """The app's shared state (``request.app.state.web``); see :func:`web_context`.

    Lifetime: one per app, made by :func:`~bastion.web.create_web_app`. Thread-safe: every
    store opens its own database session per call.

    Attributes:
        settings: the app's settings.
        sessions: the store's session factory.
        audit: the hash-chained audit log.
        users: web users.
        logins: server-side sessions.
        accounts: accounts and API keys (``bastion.accounts``).
        login_limiter: moving-window limiter for login attempts (and applications).
        login_rate: login POSTs allowed per client address.
        apply_rate: applications accepted per client address (the public ``/apply`` form).
        costly_rate: costly actions (classifier, LLM, scanner runs) allowed per user.
    """

    settings: WebSettings
    sessions: sessionmaker[Session]
    audit: AuditLog
    users: UserStore
    logins: SessionStore
    accounts: AccountStore
    login_limiter: MovingWindowRateLimiter
    login_rate: RateLimitItemPerMinute
    apply_rate: RateLimitItemPerHour
    costly_rate: RateLimitItemPerMinute
    _services: dict[Callable[..., Any], Any] = field(default_factory=dict)

    def service(self, factory: Callable[[WebContext], T]) -> T:
        """The one instance ``factory(self)`` makes for this app (made on first use).

        Features keep their stores here: ``ctx.service(EngagementStore)``.
        """
        if factory not in self._services:
            self._services[factory] = factory(self)
        return cast("T", self._services[factory])

    @classmethod
    def build(cls, settings: WebSettings, sessions: sessionmaker[Session],
              audit: AuditLog) -> WebContext:
        """Make every store of the app over one session factory."""

        users = UserStore(sessions, audit=audit, max_failures=settings.max_failures,
                          lockout=timedelta(minutes=settings.lockout_minutes))
        return cls(settings, sessions, audit, users,
                   SessionStore(sessions, ttl=timedelta(minutes=settings.session_minutes)),
                   AccountStore(sessions, audit=audit),
                   MovingWindowRateLimiter(storage_from_string(settings.limits_storage)),
                   RateLimitItemPerMinute(settings.login_attempts_per_minute),
                   RateLimitItemPerHour(settings.applications_per_hour),
                   RateLimitItemPerMinute(settings.costly_actions_per_minute))


def web_context(request: Request) -> WebContext:
    """The app's :class:`WebContext`, from a request."""
    return cast("WebContext", request.app.state.web)
