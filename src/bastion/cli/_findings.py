"""``bastion findings``: submit, import, list, triage, dedupe, verify and measure findings, and
refresh their dedupe vectors when the shipped model changes.

Every command works on the database of ``--db`` (or ``$BASTION_DATABASE_URL``); transitions
go into the audit chain keyed by ``$BASTION_AUDIT_KEY`` when it is set, and notifications to
``$BASTION_FINDINGS_WEBHOOK`` (signed with ``$BASTION_FINDINGS_WEBHOOK_SECRET``).
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bastion.classify import embedder_id
from bastion.cli._common import console, err_console, handle_errors, print_json, safe_text
from bastion.cli._keys import DbOption
from bastion.errors import ConfigError, InputError
from bastion.findings import (
    STATES,
    WEBHOOK_SECRET_ENV,
    WEBHOOK_URL_ENV,
    Filters,
    Finding,
    FindingStore,
    Page,
    WebhookNotifier,
    export_probes,
    parse_submission,
    read_findings,
    regress,
    verify,
)
from bastion.monitor import AuditLog
from bastion.store import close_store, open_store
from bastion.taxonomy import load_atlas

findings_app = typer.Typer(help="Findings: submit, import, triage, dedupe, verify, metrics.",
                           no_args_is_help=True)

ActorOption = Annotated[str, typer.Option("--actor", help="Who acts (recorded in the audit "
                                          "log).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AtlasOption = Annotated[str | None, typer.Option(
    "--atlas", help="An ATLAS.yaml to check technique ids against (default: $BASTION_ATLAS or "
    "the table shipped with Bastion).")]


def _notifier() -> WebhookNotifier | None:
    url = os.environ.get(WEBHOOK_URL_ENV)
    if not url:
        return None
    secret = os.environ.get(WEBHOOK_SECRET_ENV)
    if not secret:
        raise ConfigError(f"${WEBHOOK_URL_ENV} is set but ${WEBHOOK_SECRET_ENV} is not; "
                          "webhooks are always signed")
    return WebhookNotifier(url, secret.encode())


@contextmanager
def finding_store(db: str | None, atlas: str | None = None) -> Iterator[FindingStore]:
    """The findings store of ``db``, its connections closed afterwards."""
    sessions = open_store(db)
    notifier = _notifier()
    try:
        yield FindingStore(sessions, audit=AuditLog.from_env(sessions),
                           atlas=load_atlas(atlas), notifier=notifier)
    finally:
        if notifier is not None:
            notifier.close()
        close_store(sessions)


def _load_file(path: Path) -> Any:
    try:
        text = path.read_text("utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read finding file {str(path)!r}: {exc}; give a JSON or "
                         "YAML file with title, target, transcript and severity") from exc


def _plain(data: Any) -> Any:
    """Dataclass dumps made JSON-ready (times as ISO strings)."""
    return json.loads(json.dumps(data, default=lambda v: v.isoformat()
                                 if hasattr(v, "isoformat") else str(v)))


def _finding_json(item: Finding) -> dict[str, Any]:
    data = asdict(item)
    data["transcript"] = list(item.transcript)
    data["overdue"] = item.overdue()
    return dict(_plain(data))


def _print_page(page: Page, as_json: bool) -> None:
    if as_json:
        print_json({"items": _plain([asdict(s) for s in page.items]), "next": page.next})
        return
    table = Table()
    for column in ("id", "severity", "state", "title", "target", "reporter", "due"):
        table.add_column(column)
    for s in page.items:
        due = (s.due_at.strftime("%Y-%m-%d %H:%M") if s.due_at else "-") + \
            (" OVERDUE" if s.overdue else "")
        table.add_row(str(s.id), s.severity, s.state, safe_text(s.title, 60), safe_text(s.target),
                      safe_text(s.reporter), due)
    console.print(table)
    if page.next:
        console.print(f"more: --after {page.next}")


@findings_app.command("submit")
@handle_errors
def submit(
    file: Annotated[Path, typer.Argument(help="The finding as JSON or YAML.")],
    reporter: Annotated[str, typer.Option("--reporter", help="Who reports it.")],
    atlas: AtlasOption = None,
    db: DbOption = None,
) -> None:
    """Submit a finding from a file; prints its id and dedupe candidates."""
    submission = parse_submission(_load_file(file))
    with finding_store(db, atlas) as store:
        item = store.submit(submission, reporter)
        found = store.ranked(item.id)
    console.print(f"finding {item.id} submitted: {item.severity}, state {item.state}")
    for c in found.candidates:
        console.print(f"  possible duplicate of {c.finding_id} (score {c.score:.2f}"
                      f"{', exact' if c.exact else ''})")
    _note_other_model(found.other_model)


def _note_other_model(count: int) -> None:
    if count:
        err_console.print(f"note: {count} earlier finding(s) were not compared: another model "
                          "made their vectors; run 'bastion findings refresh-vectors'")


@findings_app.command("import")
@handle_errors
def import_(
    kind: Annotated[str, typer.Argument(help="campaign, garak, promptfoo or pyrit.")],
    file: Annotated[Path, typer.Argument(help="The result file.")],
    reporter: Annotated[str, typer.Option("--reporter", help="Who imports them.")],
    attempt: Annotated[str | None, typer.Option("--attempt", help="Campaign logs: import "
                       "this one attempt (default: every successful attempt).")] = None,
    target: Annotated[str | None, typer.Option("--target", help="The system attacked "
                      "(default: from the file).")] = None,
    engagement: Annotated[str | None, typer.Option("--engagement", help="The engagement they "
                          "belong to.")] = None,
    db: DbOption = None,
) -> None:
    """Import successful attacks from another tool's result file as findings."""
    options: dict[str, Any] = {"target": target, "engagement": engagement}
    if attempt is not None:
        if kind != "campaign":
            raise InputError("--attempt applies to campaign logs only")
        options["attempt_id"] = attempt
    submissions = read_findings(kind, file, **options)
    if not submissions:
        console.print(f"no successful attack in {file}; nothing imported")
        return
    with finding_store(db) as store:
        found = store.submit_many(submissions, reporter)
    console.print(f"imported {len(found)} finding(s): {', '.join(str(f.id) for f in found)}")


