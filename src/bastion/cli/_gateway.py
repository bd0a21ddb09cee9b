"""``bastion gateway``: run the guardrail gateway, or check its config."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from bastion.classify._onnx import share_cores
from bastion.cli._common import console, err_console, handle_errors, print_json
from bastion.errors import ConfigError
from bastion.gateway import ENV_PREFIX, GatewayConfig, create_app, load_config
from bastion.gateway._extract import trust_digest
from bastion.gateway._factory import CONFIG_ENV
from bastion.gateway._protocol import HeadDeadline
from bastion.redteam._config import public_url
from bastion.serve import log_config
from bastion.serve._logs import redacted_url

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="Gateway YAML config; BASTION_GATEWAY__... env vars override it.")]

gateway_app = typer.Typer(help="The guardrail gateway (OpenAI-compatible proxy).",
                          no_args_is_help=True)


@gateway_app.command("run")
@handle_errors
def run(config: ConfigOption = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
        workers: Annotated[int, typer.Option(min=1, help="Worker processes (share the database; "
                           "more than one needs redis_url to share rate limits).")] = 1,
        per_worker_limits: Annotated[bool, typer.Option(
            "--per-worker-limits", help="With --workers N and no redis_url, start anyway: each "
            "worker counts rate limits on its own, so a key or account may send N times its "
            "limits.")] = False,
        proxy: Annotated[str | None, typer.Option(
            help="Trusted reverse proxy addresses (comma-separated) whose X-Forwarded-For "
                 "headers name the client in logs; without it no client can set its own "
                 "address.")] = None) -> None:
    """Serve the gateway with uvicorn."""
    settings = load_config(config)
    if workers > 1 and not settings.redis_url:
        _refuse_unshared_limits(workers, allow=per_worker_limits)
    console.print(f"gateway on http://{host}:{port}/v1 -> "
                  f"{redacted_url(settings.upstream.base_url)}")
    if workers == 1:
        _serve(create_app(settings), settings, host, port, proxy)
        return
    if config is not None:
        os.environ[CONFIG_ENV] = str(config)
    if not os.environ.get(settings.identity_secret_env):
        # Workers must share it (pseudonyms, and the tags of Responses ids one worker gives
        # and another checks); each still warns that it changes when the gateway restarts.
        os.environ[settings.identity_secret_env] = secrets.token_hex(32)
        err_console.print(f"warning: ${settings.identity_secret_env} is not set: the {workers} "
                          "workers share a random one, so pseudonyms and Responses ids change "
                          "when the gateway restarts; set it to keep them stable")
    share_cores(workers)
    _serve("bastion.gateway._factory:app_from_env", settings, host, port, proxy,
           workers=workers)


def _refuse_unshared_limits(workers: int, *, allow: bool) -> None:
    """Refuse N workers whose rate limits each count alone, unless ``allow`` says to warn.

    Without Redis each worker keeps its own requests/min and tokens/min counters (per key and
    per account), so N workers together let a key or account send N times its limits: a
    silent bypass, so starting that way takes an explicit flag.

    Raises:
        ConfigError: ``allow`` is false.
    """
    if not allow:
        raise ConfigError(
            f"--workers {workers} without redis_url: each worker would count rate limits "
            "(requests and tokens per minute, per key and per account) on its own, so a key or "
            f"account could send up to {workers} times its limits; set redis_url in the "
            f"gateway config (or ${ENV_PREFIX}REDIS_URL) to a Redis server the workers share, "
            "or pass --per-worker-limits to accept counting per worker")
    err_console.print(f"warning: redis_url is not set (--per-worker-limits): each of the "
                      f"{workers} workers counts rate limits on its own, so a key or account "
                      f"may send up to {workers} times its limits; set redis_url (a Redis "
                      "server the workers share) to hold them across workers")


def _serve(app: Any, settings: GatewayConfig, host: str, port: int, proxy: str | None, *,
           workers: int | None = None) -> None:
    uvicorn.run(app, factory=isinstance(app, str), workers=workers, host=host, port=port,
                log_level="info", log_config=log_config(), server_header=False,
                timeout_keep_alive=settings.keep_alive_s,
                backlog=settings.backlog, http=HeadDeadline,  # a deadline on request heads
                # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: a local client
                # could write any address (quotes included) into the access log.
                proxy_headers=proxy is not None, forwarded_allow_ips=proxy)


@gateway_app.command("config")
@handle_errors
def show_config(config: ConfigOption = None) -> None:
    """Validate the config (file plus env overrides) and print the effective settings, the
    passwords of its URLs (``database_url``, ``redis_url``...) redacted."""
    print_json(_public(load_config(config).model_dump(mode="json")))


def _public(settings: Any) -> Any:
    """``settings`` with each URL's password and secret query values redacted: the output is
    pasted into tickets and CI logs, and it showed ``postgresql://user:PASSWORD@host``."""
    if isinstance(settings, dict):
        return {key: _public(value) for key, value in settings.items()}
    if isinstance(settings, list):
        return [_public(value) for value in settings]
    return public_url(settings) if isinstance(settings, str) and "://" in settings \
        else settings


@gateway_app.command("trust")
@handle_errors
def trust(files: Annotated[list[Path], typer.Argument(
        help="Files each holding one text exactly as requests send it (a system prompt).",
        exists=True, dir_okay=False, readable=True)]) -> None:
    """Print the digests that exempt these texts from the input check
    (``request.trusted_texts``): only the exact text is trusted, so a client that changes one
    character of it is checked as usual."""
    lines = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise typer.BadParameter(f"{path} is not UTF-8 text ({exc.reason}); save it as "
                                     "UTF-8, as requests send it") from exc
        if not text.strip():
            raise typer.BadParameter(f"{path} holds no text; a blank text needs no trust")
        name = "".join(c if c.isprintable() else "?" for c in path.name)
        lines.append(f"    - {trust_digest(text)}   # {name}")
    typer.echo("request:\n  trusted_texts:\n" + "\n".join(lines))  # YAML to paste, unwrapped


def register(app: typer.Typer) -> None:
    """Add ``bastion gateway`` to the main app."""
    app.add_typer(gateway_app, name="gateway")
