"""What the findings pages and API share: the app's store, who may see what, form parsing."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.requests import Request

from bastion.errors import ConfigError, InputError
from bastion.findings._model import Finding, Submission
from bastion.findings._notify import WEBHOOK_SECRET_ENV, WEBHOOK_URL_ENV, WebhookNotifier
from bastion.findings._query import EVERYTHING, Scope
from bastion.findings._store import FindingStore
from bastion.network import NetworkStore
from bastion.web import Identity, web_context

TARGET_URL_ENV = "BASTION_FINDINGS_TARGET_URL"
TARGET_KIND_ENV = "BASTION_FINDINGS_TARGET"
T = TypeVar("T")


@dataclass
class FindingsWeb:
    """The web app's findings store and where ``verify`` sends regression probes.

    Attributes:
        store: the findings store (the app's audit log, webhook from the environment).
        target_url: the gateway's or target's ``/v1`` root (``$BASTION_FINDINGS_TARGET_URL``);
            verification is unavailable without it.
        target_kind: ``openai`` (any OpenAI-compatible endpoint) or ``gateway`` (a Bastion
            gateway, key in ``$BASTION_API_KEY``), from ``$BASTION_FINDINGS_TARGET``.
    """

    store: FindingStore
    target_url: str | None = None
    target_kind: str = "openai"

    @classmethod
    def of(cls, ctx: Any) -> FindingsWeb:
        """Build from a :class:`~bastion.web.WebContext` (used through ``ctx.service``)."""
        notifier = None
        if url := os.environ.get(WEBHOOK_URL_ENV):
            secret = os.environ.get(WEBHOOK_SECRET_ENV)
            if not secret:
                raise ConfigError(f"${WEBHOOK_URL_ENV} is set but ${WEBHOOK_SECRET_ENV} is not")
            notifier = WebhookNotifier(url, secret.encode())
        kind = os.environ.get(TARGET_KIND_ENV, "openai")
        if kind not in ("openai", "gateway"):
            raise ConfigError(f"${TARGET_KIND_ENV}={kind!r}: use 'openai' or 'gateway'")
        return cls(FindingStore(ctx.sessions, audit=ctx.audit, notifier=notifier),
                   os.environ.get(TARGET_URL_ENV), kind)


def findings_web(request: Request) -> FindingsWeb:
    """The app's :class:`FindingsWeb`."""
    return web_context(request).service(FindingsWeb.of)


def scope_of(request: Request, me: Identity) -> Scope:
    """What ``me`` may see: staff everything; a red-teamer their own findings and their
    engagements'; a developer their systems'; anyone else nothing."""
    if me.user is None:
        return Scope()
    if me.role in ("admin", "triager"):
        return EVERYTHING
    if me.role == "red-teamer":
        network = web_context(request).service(NetworkStore.of)
        mine = tuple(e.name for e in network.engagements()
                     if any(m.user_id == me.user.id and m.active for m in e.members))
        return Scope(reporter=me.user.username, engagements=mine)
    if me.role == "developer":
        return Scope(targets=findings_web(request).store.owned(me.user.id))
    return Scope()


def check_engagements(request: Request, me: Identity,
                      submissions: Sequence[Submission]) -> None:
    """Refuse findings filed under an engagement the caller is not an active member of.

    Every active member of an engagement sees the findings that name it (and its metrics), so
    a red-teamer naming another engagement would plant text in that engagement's lists. Staff
    may name any engagement.

    Raises:
        InputError: names the engagement and the ones the caller may use.
    """
    scope = scope_of(request, me)
    if scope.everything:
        return
    for submission in submissions:
        if submission.engagement is not None and submission.engagement not in scope.engagements:
            mine = ", ".join(repr(e) for e in scope.engagements) or "none"
            raise InputError(f"you are not an active member of engagement "
                             f"{submission.engagement!r}, so you cannot file findings under "
                             f"it; leave the engagement empty or use one of yours ({mine})")


def visible(request: Request, me: Identity, finding_id: str) -> Finding:
    """The finding, when ``me`` may see it; 404 otherwise (its existence is not revealed)."""
    missing = HTTPException(404, f"there is no finding {finding_id[:40]!r} you can see")
    if not finding_id.isdigit() or len(finding_id) > 12:
        raise missing
    store = findings_web(request).store
    with_scope = scope_of(request, me)
    try:
        item = store.get(int(finding_id))
    except InputError as exc:  # an unknown id reads the same as one out of scope
        raise missing from exc
    if not with_scope.allows(item.reporter, item.engagement, item.target):
        raise missing
    return item


# Characters that could hide or reorder text on a page (controls, bidi overrides, invisible
# and tag characters) are shown as visible escapes; the stored text keeps them.
_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069"
                     r"\ufeff\U000e0000-\U000e007f]")
SHOWN_CHARS = 20_000


def shown(text: str, limit: int = SHOWN_CHARS) -> tuple[str, int]:
    """``text`` as a page shows it (hidden characters escaped, cut at ``limit``) and how
    many characters were left out."""
    cut = text[:limit]
    return _HIDDEN.sub(lambda m: f"\\u{ord(m.group(0)):04x}", cut), max(0, len(text) - limit)


def inert(record: T) -> T:
    """A copy of a frozen record whose text fields show hidden characters as escapes (for
    pages; the stored record is unchanged)."""
    changes = {f.name: shown(value)[0] for f in fields(record)  # type: ignore[arg-type]
               if isinstance(value := getattr(record, f.name), str)}
    return replace(record, **changes)  # type: ignore[type-var]


def username(me: Identity) -> str:
    """The caller's user name (routes are never anonymous)."""
    assert me.user is not None
    return me.user.username
