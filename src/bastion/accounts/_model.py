"""What account calls return: frozen snapshots, never live database rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, overload

from bastion.accounts._keys import ROLE_ROUTES, Role
from bastion.store import Account, ApiKey


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """A datetime with its time zone (SQLite hands back naive UTC values)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AccountInfo:
    """An account.

    Attributes:
        status: ``active`` or ``suspended``.
        engagement_until: end of a red-teamer's active engagement, or ``None``.
        requests_per_minute: the limit shared by all the account's keys (``None``: default).
        tokens_per_minute: the token budget shared by all the account's keys.
    """

    id: str
    name: str
    role: Role
    status: str
    status_reason: str | None
    engagement: str | None
    engagement_until: datetime | None
    created_at: datetime
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    @property
    def suspended(self) -> bool:
        """True when the account may not call anything."""
        return self.status == "suspended"

    def in_engagement(self, now: datetime) -> bool:
        """True for a red-teamer whose engagement is active at ``now``."""
        return (self.role == "red-teamer" and self.engagement_until is not None
                and now < self.engagement_until)

    @classmethod
    def of(cls, row: Account) -> AccountInfo:
        """A snapshot of a row."""
        return cls(row.id, row.name, row.role, row.status,  # type: ignore[arg-type]
                   row.status_reason, row.engagement, aware(row.engagement_until),
                   aware(row.created_at), row.requests_per_minute, row.tokens_per_minute)


def model_matches(model: str, pattern: str) -> bool:
    """Whether a model name matches a key's pattern, read as a path: ``*``, ``?`` and
    ``[...]`` (as in fnmatch, case sensitive) match within one ``/``-separated part of the
    name, and a part ``**`` matches any number of parts, none included.

    ``openai/*`` is every model under ``openai/`` one level down, ``*-mini`` only names
    without a provider prefix, ``**/*-mini`` those with any. fnmatch's ``*`` crossed ``/``,
    so ``gpt-*`` let a key name ``gpt-x/anthropic/claude-3-opus``, which an upstream that
    routes on a provider prefix sends to another provider (issue 8).
    """
    return _parts_match(model.split("/"), pattern.split("/"))


def _parts_match(names: list[str], patterns: list[str]) -> bool:
    if not patterns:
        return not names
    if patterns[0] == "**":
        return any(_parts_match(names[skip:], patterns[1:]) for skip in range(len(names) + 1))
    return bool(names) and fnmatchcase(names[0], patterns[0]) \
        and _parts_match(names[1:], patterns[1:])


@dataclass(frozen=True)
class Scopes:
    """What a key may reach: route names and model name patterns (``None`` = no narrowing).

    ``categories`` are the policy categories an engagement key is there to probe: inside an
    active engagement, violations of these categories are audited but never suspend or
    throttle; a violation outside them counts as for anyone (``None``: every category).
    """

    routes: frozenset[str] | None = None
    models: tuple[str, ...] | None = None
    categories: frozenset[str] | None = None

    def allows_route(self, role: Role, route: str) -> bool:
        """True when both the role and the key allow ``route``."""
        return route in ROLE_ROUTES[role] and (self.routes is None or route in self.routes)

    def allows_model(self, model: str | None) -> bool:
        """True when the model matches one of the key's patterns (or the key has none); see
        :func:`model_matches`."""
        if self.models is None or model is None:
            return True
        return any(model_matches(model, pattern) for pattern in self.models)

    def covers(self, categories: Iterable[str]) -> bool:
        """True when every one of ``categories`` is inside the key's categories."""
        return self.categories is None or set(categories) <= self.categories

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        data: dict[str, Any] = {
            "routes": None if self.routes is None else sorted(self.routes),
            "models": None if self.models is None else list(self.models)}
        if self.categories is not None:
            data["categories"] = sorted(self.categories)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Scopes:
        """Read the stored form."""
        data = data or {}
        routes, models, categories = (data.get("routes"), data.get("models"),
                                      data.get("categories"))
        return cls(None if routes is None else frozenset(routes),
                   None if models is None else tuple(models),
                   None if categories is None else frozenset(categories))


@dataclass(frozen=True)
class KeyInfo:
    """An API key's record (its digest stays in the database)."""

    id: str
    account_id: str
    prefix: str
    scopes: Scopes
    requests_per_minute: int | None
    tokens_per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        """True once the key's expiry (if it has one) has passed."""
        return self.expires_at is not None and now >= self.expires_at

    @classmethod
    def of(cls, row: ApiKey) -> KeyInfo:
        """A snapshot of a row."""
        return cls(row.id, row.account_id, row.prefix, Scopes.from_json(row.scopes),
                   row.requests_per_minute, row.tokens_per_minute, aware(row.created_at),
                   aware(row.revoked_at), aware(row.expires_at))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account and the key presented."""

    account: AccountInfo
    key: KeyInfo
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
