"""``bastion keys``: create, list, rotate and revoke API keys (shown once, stored hashed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from bastion.accounts import AccountStore, KeyInfo
from bastion.cli._common import console, handle_errors, print_json, safe_text
from bastion.store import close_store, open_store

DbOption = Annotated[str | None, typer.Option(
    "--db", help="Database URL (default: $BASTION_DATABASE_URL or sqlite:///bastion.db).")]

keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@contextmanager
def account_store(db: str | None) -> Iterator[AccountStore]:
    """The account store of ``db``, its connections closed afterwards."""
    sessions = open_store(db)
    try:
        yield AccountStore(sessions)
    finally:
        close_store(sessions)


def _show_new(info: KeyInfo, key: str) -> None:
    console.print(f"key id {info.id} for account {info.account_id}")
    console.print("API key (shown once; store it now, it cannot be shown again):")
    typer.echo(key)


@keys_app.command("create")
@handle_errors
def create(
    account: Annotated[str, typer.Argument(help="Account id or name.")],
    route: Annotated[list[str] | None, typer.Option("--route", help="Allowed route (repeat); "
                     "default: every route the role allows.")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="Allowed model pattern "
                     "(repeat; read as a path: '*' matches within one '/' part, '**' any "
                     "number of parts).")] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", help="Requests per minute.")] = None,
    tpm: Annotated[int | None, typer.Option("--tpm", help="Tokens per minute.")] = None,
    db: DbOption = None,
) -> None:
    """Create a key for an account and print it once."""
    with account_store(db) as store:
        info, key = store.create_key(account, routes=route, models=model,
                                     requests_per_minute=rpm, tokens_per_minute=tpm)
    _show_new(info, key)


@keys_app.command("list")
@handle_errors
def list_keys(
    account: Annotated[str | None, typer.Argument(help="Account id or name.")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """List keys (ids and prefixes only; keys themselves are never stored)."""
    with account_store(db) as store:
        keys = store.keys(account, revoked=revoked)
    if as_json:
        print_json([{"id": k.id, "account_id": k.account_id, "prefix": k.prefix,
                     "scopes": k.scopes.to_json(), "created_at": k.created_at.isoformat(),
                     "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                     "expires_at": k.expires_at.isoformat() if k.expires_at else None}
                    for k in keys])
        return
    table = Table()
    for column in ("id", "account", "prefix", "routes", "models", "created", "revoked"):
        table.add_column(column)
    for k in keys:
        scopes = k.scopes.to_json()
        table.add_row(k.id, k.account_id, safe_text(k.prefix + "…"),
                      ",".join(scopes["routes"] or ["*"]), ",".join(scopes["models"] or ["*"]),
                      k.created_at.strftime("%Y-%m-%d %H:%M"),
                      k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "-")
    console.print(table)


@keys_app.command("revoke")
@handle_errors
def revoke(key_id: Annotated[str, typer.Argument(help="Key id (key_...).")],
           db: DbOption = None) -> None:
    """Revoke a key at once."""
    with account_store(db) as store:
        info = store.revoke_key(key_id)
    console.print(f"revoked {info.id}")


@keys_app.command("rotate")
@handle_errors
def rotate(key_id: Annotated[str, typer.Argument(help="Key id (key_...).")],
           db: DbOption = None) -> None:
    """Revoke a key and print a new one with the same scopes and limits."""
    with account_store(db) as store:
        info, key = store.rotate_key(key_id)
    _show_new(info, key)


def register(app: typer.Typer) -> None:
    """Add ``bastion keys`` to the main app."""
    app.add_typer(keys_app, name="keys")
