"""``bastion monitor``: replay a recorded stream through the detectors, write a synthetic day,
list incidents and acknowledge or resolve them (audited)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from bastion.cli._audit import existing_log
from bastion.cli._common import console, err_console, handle_errors, print_json, safe_text
from bastion.cli._keys import DbOption
from bastion.errors import InputError
from bastion.monitor import (
    AuditLog,
    Incident,
    IncidentStore,
    LiveMonitor,
    StoreTail,
    Watcher,
    Webhook,
    read_jsonl,
    replay,
    write_jsonl,
)
from bastion.monitor._webhook import SECRET_ENV
from bastion.store import close_store, open_store

monitor_app = typer.Typer(help="Detectors, alerts and incidents.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ByOption = Annotated[str, typer.Option("--by", help="Who is acting (recorded in the audit log).")]
SettingsOption = Annotated[Path | None, typer.Option(
    "--settings", help="YAML mapping detector names to settings ('name: null' turns one off).",
    dir_okay=False)]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (required, audited).")]


def _settings(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"detector settings {str(path)!r} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"detector settings {str(path)!r} must map detector names to "
                         "settings, e.g. 'block-rate: {k: 5}'")
    return data


def _table(incidents: list[Incident]) -> Table:
    table = Table(show_lines=False)
    for column in ("incident", "status", "severity", "title", "accounts", "alerts"):
        table.add_column(column, overflow="fold")
    for incident in incidents:
        accounts = ", ".join(incident.accounts[:3]) + (" ..." if len(incident.accounts) > 3
                                                        else "")
        table.add_row(incident.id, incident.status, incident.severity,
                      safe_text(incident.title, 70), accounts, str(len(incident.alerts)))
    return table


@monitor_app.command("replay")
@handle_errors
def replay_command(
    events: Annotated[Path, typer.Argument(help="Recorded events, JSON Lines (one event a "
                                                "line, oldest first).", dir_okay=False)],
    settings: SettingsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a recorded event stream through the detectors and print the incidents."""
    result = replay(read_jsonl(events), Watcher(settings=_settings(settings)))
    if as_json:
        print_json({"events": result.events, "alerts": len(result.alerts),
                    "incidents": [i.to_json() for i in result.incidents]})
        return
    console.print(_table(list(result.incidents)))
    console.print(f"{result.events} events, {len(result.alerts)} alerts, "
                  f"{len(result.incidents)} incidents")


@monitor_app.command("generate")
@handle_errors
def generate(
    out: Annotated[Path, typer.Argument(help="Where to write the JSON Lines.", dir_okay=False)],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (a day per seed).")] = 0,
    events: Annotated[int, typer.Option("--events", help="About how many events.")] = 110_000,
) -> None:
    """Write a synthetic day of traffic with injected incidents (for trying the detectors)."""
    from bastion.monitor._synthetic import synthetic_day  # noqa: PLC0415 - loads numpy

    day = synthetic_day(seed, events=events)
    count = write_jsonl(day.events, out)
    console.print(f"{count} events written to {out}")
    for injection in day.injections:
        console.print(f"  injected {injection.name}: {injection.kind}")


@monitor_app.command("watch")
@handle_errors
def watch(
    db: DbOption = None,
    settings: SettingsOption = None,
    webhook_url: Annotated[str | None, typer.Option(
        "--webhook-url", help="Post new and updated incidents here (signed with "
                              f"${SECRET_ENV}).")] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls.",
                                            min=0.1)] = 1.0,
    from_start: Annotated[bool, typer.Option("--from-start", help="Watch every event stored, "
                                                                  "with the detectors started "
                                                                  "cold.")] = False,
    once: Annotated[bool, typer.Option("--once", help="Watch what is stored now, then "
                                                      "stop.")] = False,
) -> None:
    """Run the detectors over the events every gateway worker stores (one watcher for all).

    Set the gateway's monitor.detect to false when several workers share a database, and run
    this once beside them. A restarted watcher resumes from the last one's saved detector
    state and position, so events stored while it was stopped are watched too.
    """
    with existing_log(db):
        pass  # refuses a database that does not exist instead of creating an empty one
    sessions = open_store(db)
    webhook = Webhook.from_env(webhook_url) if webhook_url else None
    log = AuditLog.from_env(sessions)
    log.check_key()  # before watching: an incident it could not file would be lost
    live = LiveMonitor(sessions, audit=log, webhook=webhook,
                       watcher=Watcher(settings=_settings(settings)), resume=not from_start)
    tail = StoreTail(live, from_start=from_start)
    try:
        while True:
            while tail.poll():
                pass
            if once:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            open_now = len(live.incidents.incidents())
        finally:
            live.close()
            close_store(sessions)
    console.print(f"watched up to event {tail.position}; {open_now} incident(s) open")


@contextmanager
def _incidents(db: str | None) -> Iterator[IncidentStore]:
    with existing_log(db):
        pass  # refuses a database that does not exist instead of creating an empty one
    sessions = open_store(db)
    try:
        yield IncidentStore(sessions)
    finally:
        close_store(sessions)


@monitor_app.command("incidents")
@handle_errors
def incidents(
    every: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    account: Annotated[str | None, typer.Option("--account", help="Only those naming this "
                                                                   "account id.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List open and acknowledged incidents, newest activity first."""
    with _incidents(db) as store:
        found = store.incidents(None if every else ("open", "acknowledged"), account=account)
    if as_json:
        print_json([i.to_json() for i in found])
    elif found:
        console.print(_table(found))
    else:
        err_console.print("no incidents")


def _act(incident: str, action: str, *, by: str, reason: str, db: str | None) -> None:
    with _incidents(db) as store:
        move = store.acknowledge if action == "acknowledged" else store.resolve
        done = move(incident, by=by, reason=reason)
    console.print(f"{done.id} {action} by {by}")


@monitor_app.command("ack")
@handle_errors
def ack(incident: Annotated[str, typer.Argument(help="The incident id (inc_...).")],
        reason: ReasonOption, by: ByOption = "cli", db: DbOption = None) -> None:
    """Acknowledge an open incident (audited)."""
    _act(incident, "acknowledged", by=by, reason=reason, db=db)


@monitor_app.command("resolve")
@handle_errors
def resolve(incident: Annotated[str, typer.Argument(help="The incident id (inc_...).")],
            reason: ReasonOption, by: ByOption = "cli", db: DbOption = None) -> None:
    """Resolve an incident (audited); later alerts open a new one."""
    _act(incident, "resolved", by=by, reason=reason, db=db)


def register(app: typer.Typer) -> None:
    """Add ``bastion monitor`` to the main app."""
    app.add_typer(monitor_app, name="monitor")
