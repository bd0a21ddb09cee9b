"""The extension point: a feature is a router, a templates folder and nav entries.

Built-in features and those of other packages register the same way: one line in
:data:`FEATURES` (``"module:attribute"``), loaded when the app is built. See ``docs/web.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from bastion.errors import ConfigError
from bastion.web._permissions import Permission

if TYPE_CHECKING:
    from bastion.web._users import User


@dataclass(frozen=True)
class NavEntry:
    """A link in the header; shown only to users who hold ``permission``.

    Attributes:
        label: the link text.
        path: where it goes.
        permission: what the target page requires.
        order: position (lower first).
    """

    label: str
    path: str
    permission: Permission
    order: int = 100


@dataclass(frozen=True)
class Detour:
    """Where a user must go first, and why (e.g. to accept the current NDA).

    Attributes:
        path: the page that settles it (a GET page is redirected there).
        reason: what is missing, why, and how to settle it (shown to the user).
    """

    path: str
    reason: str


Gate = Callable[[Any, "User", Permission], Detour | None]
"""``gate(ctx, user, permission)``: ``None`` lets a logged-in ``user`` through to a view that
needs ``permission``; a :class:`Detour` sends them elsewhere first."""


@dataclass(frozen=True)
class Feature:
    """One part of the web app.

    Attributes:
        name: a short unique name (also its static folder's URL: ``/static/<name>/``).
        router: its pages and API routes; every route declares one permission
            (:func:`bastion.web.requires`).
        templates: a folder of Jinja2 templates (names should start with ``<name>/`` so
            features do not shadow each other).
        nav: header links.
        static: a folder served at ``/static/<name>/``.
        on_user_disabled: called as ``hook(ctx, user_id, by)`` right after an admin disables
            a user (removes them), so the feature ends what it gave them that lives outside
            the web session (e.g. the network revokes their engagement keys). It must be
            idempotent: a failure answers 500 and the admin disables again.
        gate: called before every view a logged-in user is allowed, with the permission the
            view needs; a :class:`Detour` it returns stops the view (a page redirects to the
            detour, which should say why too; the API and forms answer 403 with its reason).
            The network uses it to keep members whose agreements lapsed away from engagements
            and findings. It runs on every request, so it should answer ``None`` quickly for
            permissions it ignores.
    """

    name: str
    router: APIRouter
    templates: Path | None = None
    nav: tuple[NavEntry, ...] = ()
    static: Path | None = None
    on_user_disabled: Callable[[Any, str, str], None] | None = None
    gate: Gate | None = None


FEATURES: tuple[str, ...] = (
    "bastion.web._core:feature",
    "bastion.web._admin:feature",
    "bastion.network._web:feature",
    "bastion.monitor._web:feature",
    "bastion.copilot._web:feature",
    "bastion.policy.web:feature",
    "bastion.findings._web:feature",
)
"""Every feature of the app, as ``"module:attribute"``; adding a feature adds one line."""


def load_features(refs: tuple[str, ...] = FEATURES) -> list[Feature]:
    """Import each feature named in ``refs``.

    Raises:
        ConfigError: a reference does not name a :class:`Feature`, or two share a name.
    """
    features: list[Feature] = []
    for ref in refs:
        module, _, attr = ref.partition(":")
        feature = getattr(import_module(module), attr, None)
        if not isinstance(feature, Feature):
            raise ConfigError(f"web feature {ref!r} is not a bastion.web.Feature; point it "
                              "at a module-level Feature(...)")
        if any(f.name == feature.name for f in features):
            raise ConfigError(f"two web features are named {feature.name!r}; rename one")
        features.append(feature)
    return features
