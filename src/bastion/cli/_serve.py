"""``bastion serve``: run the HTTP API (classify + OpenAI-compatible moderations) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from bastion.cli._common import handle_errors
from bastion.cli._options import PolicyOption, TierOption


def _print_new_key() -> None:
    from bastion.serve import API_KEY_HASHES_ENV, hash_key, new_key  # noqa: PLC0415 - fast CLI

    key = new_key()
    # Plain echo, not Rich: a wrapped key or hash would break copy and paste.
    typer.echo(f"API key (shown once; give it to the client and keep it secret):\n  {key}")
    typer.echo("Configure the server with its sha256, not the key:")
    typer.echo(f"  export {API_KEY_HASHES_ENV}={hash_key(key)}")
    typer.echo("For several keys, separate their hashes with commas.")


@handle_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    policy: PolicyOption = "default",
    tier: TierOption = "default",
    insecure_no_auth: Annotated[bool, typer.Option(
        "--insecure-no-auth", help="Serve without API keys, to loopback clients only.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    make_key: Annotated[bool, typer.Option(
        "--new-key", help="Print a new random API key and the sha256 to configure, then exit.",
    )] = False,
) -> None:
    """Serve Bastion over HTTP: /v1/classify, /v1/moderations (OpenAI-compatible), /v1/policies.

    Clients send 'Authorization: Bearer <key>'; the server accepts the keys whose sha256
    digests are listed, comma-separated, in BASTION_API_KEY_HASHES. Make a key with
    'bastion serve --new-key'.
    """
    if make_key:
        _print_new_key()
        return
    from bastion.serve import run, settings_from  # noqa: PLC0415 - keep other commands fast

    settings = settings_from(policy=policy, tier=tier, insecure_no_auth=insecure_no_auth)
    run(settings, host=host, port=port, workers=workers)


def register(app: typer.Typer) -> None:
    """Add the command to the main app."""
    app.command("serve")(serve_command)