@findings_app.command("list")
@handle_errors
def list_(
    state: Annotated[list[str] | None, typer.Option("--state", help="Only these states "
                     "(repeat).")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Cursor of the next page.")]
    = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows per page (1-500).")] = 50,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List findings, newest first."""
    with finding_store(db) as store:
        page = store.listing(filters=Filters(states=tuple(state or ())), after=after,
                             limit=limit)
    _print_page(page, as_json)


@findings_app.command("queue")
@handle_errors
def queue_(
    after: Annotated[str | None, typer.Option("--after", help="Cursor of the next page.")]
    = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows per page (1-500).")] = 50,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The priority queue: open findings by severity, SLA deadline and age."""
    with finding_store(db) as store:
        page = store.queue(after=after, limit=limit)
    _print_page(page, as_json)


@findings_app.command("show")
@handle_errors
def show(
    finding_id: Annotated[int, typer.Argument(help="The finding.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a finding, its transcript (control characters escaped) and history."""
    with finding_store(db) as store:
        item, history = store.get(finding_id), store.history(finding_id)
    if as_json:
        print_json(_finding_json(item) | {"history": _plain([asdict(h) for h in history])})
        return
    console.print(safe_text(f"#{item.id} {item.title}", None))
    console.print(f"{item.severity} · {item.state} · reporter {item.reporter}"
                  + (" · OVERDUE" if item.overdue() else ""))
    for turn in item.transcript:
        console.print(safe_text(f"[{turn['role']}] {turn['content']}", 2000))
    for h in history:
        console.print(safe_text(f"{h.at:%Y-%m-%d %H:%M} {h.actor}: {h.from_state} -> "
                                f"{h.to_state}: {h.reason}", 300))


@findings_app.command("transition")
@handle_errors
def transition_(
    finding_id: Annotated[int, typer.Argument(help="The finding.")],
    state: Annotated[str, typer.Argument(help=f"The new state: {', '.join(STATES)}.")],
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    duplicate_of: Annotated[int | None, typer.Option("--duplicate-of", help="With "
                            "'duplicate': the earlier finding.")] = None,
    db: DbOption = None,
) -> None:
    """Move a finding through its lifecycle (illegal moves are refused)."""
    with finding_store(db) as store:
        item = store.transition(finding_id, state, actor=actor, reason=reason,
                                duplicate_of=duplicate_of)
    console.print(f"finding {item.id} is now {item.state}")


@findings_app.command("dedupe")
@handle_errors
def dedupe(
    finding_id: Annotated[int, typer.Argument(help="The finding.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Earlier findings that may be the same vulnerability, ranked."""
    with finding_store(db) as store:
        found = store.ranked(finding_id)
    if as_json:
        print_json([asdict(c) for c in found.candidates])
    else:
        if not found.candidates:
            console.print("no duplicate candidates")
        for c in found.candidates:
            console.print(f"{c.finding_id}: score {c.score:.3f} (attack {c.prompt:.3f}, output "
                          f"{c.output:.3f}{', exact transcript' if c.exact else ''})")
    _note_other_model(found.other_model)


@findings_app.command("refresh-vectors")
@handle_errors
def refresh_vectors(
    batch: Annotated[int, typer.Option("--batch", min=1, max=10_000, help="Findings embedded "
                     "per transaction.")] = 256,
    everything: Annotated[bool, typer.Option("--all", help="Every finding's vectors (after "
                          "a release that changes how attacks are read).")] = False,
    db: DbOption = None,
) -> None:
    """Remake the dedupe vectors another model made (after Bastion ships a new model)."""
    with finding_store(db) as store:
        stale = store.vectors_to_refresh(everything=everything)
        if not stale:
            console.print("every finding's vectors were made by the shipped model; nothing "
                          "to refresh")
            return
        with Progress(TextColumn("refreshing vectors"), BarColumn(), MofNCompleteColumn(),
                      console=err_console, transient=True) as progress:
            task = progress.add_task("refresh", total=stale)
            done = store.refresh_vectors(
                batch=batch, everything=everything,
                progress=lambda n: progress.update(task, completed=n))
    console.print(f"refreshed the vectors of {done} finding(s) with model {embedder_id()[:12]}")


@findings_app.command("comment")
@handle_errors
def comment(
    finding_id: Annotated[int, typer.Argument(help="The finding.")],
    text: Annotated[str, typer.Argument(help="The comment; @name mentions are notified.")],
    author: Annotated[str, typer.Option("--author", help="Who writes it.")],
    db: DbOption = None,
) -> None:
    """Comment on a finding."""
    with finding_store(db) as store:
        note = store.comment(finding_id, author, text)
    console.print(f"comment {note.id} added" + (f"; mentioned {', '.join(note.mentions)}"
                                                 if note.mentions else ""))


@findings_app.command("attach")
@handle_errors
def attach(
    finding_id: Annotated[int, typer.Argument(help="The finding.")],
    file: Annotated[Path, typer.Argument(help="The file.")],
    actor: ActorOption,
    media_type: Annotated[str | None, typer.Option("--type", help="Its media type (default: "
                          "from the file name).")] = None,
    db: DbOption = None,
) -> None:
    """Attach a file (text, JSON, PNG, JPEG or PDF; 10 MiB at most)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {str(file)!r}: {exc}") from exc
    kind = media_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    with finding_store(db) as store:
        info = store.attach(finding_id, file.name, kind, data, actor=actor)
    console.print(f"attachment {info.id}: {info.size} bytes, sha256 {info.sha256}")


@findings_app.command("export")
@handle_errors
def export(
    path: Annotated[Path, typer.Argument(help="Where to write the cases (JSON Lines).")],
    finding_id: Annotated[list[int] | None, typer.Option("--id", help="Only these findings "
                          "(repeat; default: every accepted one).")] = None,
    db: DbOption = None,
) -> None:
    """Export accepted findings as red-team cases (probe 'findings', option 'path')."""
    with finding_store(db) as store:
        count = export_probes(store, path, ids=finding_id or ())
    console.print(f"wrote {count} case(s) to {path}; run them with 'bastion redteam run "
                  f"-p findings -P findings.path={path}'")


BaseUrlOption = Annotated[str, typer.Option("--base-url", help="The gateway's or target's "
                                            "OpenAI-compatible /v1 root.")]
ModelOption = Annotated[str | None, typer.Option("--model", help="Model to ask for (default: "
                                                 "the finding's model or target).")]
KeyEnvOption = Annotated[str | None, typer.Option("--api-key-env", help="Environment variable "
                                                  "holding the API key.")]
TargetOption = Annotated[str, typer.Option("--target", help="'gateway' (a Bastion gateway: its "
                                           "blocks count as refusals) or 'openai' (any "
                                           "OpenAI-compatible endpoint).")]


def _target(name: str) -> str:
    if name not in ("gateway", "openai"):
        raise InputError(f"--target {name!r} is not known; use 'gateway' or 'openai'")
    return name


def _print_results(results: list[Any], as_json: bool) -> None:
    if as_json:
        print_json([asdict(r) for r in results])
        return
    for r in results:
        console.print(safe_text(f"finding {r.finding_id}: {r.previous_state} -> {r.state} "
                                f"({'attack worked' if r.attack_succeeded else 'refused'})",
                                None))


@findings_app.command("verify")
@handle_errors
def verify_(
    finding_id: Annotated[list[int], typer.Argument(help="Fixed findings to verify.")],
    base_url: BaseUrlOption,
    actor: ActorOption = "bastion-verify",
    model: ModelOption = None,
    api_key_env: KeyEnvOption = None,
    target: TargetOption = "gateway",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Re-run findings' probes: refused -> verified, attack works -> regressed."""
    options = {"api_key_env": api_key_env} if api_key_env else {}
    with finding_store(db) as store:
        results = verify(store, finding_id, base_url=base_url, actor=actor, model=model,
                         target=_target(target), options=options)
    _print_results(results, as_json)


@findings_app.command("regress")
@handle_errors
def regress_(
    base_url: BaseUrlOption,
    actor: ActorOption = "bastion-regress",
    model: ModelOption = None,
    api_key_env: KeyEnvOption = None,
    target: TargetOption = "gateway",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The scheduled regression run over every fixed, verified and closed finding.

    Exits 1 when any finding regressed, so a scheduler or CI job notices.
    """
    options = {"api_key_env": api_key_env} if api_key_env else {}
    with finding_store(db) as store:
        results = regress(store, base_url=base_url, actor=actor, model=model,
                          target=_target(target), options=options)
    _print_results(results, as_json)
    if any(r.attack_succeeded for r in results):
        raise typer.Exit(1)


@findings_app.command("own")
@handle_errors
def own(
    developer: Annotated[str, typer.Argument(help="A web user with the developer role.")],
    system: Annotated[str, typer.Argument(help="The system (finding target) they own.")],
    actor: ActorOption = "bastion-cli",
    db: DbOption = None,
) -> None:
    """Let a developer see and fix the findings of a system."""
    from bastion.web import UserStore  # noqa: PLC0415 - the web stack loads only here

    with finding_store(db) as store:
        user = UserStore(store.sessions).find(developer)
        if user is None or user.role != "developer":
            raise InputError(f"{developer!r} is not a web user with the developer role; create "
                             "one with the web app's user admin first")
        store.assign_owner(user.id, system, actor=actor)
        owned = store.owned(user.id)
    console.print(safe_text(f"{developer} owns: {', '.join(owned)}", None))


@findings_app.command("metrics")
@handle_errors
def metrics_(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Time to triage and fix, reopen rate, findings per member and engagement."""
    with finding_store(db) as store:
        figures = store.metrics()
    if as_json:
        print_json(_plain(asdict(figures)))
        return
    console.print(f"findings: {figures.findings}")
    console.print(f"median hours to triage: {figures.median_hours_to_triage}")
    console.print(f"median hours to fix: {figures.median_hours_to_fix}")
    console.print(f"reopen rate: {figures.reopen_rate}")
    for member, counts in figures.per_member.items():
        console.print(safe_text(f"  {member}: {counts}", None))


def register(app: typer.Typer) -> None:
    """Add ``bastion findings`` to the main app."""
    app.add_typer(findings_app, name="findings")
