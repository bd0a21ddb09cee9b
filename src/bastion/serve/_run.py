"""Run the API under uvicorn, one or several worker processes."""

from __future__ import annotations

import os

from bastion.classify._onnx import share_cores
from bastion.errors import ConfigError
from bastion.serve._app import SETTINGS_ENV, create_app
from bastion.serve._auth import is_loopback
from bastion.serve._logs import log_config
from bastion.serve._settings import Settings


def run(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000,
        workers: int = 1) -> None:
    """Serve until interrupted.

    The app is built once here first, so a bad setting or policy fails before uvicorn starts;
    each worker then builds its own app from the settings passed in ``BASTION_SERVE_SETTINGS``.

    Raises:
        ConfigError: ``insecure_no_auth`` with a non-loopback ``host``, or no API keys.
        PolicyError: the default policy does not load.
    """
    import uvicorn  # noqa: PLC0415 - the server is needed only when serving

    if settings.insecure_no_auth and not is_loopback(host):
        raise ConfigError(f"--insecure-no-auth serves loopback only, but --host is {host!r}; "
                          "use --host 127.0.0.1, or configure API keys to serve other hosts")
    create_app(settings)
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    share_cores(workers)
    uvicorn.run("bastion.serve:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, proxy_headers=False, server_header=False,
                log_config=log_config())
