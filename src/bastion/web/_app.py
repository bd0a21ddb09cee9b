"""The app factory: features, the guard on every route, security headers, error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount

from bastion._urls import mask_credentials
from bastion.errors import ConfigError, NotFoundError, UserError
from bastion.monitor import AuditLog
from bastion.store import close_store, open_store
from bastion.web._accesslog import mask_access_log
from bastion.web._bodylimit import MIB, BodyLimit
from bastion.web._context import WebContext
from bastion.web._features import FEATURES, Feature, load_features
from bastion.web._guard import API_PREFIX, LoginRequired, route_permission
from bastion.web._headers import SecurityHeaders
from bastion.web._render import make_environment, render
from bastion.web._settings import WebSettings

STATIC = Path(__file__).parent / "static"
UNEXPECTED = ("something went wrong on our side; try again, and tell an admin if it keeps "
              "happening")
"""What a 5xx page says: its cause may hold internals, so it is logged, never shown."""
log = logging.getLogger(__name__)
UNREADABLE = ("the request body could not be read: it is not UTF-8, or its JSON is nested too "
              "deeply to parse; send UTF-8 JSON nested a few levels at most")
"""What replaces FastAPI's bare "There was an error parsing the body" (it says neither why nor
how to fix)."""
_FASTAPI_UNREADABLE = "There was an error parsing the body"
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
"""The detail Starlette gives an HTTPException raised without a message (routing's 404)."""


def create_web_app(settings: WebSettings | None = None, *,
                   sessions: sessionmaker[Session] | None = None,
                   audit: AuditLog | None = None,
                   features: Sequence[str] = FEATURES) -> FastAPI:
    """Build the web app.

    Args:
        settings: how it runs (default: :class:`WebSettings` defaults).
        sessions: a store's session factory (default: opened from ``settings.database_url``,
            migrated, and closed when the app shuts down).
        audit: the audit log (default: keyed from the environment).
        features: the features to mount, as ``"module:attribute"`` (default: every one).

    Raises:
        ConfigError: a route declares no permission, or more than one.
    """
    settings = settings or WebSettings()
    owned = sessions is None
    store = sessions or open_store(settings.database_url, migrate=settings.migrate)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            close_store(store)

    app = FastAPI(title=settings.title, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    loaded = load_features(tuple(features))
    log = audit or AuditLog.from_env(store)
    log.check_key()  # a web app whose key does not fit the chain would refuse every action
    app.state.web = WebContext.build(settings, store, log)
    app.state.templates = make_environment(loaded)
    app.state.nav = [entry for f in loaded for entry in f.nav]
    app.state.features = loaded
    for feature in loaded:
        app.include_router(feature.router)
    _answer_head(app)
    check_routes(app)
    _mount_static(app, loaded)
    _handle_errors(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_mib * MIB)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so a 413 has the headers too
    mask_access_log()  # set-password tokens travel in a query string
    return app


def views(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every view of the app as ``(full path, route)``, walking included routers.

    Raises:
        ConfigError: a route that is neither a FastAPI view nor a static mount (it could not
            declare a permission).
    """
    found: list[tuple[str, APIRoute]] = []
    _walk(app.routes, "", found)
    return found


def _walk(routes: Sequence[BaseRoute], prefix: str, found: list[tuple[str, APIRoute]]) -> None:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.16x includes lazily
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif included is not None:
            context = getattr(route, "include_context", None)
            _walk(included.routes, prefix + str(getattr(context, "prefix", "")), found)
        elif not isinstance(route, Mount):
            raise ConfigError(f"web route {getattr(route, 'path', route)!r} is not a FastAPI "
                              "view, so it cannot declare a permission; add it with "
                              "@router.get/post(...) and bastion.web.requires(...)")


def _answer_head(app: FastAPI) -> None:
    """Let every GET view answer HEAD as well, through the same view and guard.

    FastAPI (unlike Starlette's ``Route``) registers only the methods a view names, so a
    ``HEAD`` of a page would be a 405. Here, in one place for every feature, a view that
    answers GET also answers HEAD: the same permission check runs, and the server sends the
    GET's status and headers without the body. Views are pure reads (a GET never writes), so
    running them for a HEAD is harmless. Idempotent: features are shared by every app built.
    """
    for _, route in views(app):
        if route.methods is not None and "GET" in route.methods:
            route.methods.add("HEAD")


def check_routes(app: FastAPI) -> None:
    """Refuse an app with a route that declares no permission, or several.

    Raises:
        ConfigError: names the route and how to fix it.
    """
    for path, route in views(app):
        if len(route_permission(route)) != 1:
            raise ConfigError(
                f"web route {sorted(route.methods or ())} {path!r} declares "
                f"{len(route_permission(route))} permissions; give it exactly one with "
                "bastion.web.requires(Permission.X)")


def _mount_static(app: FastAPI, features: Sequence[Feature]) -> None:
    for feature in features:
        if feature.static is not None:
            app.mount(f"/static/{feature.name}", StaticFiles(directory=feature.static),
                      name=f"static-{feature.name}")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _error(request: Request, status: int, message: str,
           headers: Mapping[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"status": status, "message": message}},
                            status_code=status, headers=dict(headers or {}))
    headings = {400: "That did not work", 401: "Please log in", 403: "Not allowed",
                404: "Not found", 405: "Not allowed", 413: "Too large", 422: "Check the form",
                429: "Slow down"}
    response = render(request, "core/error.html", {
        "status": status, "heading": headings.get(status, "Something went wrong"),
        "message": message}, status_code=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _message(request: Request, exc: HTTPException) -> str:
    """What an error page says: the view's own message (e.g. which finding does not exist),
    a plain one when routing raised the status with no message, and never a 5xx's detail."""
    detail = str(exc.detail)
    if detail == _FASTAPI_UNREADABLE:
        return UNREADABLE
    if exc.status_code >= 500:
        # a store's connection error may quote its DSN: its password (or token) is masked
        log.error("%s %s answered %d: %s", request.method, request.url.path, exc.status_code,
                  mask_credentials(detail))
        return UNEXPECTED
    if detail != _PHRASES.get(exc.status_code):
        return detail
    if exc.status_code == 404:
        return (f"there is no page at {request.url.path!r}; check the address or start from "
                "the home page")
    if exc.status_code == 405:
        return f"{request.method} is not accepted at {request.url.path!r}"
    return detail


def _problem(error: Mapping[str, Any]) -> str:
    """One validation error as the page or JSON says it: the field and what is wrong, or,
    for a body that is not JSON at all, where the syntax breaks (FastAPI's own text is a
    bare "0: JSON decode error")."""
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":
        where = loc[-1] if loc else "?"
        return (f"body: not valid JSON ({error.get('ctx', {}).get('error', 'syntax error')} at "
                f"character {where}); check the JSON syntax")
    return f"{'.'.join(str(p) for p in loc[1:]) or 'request'}: {error.get('msg')}"


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    # One handler for every HTTPException: a handler per status code (404, 405) would be
    # chosen before it and replace the view's specific message with a generic one.
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, _message(request, exc), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(_problem(e) for e in exc.errors())
        return _error(request, 422, f"the request was not accepted: {problems}; correct "
                                    "these fields and send it again")

    @app.exception_handler(UserError)
    async def _user(request: Request, exc: UserError) -> Response:
        return _error(request, 404 if isinstance(exc, NotFoundError) else 400, str(exc))
