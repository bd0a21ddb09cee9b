"""The gateway app factory and its lifespan (audit writer task, connection cleanup)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bastion.accounts import StrikeStore
from bastion.gateway._config import GatewayConfig
from bastion.gateway._context import Context
from bastion.gateway._protocol import GATEWAY_STATE
from bastion.gateway._respond import GatewayError
from bastion.gateway._routes import PATHS, router
from bastion.gateway._state import Gateway
from bastion.serve._logs import scrub_access_log
from bastion.store import close_store


def create_app(config: GatewayConfig, *, strikes: StrikeStore | None = None) -> FastAPI:
    """An ASGI app guarding ``config.upstream``.

    The app's state holds the :class:`Gateway` (``app.state.gateway``). The classifier is
    loaded before the app serves; the audit writer runs for the life of the app and is
    drained at shutdown.

    Raises:
        ConfigError: bad settings (unknown tier, bad database URL).
        PolicyError: a configured policy does not load.
        RuntimeFailure: the database cannot be reached or migrated.
    """
    gateway = Gateway(config, strikes=strikes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        try:
            await anyio.to_thread.run_sync(gateway.guard.warm, gateway.policy("chat", "input"))
            async with anyio.create_task_group() as group:
                group.start_soon(gateway.audit.run)
                if gateway.monitor is not None:
                    group.start_soon(gateway.monitor.run)
                try:
                    yield {GATEWAY_STATE: gateway}  # for the server's protocol (HeadDeadline)
                finally:
                    await gateway.close()
        finally:
            if gateway.live_monitor is not None:
                gateway.live_monitor.close()
            close_store(gateway.sessions)  # after the writers' last batches

    # no redirect for a trailing slash: its Location came from the caller's Host header,
    # and a client that follows it would take its key there
    app = FastAPI(title="Bastion gateway", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, redirect_slashes=False)
    app.state.gateway = gateway
    app.include_router(router(gateway))
    app.add_middleware(HeaderLimit, gateway=gateway)

    async def unrouted(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return refused(gateway, _ROUTE_NAMES.get(request.url.path, "unknown"),
                       _unrouted_error(request, exc))

    app.add_exception_handler(HTTPException, unrouted)
    scrub_access_log()  # served by uvicorn directly, the app gets no log_config: keys in URLs
    return app


#: Route names by path (a path itself is the caller's text, never audited).
_ROUTE_NAMES = {path: route for route, (_, path) in PATHS.items()}


def refused(gateway: Gateway, route: str, error: GatewayError) -> Response:
    """Answer ``error`` to a request refused before any route ran, with the audit event
    every refusal has (no caller: the key is not looked up)."""
    ctx = Context(gateway, route)
    ctx.status, ctx.outcome, ctx.reason = error.status, "refused", error.code
    ctx.finish()
    return error.response({"x-bastion-request-id": ctx.request_id})


def _unrouted_error(request: Request, exc: HTTPException) -> GatewayError:
    """A 404 or 405 that names what the gateway serves (FastAPI's says only 'Not Found')."""
    allowed = (exc.headers or {}).get("Allow", "")
    if exc.status_code == 405:
        return GatewayError(405, f"{request.url.path!r} does not take {request.method}; use "
                            f"{allowed}", code="method_not_allowed", headers={"Allow": allowed})
    if exc.status_code == 404:
        served = ", ".join(f"{method} {path}" for method, path in PATHS.values())
        return GatewayError(404, f"this gateway serves no {request.method} "
                            f"{request.url.path[:100]!r}; it serves {served}",
                            code="not_found")
    return GatewayError(exc.status_code, str(exc.detail), code="http_error")


class HeaderLimit:
    """Refuse requests whose head (request line and headers) exceeds ``max_header_bytes``
    before any route runs: a 414 when the URL alone does, a 431 otherwise, with an audit event
    as every refusal has (no caller: the key is not looked up). The request line counts as
    real servers count it: only the header lines did, and a 60 KB query string got through
    (issue 8)."""

    def __init__(self, app: ASGIApp, *, gateway: Gateway) -> None:
        self.app, self.gateway = app, gateway
        self.limit = gateway.config.max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 414 or 431."""
        if scope["type"] == "http":
            error = self._too_large(scope)
            if error is not None:
                route = _ROUTE_NAMES.get(scope["path"], "unknown")
                await refused(self.gateway, route, error)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _too_large(self, scope: Scope) -> GatewayError | None:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        target = len(path) + (len(query) + 1 if query else 0)
        # "POST /v1/chat/completions?q=... HTTP/1.1\r\n"
        line = len(scope["method"]) + target + len(scope.get("http_version", "1.1")) + 9
        headers = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        setting = f"the limit (max_header_bytes) is {self.limit}"
        if line > self.limit:
            return GatewayError(414, f"the request URL has {target} bytes and {setting}; "
                                "send the request's content in its JSON body, not in the "
                                "URL", code="uri_too_long")
        if line + headers > self.limit:
            return GatewayError(431, f"the request line and headers have {line + headers} "
                                f"bytes (the request line {line}) and {setting}; send fewer "
                                "or smaller headers and a shorter URL",
                                code="headers_too_large")
        return None
