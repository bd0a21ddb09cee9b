"""The network's pages: apply, review queue, agreements, engagements (the ``network`` feature)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.accounts import PROXY_ROUTES
from bastion.errors import InputError
from bastion.network._documents import DOCUMENTS, document
from bastion.network._model import EXPERTISE
from bastion.network._store import NetworkStore
from bastion.web import (
    Detour,
    Feature,
    Identity,
    NavEntry,
    Permission,
    User,
    allowed,
    flash,
    is_htmx,
    render,
    requires,
    web_context,
)
from bastion.web._admin import set_password_link

router = APIRouter()
P = Permission
Text = Annotated[str, Form(max_length=5000)]
Short = Annotated[str, Form(max_length=500)]


def network(request: Request) -> NetworkStore:
    """The app's network store."""
    return web_context(request).service(NetworkStore.of)


def _user_id(me: Identity) -> str:
    assert me.user is not None
    return me.user.id


def _lines(text: str, sep: str | None = None) -> list[str]:
    """Non-empty, stripped parts of ``text``, split at ``sep`` (default: lines)."""
    parts = text.split(sep) if sep is not None else text.splitlines()
    return [part.strip() for part in parts if part.strip()]


# applying ---------------------------------------------------------------------------------

@router.get("/apply", dependencies=[requires(P.PUBLIC)])
def apply_page(request: Request) -> HTMLResponse:
    """The public application form."""
    return render(request, "network/apply.html", {"expertise": EXPERTISE, "form": {}})


@router.post("/apply", dependencies=[requires(P.PUBLIC)])
def apply(request: Request, username: Short, full_name: Short, email: Short,
          languages: Short = "", links: Text = "", conflicts: Text = "", motivation: Text = "",
          expertise: Annotated[list[str] | None, Form(max_length=20)] = None) -> HTMLResponse:
    """Record an application; on a mistake, show the form again with what to fix."""
    form = {"username": username, "full_name": full_name, "email": email,
            "languages": languages, "links": links, "conflicts": conflicts,
            "motivation": motivation, "expertise": expertise or []}
    ctx = web_context(request)
    client = request.client.host if request.client else "unknown"
    if not ctx.login_limiter.test(ctx.apply_rate, "web-apply", client):
        return render(request, "network/apply.html", {"expertise": EXPERTISE, "form": form,
                      "error": f"this address has sent {ctx.settings.applications_per_hour} "
                               "applications in the last hour, the most accepted; try again "
                               "in an hour (a mistake in the form does not count)"},
                      status_code=429)
    try:
        network(request).apply(
            username=username, full_name=full_name, email=email, expertise=expertise or [],
            languages=_lines(languages, ","), links=_lines(links), conflicts=conflicts,
            motivation=motivation)
    except InputError as exc:
        return render(request, "network/apply.html",
                      {"expertise": EXPERTISE, "form": form, "error": str(exc)},
                      status_code=400)
    ctx.login_limiter.hit(ctx.apply_rate, "web-apply", client)
    return render(request, "network/applied.html", {"username": username})


# review -----------------------------------------------------------------------------------

PAGE_SIZE = 50


