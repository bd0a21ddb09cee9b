"""Rendering pages: one Jinja2 environment (autoescape on), the base layout's context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bastion.web._context import web_context
from bastion.web._features import Feature, NavEntry
from bastion.web._guard import PRE_COOKIE, Identity, identify
from bastion.web._permissions import allowed

CORE_TEMPLATES = Path(__file__).parent / "templates"


def make_environment(features: Sequence[Feature]) -> Environment:
    """The templates of the core and of every feature, HTML auto-escaped."""
    folders = [CORE_TEMPLATES, *(f.templates for f in features if f.templates is not None)]
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(p)) for p in folders]),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["static"] = lambda path: f"/static/{path}"
    return env


def is_htmx(request: Request) -> bool:
    """True for a request htmx made (answer it with a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200, fragment: bool = False) -> HTMLResponse:
    """Render ``template`` (a page extending ``base.html``, or with ``fragment=True`` a piece
    of one for htmx to swap in) for the request's visitor.

    The context also gets ``me`` (the :class:`~bastion.web.Identity`), ``csrf_token``,
    ``nav`` (the links the visitor may follow), ``flashes`` (pages only: a fragment leaves
    them queued for the next page) and ``settings``.
    """
    ctx = web_context(request)
    identity = identify(request)
    flashes = (ctx.logins.pop_flashes(identity.session_id)
               if identity.session_id is not None and not fragment else [])
    env: Environment = request.app.state.templates
    page = env.get_template(template).render({
        "request": request, "me": identity, "csrf_token": identity.csrf or "",
        "nav": visible_nav(request.app.state.nav, identity), "flashes": flashes,
        "settings": ctx.settings, **(context or {}),
    })
    response = HTMLResponse(page, status_code=status_code)
    pre = getattr(request.state, "new_pre_cookie", None)
    if pre is not None:
        set_cookie(request, response, PRE_COOKIE, pre, max_age=24 * 3600)
    return response


def visible_nav(entries: Sequence[NavEntry], identity: Identity) -> list[NavEntry]:
    """The entries ``identity`` may follow, in order."""
    return sorted((e for e in entries if allowed(identity.role, e.permission)),
                  key=lambda e: (e.order, e.label))


def flash(request: Request, message: str, level: str = "info") -> None:
    """Show ``message`` on the visitor's next page (logged-in visitors only)."""
    identity = identify(request)
    if identity.session_id is not None:
        web_context(request).logins.flash(identity.session_id, level, message)


def set_cookie(request: Request, response: Any, name: str, value: str, *,
               max_age: int | None) -> None:
    """Set a cookie the way every Bastion cookie is set: HttpOnly, SameSite=Strict, and
    Secure over https (or always, if the settings say so)."""
    secure = web_context(request).settings.secure_cookies
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="strict",
                        secure=request.url.scheme == "https" if secure is None else secure)
