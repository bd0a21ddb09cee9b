"""``bastion audit``: verify the hash chain, show recent events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._common import console, err_console, handle_errors, print_json
from bastion.cli._keys import DbOption
from bastion.errors import InputError
from bastion.monitor import ANCHOR_ENV, KEY_ENV, AuditLog, FileAnchor, audit_key
from bastion.store import close_store, open_store

audit_app = typer.Typer(help="Inspect and verify the audit log.", no_args_is_help=True)


AnchorOption = Annotated[Path | None, typer.Option(
    "--anchor", envvar=ANCHOR_ENV, help="The checkpoint file the gateway writes "
    "(audit.anchor_path).", dir_okay=False)]
KeyEnvOption = Annotated[str, typer.Option(
    "--key-env", help="The environment variable holding the audit key.")]


@audit_app.command("verify")
@handle_errors
def verify(db: DbOption = None, anchor: AnchorOption = None, key_env: KeyEnvOption = KEY_ENV,
           ) -> None:
    """Check every event's hash, the chain, the HMACs and the anchor; exit 1 on any break."""
    key = audit_key(key_env)
    if anchor is not None and not anchor.exists():
        raise InputError(f"anchor file {str(anchor)!r} does not exist; pass the file named "
                         "by the gateway's audit.anchor_path")
    sessions = open_store(db)
    try:
        log = AuditLog(sessions, key=key, anchor=FileAnchor(anchor, key) if anchor else None)
        report = log.verify()
    finally:
        close_store(sessions)
    if report.ok:
        console.print(f"audit log OK: {report.events} events, head {report.head_seq}"
                      + (", keyed" if report.keyed else "")
                      + (f", {report.checkpoints} checkpoints" if anchor else ""))
        if not report.keyed and anchor is None:
            err_console.print(f"warning: neither keyed (${key_env}) nor anchored (--anchor): "
                              "a rewrite by someone with database write access would pass")
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
