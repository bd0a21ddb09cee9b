"""An app factory for multi-worker uvicorn: each worker reads the config from the env."""

from __future__ import annotations

import os

from fastapi import FastAPI

from bastion.gateway._app import create_app
from bastion.gateway._config import load_config

CONFIG_ENV = "BASTION_GATEWAY_CONFIG"


def app_from_env() -> FastAPI:
    """The gateway app for ``$BASTION_GATEWAY_CONFIG`` (plus env overrides)."""
    return create_app(load_config(os.environ.get(CONFIG_ENV)))
