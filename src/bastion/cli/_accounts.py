"""``bastion accounts``: create, list, show, suspend and reinstate accounts."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer

from bastion.accounts import ROLES, AccountInfo, RedisStrikeStore
from bastion.cli._common import console, handle_errors, print_json, safe_text
from bastion.cli._keys import DbOption, account_store
from bastion.errors import InputError

accounts_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)


def _as_json(a: AccountInfo) -> dict[str, object]:
    return {"id": a.id, "name": a.name, "role": a.role, "status": a.status,
            "status_reason": a.status_reason, "engagement": a.engagement,
            "engagement_until": a.engagement_until.isoformat() if a.engagement_until else None,
            "created_at": a.created_at.isoformat(),
            "requests_per_minute": a.requests_per_minute,
            "tokens_per_minute": a.tokens_per_minute}


RpmOption = Annotated[int | None, typer.Option(
    "--rpm", min=1, help="Requests per minute, shared by all the account's keys.")]
TpmOption = Annotated[int | None, typer.Option(
    "--tpm", min=1, help="Tokens per minute, shared by all the account's keys.")]


@accounts_app.command("create")
@handle_errors
def create(
    name: Annotated[str, typer.Argument(help="Unique account name.")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "user",
    engagement: Annotated[str | None, typer.Option(help="Red-team engagement name.")] = None,
    engagement_until: Annotated[str | None, typer.Option(
        help="End of the engagement, ISO 8601 with a time zone.")] = None,
    rpm: RpmOption = None,
    tpm: TpmOption = None,
    db: DbOption = None,
) -> None:
    """Create an account."""
    until = None
    if engagement_until is not None:
        try:
            until = datetime.fromisoformat(engagement_until)
        except ValueError as exc:
            raise InputError(f"--engagement-until {engagement_until!r} is not ISO 8601; use "
                             "e.g. 2030-01-31T00:00:00+00:00") from exc
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; use one of {list(ROLES)}")
    with account_store(db) as store:
        info = store.create_account(name, role, engagement=engagement,
                                    engagement_until=until, requests_per_minute=rpm,
                                    tokens_per_minute=tpm)
    console.print(f"created account {info.id} ({safe_text(info.name)}, {info.role})")


@accounts_app.command("limits")
@handle_errors
def limits(account: Annotated[str, typer.Argument(help="Account id or name.")],
           rpm: RpmOption = None, tpm: TpmOption = None, db: DbOption = None) -> None:
    """Set the limits all the account's keys share (omit one to clear it)."""
    with account_store(db) as store:
        info = store.set_limits(account, requests_per_minute=rpm, tokens_per_minute=tpm)
    console.print(f"account {info.id}: {rpm or 'no'} requests and {tpm or 'no'} tokens per "
                  "minute (all keys together)")


@accounts_app.command("list")
@handle_errors
def list_accounts(db: DbOption = None) -> None:
    """List accounts as JSON."""
    with account_store(db) as store:
        print_json([_as_json(a) for a in store.accounts()])


@accounts_app.command("show")
@handle_errors
def show(account: Annotated[str, typer.Argument(help="Account id or name.")],
         db: DbOption = None) -> None:
    """Show an account and its active keys."""
    with account_store(db) as store:
        data = _as_json(store.account(account))
        data["keys"] = [{"id": k.id, "prefix": k.prefix} for k in store.keys(account)]
    print_json(data)


@accounts_app.command("suspend")
@handle_errors
def suspend(account: Annotated[str, typer.Argument(help="Account id or name.")],
            reason: Annotated[str, typer.Option("--reason", help="Shown to the caller.")],
            db: DbOption = None) -> None:
    """Suspend an account: every key gets 403 with the reason."""
    with account_store(db) as store:
        info = store.set_status(account, "suspended", reason, by="cli")
    console.print(f"suspended {info.id}")


@accounts_app.command("reinstate")
@handle_errors
def reinstate(account: Annotated[str, typer.Argument(help="Account id or name.")],
              redis_url: Annotated[str | None, typer.Option(
                  "--redis-url", help="The gateway's Redis, to clear the account's strikes "
                  "(in-memory strikes clear when the gateway restarts).")] = None,
              db: DbOption = None) -> None:
    """Reinstate a suspended account (and clear its strikes when --redis-url is given)."""
    with account_store(db) as store:
        info = store.set_status(account, "active", None, by="cli")
    if redis_url:
        asyncio.run(_reset(redis_url, info.id))
    console.print(f"reinstated {info.id}")


async def _reset(url: str, account_id: str) -> None:
    store = RedisStrikeStore(url)
    try:
        await store.reset(account_id)
    finally:
        await store.close()


def register(app: typer.Typer) -> None:
    """Add ``bastion accounts`` to the main app."""
    app.add_typer(accounts_app, name="accounts")
