"""``bastion users``: bootstrap and manage web app users (passwords never on the command line)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bastion.cli._common import console, handle_errors
from bastion.cli._keys import DbOption
from bastion.errors import InputError
from bastion.store import close_store, open_store

users_app = typer.Typer(help="Manage web app users.", no_args_is_help=True)


def read_password(stdin: bool) -> str:
    """A new password: the first line of stdin, or typed twice at a hidden prompt.

    Raises:
        InputError: stdin was empty.
    """
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("no password on stdin; pipe one line, e.g. from a secrets "
                             "manager, or drop --password-stdin to be prompted")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create-admin")
@handle_errors
def create_admin(
    username: Annotated[str, typer.Argument(help="The admin's username.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
    db: DbOption = None,
) -> None:
    """Create an admin user; the password is prompted for (or read from stdin), never argv."""
    from bastion.web import UserStore  # noqa: PLC0415 - keep ``bastion --help`` light

    password = read_password(password_stdin)
    sessions = open_store(db)
    try:
        user = UserStore(sessions).create(username, "admin", password=password, by="cli")
    finally:
        close_store(sessions)
    console.print(f"admin {user.username!r} created ({user.id}); log in at /login")


def register(app: typer.Typer) -> None:
    """Add ``bastion users`` to the main app."""
    app.add_typer(users_app, name="users")
