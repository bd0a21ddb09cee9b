"""``bastion audit``: verify the hash chain, show recent events."""

from __future__ import annotations

from typing import Annotated

import typer

from bastion.cli._common import console, err_console, handle_errors, print_json
from bastion.cli._keys import DbOption
from bastion.monitor import AuditLog
from bastion.store import close_store, open_store

audit_app = typer.Typer(help="Inspect and verify the audit log.", no_args_is_help=True)


@audit_app.command("verify")
@handle_errors
def verify(db: DbOption = None) -> None:
    """Check every event's hash and the chain; exit 1 when anything was edited or removed."""
    sessions = open_store(db)
    try:
        report = AuditLog(sessions).verify()
    finally:
        close_store(sessions)
    if report.ok:
        console.print(f"audit log OK: {report.events} events, head {report.head_seq}")
        return
    for problem in report.problems:
        err_console.print(f"event {problem.seq}: {problem.message}")
    err_console.print(f"audit log BROKEN: {len(report.problems)} problem(s) in "
                      f"{report.events} events")
    raise typer.Exit(1)


@audit_app.command("tail")
@handle_errors
def tail(count: Annotated[int, typer.Option("-n", help="How many events.")] = 20,
         db: DbOption = None) -> None:
    """Print the newest events as JSON."""
    sessions = open_store(db)
    try:
        log = AuditLog(sessions)
        print_json(log.events(after=max(0, log.count() - count)))
    finally:
        close_store(sessions)


def register(app: typer.Typer) -> None:
    """Add ``bastion audit`` to the main app."""
    app.add_typer(audit_app, name="audit")
