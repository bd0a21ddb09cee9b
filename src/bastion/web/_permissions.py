"""Permissions (``scope:resource:action``), web roles, and the one table that joins them.

Every view declares exactly one :class:`Permission` (see :func:`bastion.web.requires`); the
authorisation matrix test reads :data:`GRANTS` to decide what each role should get. Deny by
default: a permission missing from :data:`GRANTS` is held by nobody, so its routes answer 403
to everyone (and a test flags the omission).

Adding a permission is two lines: one member of :class:`Permission`, one row of
:data:`GRANTS` (one line each, so parallel branches merge cleanly).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args

WebRole = Literal["admin", "triager", "red-teamer", "developer", "viewer"]
"""What a web user is: ``admin`` runs Bastion, ``triager`` reviews applications and findings,
``red-teamer`` attacks inside engagements, ``developer`` sees findings of their systems,
``viewer`` reads dashboards."""

WEB_ROLES: tuple[WebRole, ...] = get_args(WebRole)


class Permission(StrEnum):
    """What a view needs. ``PUBLIC`` is held by everyone, anonymous visitors included."""

    PUBLIC = "public:page:view"
    HOME_VIEW = "web:home:view"
    ACCOUNT_VIEW = "web:account:view"
    ACCOUNT_UPDATE = "web:account:update"
    USERS_VIEW = "admin:users:view"
    USERS_MANAGE = "admin:users:manage"
    APPLICATIONS_VIEW = "network:application:view"
    APPLICATIONS_REVIEW = "network:application:review"
    AGREEMENTS_ACCEPT = "network:agreement:accept"
    ENGAGEMENTS_VIEW = "network:engagement:view"
    ENGAGEMENTS_MANAGE = "network:engagement:manage"
    ENGAGEMENTS_JOIN = "network:engagement:join"
    MONITOR_VIEW = "monitor:dashboard:view"
    INCIDENTS_VIEW = "monitor:incident:view"
    INCIDENTS_RESPOND = "monitor:incident:respond"
    ABUSE_ACCOUNTS_VIEW = "monitor:account:view"
    ABUSE_ACCOUNTS_REINSTATE = "monitor:account:reinstate"
    COPILOT_VIEW = "copilot:incident:view"
    COPILOT_CONFIRM = "copilot:action:confirm"
    COPILOT_INTEL = "copilot:intel:digest"
    COPILOT_CODE = "copilot:code:scan"
    POLICIES_VIEW = "policies:policy:view"
    POLICIES_TRY = "policies:playground:run"
    POLICIES_EDIT = "policies:policy:edit"
    POLICIES_PUBLISH = "policies:policy:publish"
    FINDINGS_VIEW = "findings:finding:view"
    FINDINGS_SUBMIT = "findings:finding:submit"
    FINDINGS_COMMENT = "findings:comment:create"
    FINDINGS_TRIAGE = "findings:finding:triage"
    FINDINGS_FIX = "findings:finding:fix"
    FINDINGS_VERIFY = "findings:finding:verify"
    FINDINGS_METRICS = "findings:metrics:view"
    FINDINGS_OWNERS = "findings:owner:manage"


ANONYMOUS: frozenset[WebRole | None] = frozenset({None, *WEB_ROLES})
"""Everyone, logged in or not (``None`` stands for an anonymous visitor)."""
USERS: frozenset[WebRole | None] = frozenset(WEB_ROLES)
"""Every logged-in user, whatever the role."""
STAFF: frozenset[WebRole | None] = frozenset({"admin", "triager"})
"""Admins and triagers."""
ADMINS: frozenset[WebRole | None] = frozenset({"admin"})
"""Admins only."""
RED_TEAM: frozenset[WebRole | None] = frozenset({"admin", "red-teamer"})
"""Red-teamers (and admins, who can do anything)."""
READERS: frozenset[WebRole | None] = frozenset({"admin", "triager", "developer", "viewer"})
"""Staff, developers and viewers: not red-teamers (network members attack the policies, so
they do not read their rules or probe them in the playground)."""

GRANTS: dict[Permission, frozenset[WebRole | None]] = {
    Permission.PUBLIC: ANONYMOUS,
    Permission.HOME_VIEW: USERS,
    Permission.ACCOUNT_VIEW: USERS,
    Permission.ACCOUNT_UPDATE: USERS,
    Permission.USERS_VIEW: STAFF,
    Permission.USERS_MANAGE: ADMINS,
    Permission.APPLICATIONS_VIEW: STAFF,
    Permission.APPLICATIONS_REVIEW: STAFF,
    Permission.AGREEMENTS_ACCEPT: RED_TEAM,
    Permission.ENGAGEMENTS_VIEW: STAFF | RED_TEAM,
    Permission.ENGAGEMENTS_MANAGE: STAFF,
    Permission.ENGAGEMENTS_JOIN: RED_TEAM,
    Permission.MONITOR_VIEW: STAFF | {"viewer"},
    Permission.INCIDENTS_VIEW: STAFF | {"viewer"},
    Permission.INCIDENTS_RESPOND: STAFF,
    Permission.ABUSE_ACCOUNTS_VIEW: STAFF,
    Permission.ABUSE_ACCOUNTS_REINSTATE: STAFF,
    Permission.COPILOT_VIEW: STAFF,
    Permission.COPILOT_CONFIRM: STAFF,
    Permission.COPILOT_INTEL: STAFF | RED_TEAM,
    Permission.COPILOT_CODE: STAFF | frozenset({"developer"}),
    Permission.POLICIES_VIEW: READERS,
    Permission.POLICIES_TRY: READERS,
    Permission.POLICIES_EDIT: STAFF,
    Permission.POLICIES_PUBLISH: STAFF,
    Permission.FINDINGS_VIEW: STAFF | RED_TEAM | {"developer"},
    Permission.FINDINGS_SUBMIT: STAFF | RED_TEAM,
    Permission.FINDINGS_COMMENT: STAFF | RED_TEAM | {"developer"},
    Permission.FINDINGS_TRIAGE: STAFF,
    Permission.FINDINGS_FIX: STAFF | {"developer"},
    Permission.FINDINGS_VERIFY: STAFF,
    Permission.FINDINGS_METRICS: USERS,
    Permission.FINDINGS_OWNERS: ADMINS,
}
"""Permission → the roles that hold it (``None``: anonymous). The single source of truth."""


def permissions_of(role: WebRole | None) -> frozenset[Permission]:
    """Every permission ``role`` (``None``: anonymous) holds."""
    return frozenset(p for p, roles in GRANTS.items() if role in roles)


def allowed(role: WebRole | None, permission: Permission) -> bool:
    """True when ``role`` (``None``: anonymous) holds ``permission``."""
    return role in GRANTS.get(permission, frozenset())
