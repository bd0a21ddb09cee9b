"""``bastion audit``: verify the hash chain, show recent events.

Both commands read an existing gateway database and never create one: pointed at the wrong
place, they say which database they read instead of reporting on a fresh, empty log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bastion.cli._common import console, err_console, handle_errors, print_json
from bastion.cli._keys import DbOption
from bastion.errors import InputError, RuntimeFailure
from bastion.monitor import ANCHOR_ENV, KEY_ENV, AuditLog, FileAnchor, audit_key
from bastion.store import DATABASE_URL_ENV, AuditEvent, make_engine

audit_app = typer.Typer(help="Inspect and verify the audit log.", no_args_is_help=True)

_HOW = (f"pass --db or set {DATABASE_URL_ENV} to the gateway's database, "
        "e.g. 'sqlite:///gw.db' or 'postgresql://user@host/db'")


@contextmanager
def existing_log(db: str | None) -> Iterator[tuple[sessionmaker[Session], str]]:
    """Sessions on an existing database that holds an audit log, and its URL for messages.

    Raises:
        InputError: the SQLite file does not exist, or the database has no audit table.
        RuntimeFailure: the database cannot be reached.
    """
    engine = make_engine(db)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        if engine.dialect.name == "sqlite" and not _is_file(engine.url.database):
            path = str(Path(str(engine.url.database)).resolve())
            raise InputError(f"no audit log at {shown!r} ({_source(db)}): the file {path!r} "
                             f"does not exist; {_HOW}")
        try:
            has_log = inspect(engine).has_table(AuditEvent.__tablename__)
        except SQLAlchemyError as exc:
            raise RuntimeFailure(f"cannot read database {shown!r}: {type(exc).__name__}; "
                                 "check that it is running and reachable") from exc
        if not has_log:
            raise InputError(f"database {shown!r} holds no audit log (no "
                             f"{AuditEvent.__tablename__!r} table); {_HOW}")
        yield sessionmaker(engine, expire_on_commit=False), shown
    finally:
        engine.dispose()


def _is_file(path: str | None) -> bool:
    return bool(path) and path != ":memory:" and Path(str(path)).is_file()


def _source(db: str | None) -> str:
    if db:
        return "--db"
    return f"${DATABASE_URL_ENV}" if os.environ.get(DATABASE_URL_ENV) else "the default"


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


AnchorOption = Annotated[Path | None, typer.Option(
    "--anchor", envvar=ANCHOR_ENV, help="The checkpoint file the gateway writes "
    "(audit.anchor_path).", dir_okay=False)]
KeyEnvOption = Annotated[str, typer.Option(
    "--key-env", help="The environment variable holding the audit key.")]
UnkeyedOption = Annotated[bool, typer.Option(
    "--allow-unkeyed", help="Exit 0 for an intact chain that is neither keyed nor anchored "
    "(it proves nothing against someone with database write access).")]
#: Exit status of an intact log that nothing vouches for (neither keyed nor anchored).
UNVERIFIED = 3


@audit_app.command("verify")
@handle_errors
def verify(db: DbOption = None, anchor: AnchorOption = None, key_env: KeyEnvOption = KEY_ENV,
           unkeyed: UnkeyedOption = False) -> None:
    """Check every event's hash, the chain, the HMACs and the anchor; exit 1 on any break.

    An empty log also exits 1: there is nothing to vouch for. A database that does not exist
    or holds no audit log is an error (exit 2); verify never creates one. A log neither keyed
    nor anchored exits 3 even when its chain is intact: someone with write access to the
    database can rewrite it and recompute every hash, so an intact chain proves nothing
    (``--allow-unkeyed`` accepts that, exit 0).
    """
    key = audit_key(key_env)
    if anchor is not None and not anchor.exists():
        raise InputError(f"anchor file {str(anchor)!r} does not exist; pass the file named "
                         "by the gateway's audit.anchor_path")
    with existing_log(db) as (sessions, shown):
        log = AuditLog(sessions, key=key, anchor=FileAnchor(anchor, key) if anchor else None)
        report = log.verify()
    if report.ok and report.events:
        console.print(f"audit log OK: {_events(report.events)}, head {report.head_seq} "
                      f"({shown})" + (", keyed" if report.keyed else "")
                      + (f", {report.checkpoints} checkpoints" if anchor else ""))
        if not report.keyed and anchor is None:
            err_console.print(f"{'warning' if unkeyed else 'UNVERIFIED'}: neither keyed "
                              f"(${key_env}) nor anchored (--anchor), so a rewrite by someone "
                              "with database write access would pass; set the gateway's "
                              f"${key_env} or audit.anchor_path and verify with it"
                              + ("" if unkeyed else " (--allow-unkeyed exits 0)"))
            if not unkeyed:
                raise typer.Exit(UNVERIFIED)
        elif anchor is None:
            err_console.print("warning: keyed but not anchored (--anchor): the newest events "
                              "could have been cut off and an earlier signed head put back, "
                              "which the key alone cannot see; set the gateway's "
                              "audit.anchor_path and verify with --anchor")
        if anchor is not None and not report.checkpoints:
            err_console.print(f"warning: the anchor {str(anchor)!r} holds no checkpoint, so it "
                              "vouches for none of these events: if a gateway wrote them with "
                              "this anchor, the file was emptied or replaced")
        return
    if report.ok:
        err_console.print(f"audit log EMPTY: no events in {shown}; nothing to verify")
        raise typer.Exit(1)
    for problem in report.problems:
        err_console.print(f"event {problem.seq}: {problem.message}")
    err_console.print(f"audit log BROKEN: {len(report.problems)} problem(s) in "
                      f"{_events(report.events)} ({shown})")
    raise typer.Exit(1)


@audit_app.command("tail")
@handle_errors
def tail(count: Annotated[int, typer.Option("-n", help="How many events.")] = 20,
         db: DbOption = None) -> None:
    """Print the newest events as JSON."""
    with existing_log(db) as (sessions, _):
        log = AuditLog(sessions)
        print_json(log.events(after=max(0, log.count() - count)))


def register(app: typer.Typer) -> None:
    """Add ``bastion audit`` to the main app."""
    app.add_typer(audit_app, name="audit")
