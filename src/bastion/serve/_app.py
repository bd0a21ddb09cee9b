"""The application factory."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
from fastapi import Depends, FastAPI

from bastion.errors import ConfigError
from bastion.serve._auth import KeyCheck
from bastion.serve._errors import JSONResponse, install_error_handlers
from bastion.serve._limits import BodyLimitMiddleware
from bastion.serve._logs import scrub_access_log
from bastion.serve._moderations import moderations_router
from bastion.serve._routes import api_router, health_router
from bastion.serve._service import Service
from bastion.serve._settings import Settings

SETTINGS_ENV = "BASTION_SERVE_SETTINGS"
"""Settings as JSON, for :func:`create_app_from_env` (how ``bastion serve`` passes them to
several uvicorn workers)."""

logger = logging.getLogger("bastion.serve")


def create_app(settings: Settings) -> FastAPI:
    """Build the Bastion HTTP API.

    The classifier loads in the background once the server starts (the app's lifespan);
    ``/readyz`` answers 503 and classification routes answer 503 until it is ready.

    Args:
        settings: server settings.

    Raises:
        ConfigError: no API keys are configured and ``insecure_no_auth`` is not set, or the
            tier is not registered.
        PolicyError: the default policy or a built-in policy does not load.
    """
    if not settings.api_key_hashes and not settings.insecure_no_auth:
        raise ConfigError(
            "no API keys configured; set BASTION_API_KEY_HASHES to sha256 digests of your keys "
            "(make one with 'bastion serve --new-key'), or pass --insecure-no-auth to serve "
            "loopback clients without keys"
        )
    if settings.insecure_no_auth:
        logger.warning("authentication is OFF (--insecure-no-auth): only loopback clients are "
                       "answered; never expose this server")
    service = Service(settings)
    app = FastAPI(
        title="Bastion", lifespan=_lifespan(service), default_response_class=JSONResponse,
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    auth = Depends(KeyCheck(settings.api_key_hashes, insecure_no_auth=settings.insecure_no_auth))
    app.include_router(health_router())
    app.include_router(api_router(service), dependencies=[auth])
    app.include_router(moderations_router(service), dependencies=[auth])
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    scrub_access_log()  # served by uvicorn directly, the app gets no log_config: keys in URLs
    return app


def create_app_from_env() -> FastAPI:
    """:func:`create_app` with settings read from ``BASTION_SERVE_SETTINGS`` (a factory for
    ``uvicorn --factory``)."""
    raw = os.environ.get(SETTINGS_ENV)
    if raw is None:
        raise ConfigError(f"{SETTINGS_ENV} is not set; start the server with 'bastion serve'")
    return create_app(Settings.model_validate(json.loads(raw)))


def _lifespan(service: Service) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(service.load)
            yield
            tasks.cancel_scope.cancel()

    return lifespan
