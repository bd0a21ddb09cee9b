"""``bastion web``: serve the web app (login, network, findings, dashboards)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
import yaml
from pydantic import ValidationError

from bastion.cli._common import console, handle_errors
from bastion.cli._keys import DbOption
from bastion.errors import ConfigError

web_app = typer.Typer(help="The web app: login, red-teaming network, findings, dashboards.",
                      no_args_is_help=True)


def load_web_settings(config: Path | None, db: str | None) -> Any:
    """The web settings from an optional YAML file, ``--db`` winning over the file.

    Raises:
        ConfigError: the file cannot be read or has unknown or invalid keys.
    """
    from bastion.web import WebSettings  # noqa: PLC0415 - keep ``bastion --help`` light

    data: dict[str, Any] = {}
    if config is not None:
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read web config {str(config)!r}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"web config {str(config)!r} must be a mapping of settings")
    if db is not None:
        data["database_url"] = db
    try:
        return WebSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"web config is invalid: {exc}; see docs/web.md for the keys") from exc


@web_app.command("run")
@handle_errors
def run(config: Annotated[Path | None, typer.Option(
            "--config", "-c", help="YAML file of web settings (see docs/web.md).")] = None,
        db: DbOption = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8200,
        proxy: Annotated[str | None, typer.Option(
            help="Trusted reverse proxy addresses (comma-separated) whose "
                 "X-Forwarded-Proto/For headers count (https detection).")] = None) -> None:
    """Serve the web app with uvicorn."""
    from bastion.web import create_web_app  # noqa: PLC0415

    app = create_web_app(load_web_settings(config, db))
    console.print(f"web app on http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=proxy is not None,
                forwarded_allow_ips=proxy, server_header=False)


def register(app: typer.Typer) -> None:
    """Add ``bastion web`` to the main app."""
    app.add_typer(web_app, name="web")
