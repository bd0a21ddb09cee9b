"""The HTTP API: Bastion's classify routes and an OpenAI-compatible moderation endpoint.

Build the app with :func:`create_app` and serve it with any ASGI server (``bastion serve``
runs uvicorn).
"""

from bastion.serve._app import SETTINGS_ENV, create_app, create_app_from_env
from bastion.serve._auth import BearerError, hash_key, new_key, read_bearer
from bastion.serve._logs import log_config
from bastion.serve._moderations import CATEGORY_MAP, OPENAI_CATEGORIES, category_names
from bastion.serve._run import run
from bastion.serve._settings import API_KEY_HASHES_ENV, Settings, settings_from

__all__ = [
    "API_KEY_HASHES_ENV",
    "CATEGORY_MAP",
    "OPENAI_CATEGORIES",
    "SETTINGS_ENV",
    "BearerError",
    "Settings",
    "category_names",
    "create_app",
    "create_app_from_env",
    "hash_key",
    "log_config",
    "new_key",
    "read_bearer",
    "run",
    "settings_from",
]
