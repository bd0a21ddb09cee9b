"""The web app: login, roles and permissions, server-rendered pages (Jinja2 + htmx), JSON API.

Build one with :func:`create_web_app`; add pages as a :class:`Feature` (a router, templates
and nav entries) listed in :data:`FEATURES`. Every route declares exactly one
:class:`Permission` through :func:`requires`; roles get permissions from :data:`GRANTS` only.
See ``docs/web.md``.
"""

from bastion.web._app import check_routes, create_web_app, views
from bastion.web._charts import PALETTE, bar_chart, doughnut_chart
from bastion.web._context import WebContext, web_context
from bastion.web._features import FEATURES, Detour, Feature, Gate, NavEntry, load_features
from bastion.web._guard import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Guard,
    Identity,
    identify,
    requires,
    route_permission,
)
from bastion.web._headers import CSP_DIRECTIVES, SECURITY_HEADERS, content_security_policy
from bastion.web._permissions import (
    ADMINS,
    ANONYMOUS,
    GRANTS,
    READERS,
    RED_TEAM,
    STAFF,
    USERS,
    WEB_ROLES,
    Permission,
    WebRole,
    allowed,
    permissions_of,
)
from bastion.web._quota import spend_costly
from bastion.web._render import flash, is_htmx, render
from bastion.web._sessions import SessionStore
from bastion.web._settings import WebSettings
from bastion.web._tables import WebRecoveryCode, WebSession, WebToken, WebUser
from bastion.web._totp import TOTP_ROLES
from bastion.web._users import Login, User, UserStore

__all__ = [
    "ADMINS",
    "ANONYMOUS",
    "CSP_DIRECTIVES",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "FEATURES",
    "GRANTS",
    "PALETTE",
    "READERS",
    "RED_TEAM",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "STAFF",
    "TOTP_ROLES",
    "USERS",
    "WEB_ROLES",
    "Detour",
    "Feature",
    "Gate",
    "Guard",
    "Identity",
    "Login",
    "NavEntry",
    "Permission",
    "SessionStore",
    "User",
    "UserStore",
    "WebContext",
    "WebRecoveryCode",
    "WebRole",
    "WebSession",
    "WebSettings",
    "WebToken",
    "WebUser",
    "allowed",
    "bar_chart",
    "check_routes",
    "content_security_policy",
    "create_web_app",
    "doughnut_chart",
    "flash",
    "identify",
    "is_htmx",
    "load_features",
    "permissions_of",
    "render",
    "requires",
    "route_permission",
    "spend_costly",
    "views",
    "web_context",
]