@router.get("/network/applications", dependencies=[requires(P.APPLICATIONS_VIEW)])
def queue(request: Request, status: str | None = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """The review queue: pending applications first, 50 a page."""
    store = network(request)
    total = store.count_applications(status)
    return render(request, "network/queue.html", {
        "applications": store.applications(status, limit=PAGE_SIZE,
                                           offset=(page - 1) * PAGE_SIZE),
        "status": status, "page": page, "total": total,
        "pages": max(1, -(-total // PAGE_SIZE))})


def _application_page(request: Request, me: Identity, application_id: str,
                      status_code: int = 200, **extra: Any) -> HTMLResponse:
    return render(request, "network/application.html", {
        "app": network(request).application(application_id),
        "can_review": allowed(me.role, P.APPLICATIONS_REVIEW), **extra},
        status_code=status_code)


@router.get("/network/applications/{application_id}")
def application(request: Request, application_id: str,
                me: Identity = requires(P.APPLICATIONS_VIEW)) -> HTMLResponse:
    """One application, its notes and the decision forms."""
    return _application_page(request, me, application_id)


@router.post("/network/applications/{application_id}/notes")
def add_note(request: Request, application_id: str, text: Text,
             me: Identity = requires(P.APPLICATIONS_REVIEW)) -> Response:
    """Add a reviewer's note; htmx gets the updated notes list, a plain form a redirect."""
    error = None
    try:
        network(request).add_note(application_id, text, by=_user_id(me))
    except InputError as exc:
        error = str(exc)
    if is_htmx(request):
        return render(request, "network/_notes.html", {
            "app": network(request).application(application_id), "can_review": True,
            "error": error}, fragment=True, status_code=200)
    if error:
        return _application_page(request, me, application_id, 400, error=error)
    return RedirectResponse(f"/network/applications/{application_id}", status_code=303)


@router.post("/network/applications/{application_id}/approve")
def approve(request: Request, application_id: str, reason: Text = "",
            me: Identity = requires(P.APPLICATIONS_REVIEW)) -> HTMLResponse:
    """Approve: the member's user is created; the one-time link is shown once, here."""
    try:
        _, token = network(request).approve(application_id, by=_user_id(me), reason=reason)
    except InputError as exc:
        return _application_page(request, me, application_id, 400, error=str(exc))
    return _application_page(request, me, application_id,
                             link=set_password_link(request, token))


@router.post("/network/applications/{application_id}/reject")
def reject(request: Request, application_id: str, reason: Text = "",
           me: Identity = requires(P.APPLICATIONS_REVIEW)) -> Response:
    """Reject with a reason."""
    try:
        network(request).reject(application_id, reason, by=_user_id(me))
    except InputError as exc:
        return _application_page(request, me, application_id, 400, error=str(exc))
    flash(request, "application rejected", "ok")
    return RedirectResponse(f"/network/applications/{application_id}", status_code=303)


# agreements -------------------------------------------------------------------------------

@router.get("/network/agreements")
def agreements(request: Request, me: Identity = requires(P.AGREEMENTS_ACCEPT)) -> HTMLResponse:
    """The NDA and rules of engagement, with what the user accepted and when (and, when
    their acceptance lapsed, why they were sent here)."""
    assert me.user is not None
    return render(request, "network/agreements.html", {
        "documents": DOCUMENTS, "accepted": network(request).accepted(_user_id(me)),
        "lapsed": _lapsed(network(request), me.user)})


@router.post("/network/agreements")
def accept(request: Request, document: Short, version: Short,
           me: Identity = requires(P.AGREEMENTS_ACCEPT)) -> Response:
    """Accept one version of one document."""
    try:
        network(request).accept(_user_id(me), document, version)
    except InputError as exc:
        return render(request, "network/agreements.html", {
            "documents": DOCUMENTS, "accepted": network(request).accepted(_user_id(me)),
            "error": str(exc)}, status_code=400)
    return RedirectResponse("/network/agreements", status_code=303)


# engagements ------------------------------------------------------------------------------

@router.get("/network/engagements")
def engagements(request: Request, me: Identity = requires(P.ENGAGEMENTS_VIEW)) -> HTMLResponse:
    """Engagements: all of them for staff, the current and upcoming ones for red-teamers."""
    now = datetime.now(UTC)
    items = network(request).engagements()
    if not allowed(me.role, P.ENGAGEMENTS_MANAGE):
        items = [e for e in items if e.state(now) != "ended"]
    return render(request, "network/engagements.html", {
        "engagements": items, "now": now, "can_manage": allowed(me.role, P.ENGAGEMENTS_MANAGE)})


@router.get("/network/engagements/new", dependencies=[requires(P.ENGAGEMENTS_MANAGE)])
def new_engagement(request: Request) -> HTMLResponse:
    """The form for a new engagement."""
    return render(request, "network/engagement_new.html", {"routes": PROXY_ROUTES, "form": {}})


def _when(label: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{label} {value!r} is not a date and time; use the picker or "
                         "'2026-12-01T09:00'") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _quota(label: str, value: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise InputError(f"{label} {value!r} is not a positive whole number; leave it empty "
                         "for no limit")
    return int(value)


@router.post("/network/engagements")
def create_engagement(request: Request, name: Short, models: Text, starts_at: Short,
                      ends_at: Short, description: Text = "", categories_in: Short = "",
                      categories_out: Short = "", rules: Text = "",
                      requests_per_minute: Short = "", tokens_per_minute: Short = "",
                      routes: Annotated[list[str] | None, Form(max_length=10)] = None,
                      me: Identity = requires(P.ENGAGEMENTS_MANAGE)) -> Response:
    """Create an engagement; on a mistake show the form again saying what to fix."""
    form = {"name": name, "models": models, "starts_at": starts_at, "ends_at": ends_at,
            "description": description, "categories_in": categories_in,
            "categories_out": categories_out, "rules": rules, "routes": routes or [],
            "requests_per_minute": requests_per_minute, "tokens_per_minute": tokens_per_minute}
    try:
        eng = network(request).create_engagement(
            name=name, description=description, models=_lines(models, ","),
            routes=routes or [], categories_in=_lines(categories_in, ","),
            categories_out=_lines(categories_out, ","), rules=rules,
            starts_at=_when("start", starts_at), ends_at=_when("end", ends_at),
            requests_per_minute=_quota("requests per minute", requests_per_minute),
            tokens_per_minute=_quota("tokens per minute", tokens_per_minute), by=_user_id(me))
    except InputError as exc:
        return render(request, "network/engagement_new.html",
                      {"routes": PROXY_ROUTES, "form": form, "error": str(exc)},
                      status_code=400)
    return RedirectResponse(f"/network/engagements/{eng.id}", status_code=303)


def _engagement_page(request: Request, me: Identity, engagement_id: str,
                     status_code: int = 200, **extra: Any) -> HTMLResponse:
    eng = network(request).engagement(engagement_id)
    manage = allowed(me.role, P.ENGAGEMENTS_MANAGE)
    mine = [m for m in eng.members if me.user is not None and m.user_id == me.user.id]
    return render(request, "network/engagement.html", {
        "eng": eng, "state": eng.state(datetime.now(UTC)), "can_manage": manage,
        "members": eng.members if manage else mine,
        "joined": any(m.active for m in mine),
        "can_join": allowed(me.role, P.ENGAGEMENTS_JOIN),
        "missing": network(request).missing_agreements(_user_id(me)), **extra},
        status_code=status_code)


@router.get("/network/engagements/{engagement_id}")
def engagement(request: Request, engagement_id: str,
               me: Identity = requires(P.ENGAGEMENTS_VIEW)) -> HTMLResponse:
    """Scope, window, quotas, rules and members of one engagement."""
    return _engagement_page(request, me, engagement_id)


@router.post("/network/engagements/{engagement_id}/join")
def join(request: Request, engagement_id: str,
         me: Identity = requires(P.ENGAGEMENTS_JOIN)) -> HTMLResponse:
    """Join: the scoped gateway key is shown once, on this page."""
    assert me.user is not None
    try:
        info, key = network(request).join(engagement_id, me.user)
    except InputError as exc:
        return _engagement_page(request, me, engagement_id, 400, error=str(exc))
    return _engagement_page(request, me, engagement_id, key=key, key_info=info)


@router.post("/network/engagements/{engagement_id}/members/{user_id}/remove")
def remove_member(request: Request, engagement_id: str, user_id: str, reason: Text = "",
                  me: Identity = requires(P.ENGAGEMENTS_MANAGE)) -> Response:
    """Remove a member; their key stops working at once."""
    try:
        network(request).remove_member(engagement_id, user_id, by=_user_id(me), reason=reason)
    except InputError as exc:
        return _engagement_page(request, me, engagement_id, 400, error=str(exc))
    flash(request, "member removed; their key no longer works", "ok")
    return RedirectResponse(f"/network/engagements/{engagement_id}", status_code=303)


@router.post("/network/engagements/{engagement_id}/members/{user_id}/readmit")
def readmit_member(request: Request, engagement_id: str, user_id: str, reason: Text = "",
                   me: Identity = requires(P.ENGAGEMENTS_MANAGE)) -> Response:
    """Let a removed member join again (a new key, the engagement's scope as it is then)."""
    try:
        network(request).readmit_member(engagement_id, user_id, by=_user_id(me),
                                        reason=reason)
    except InputError as exc:
        return _engagement_page(request, me, engagement_id, 400, error=str(exc))
    flash(request, "member re-admitted: they may join again for a new key; their old key "
                   "stays revoked", "ok")
    return RedirectResponse(f"/network/engagements/{engagement_id}", status_code=303)


_GATED = ("network:engagement:", "findings:")
"""Permission scopes a member reaches only under the current agreements: engagements (the
targets in scope, joining) and findings."""


def _lapsed(store: NetworkStore, user: User) -> str | None:
    """Why a red-teamer must accept the current agreements before engagements and findings,
    or ``None`` when they need not: they never accepted them, a new version came out, or
    staff re-admitted them since (see :meth:`NetworkStore.lapsed_agreements`). A member who
    had never accepted could open the engagements in scope and file findings."""
    missing = store.missing_agreements(user.id) if user.role == "red-teamer" else []
    if not missing:
        return None
    names = " and the ".join(f"{document(n).title.lower()} (version {document(n).version})"
                             for n in missing)
    since = store.readmitted_at(user.id)
    why = ("you have not accepted them yet" if not store.lapsed_agreements(user.id) else
           "a new version came out since you accepted" if since is None else
           f"you were re-admitted on {since:%Y-%m-%d %H:%M} UTC, and what you accepted before "
           "no longer counts (or a new version came out)")
    return (f"accept the current {names} first: {why}; engagements and findings stay closed "
            "until you accept on the Agreements page")


def _gate(ctx: Any, user: User, permission: Permission) -> Detour | None:
    """Send a red-teamer whose agreements lapsed (re-admitted since, or a new version) to the
    Agreements page before any engagement or finding."""
    if user.role != "red-teamer" or not permission.value.startswith(_GATED):
        return None
    reason = _lapsed(ctx.service(NetworkStore.of), user)
    return None if reason is None else Detour("/network/agreements", reason)


def _user_disabled(ctx: Any, user_id: str, by: str) -> None:
    """An admin removed the user from the web app: end every engagement membership too."""
    ctx.service(NetworkStore.of).remove_user(user_id, by=by,
                                             reason="removed from the network (user disabled)")


# API --------------------------------------------------------------------------------------

@router.get("/api/network/engagements")
def api_engagements(request: Request,
                    me: Identity = requires(P.ENGAGEMENTS_VIEW)) -> list[dict[str, Any]]:
    """Engagements (scope and window; members for staff)."""
    manage = allowed(me.role, P.ENGAGEMENTS_MANAGE)
    return [{"id": e.id, "name": e.name, "models": e.models, "routes": e.routes,
             "categories_in": e.categories_in, "categories_out": e.categories_out,
             "starts_at": e.starts_at.isoformat(), "ends_at": e.ends_at.isoformat(),
             "members": [m.username for m in e.members if m.active] if manage else None}
            for e in network(request).engagements()]


@router.get("/api/network/applications")
def api_applications(request: Request,
                     me: Identity = requires(P.APPLICATIONS_VIEW)) -> list[dict[str, Any]]:
    """Applications and their status."""
    return [{"id": a.id, "username": a.username, "status": a.status,
             "expertise": a.expertise, "created_at": a.created_at.isoformat()}
            for a in network(request).applications()]


feature = Feature(
    name="network", router=router, templates=Path(__file__).parent / "templates",
    nav=(NavEntry("Applications", "/network/applications", P.APPLICATIONS_VIEW, order=30),
         NavEntry("Engagements", "/network/engagements", P.ENGAGEMENTS_VIEW, order=31),
         NavEntry("Agreements", "/network/agreements", P.AGREEMENTS_ACCEPT, order=32)),
    on_user_disabled=_user_disabled, gate=_gate,
)
