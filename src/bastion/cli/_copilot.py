"""``bastion copilot``: triage incidents, confirm or reject proposed actions, digest threat
reports, scan code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bastion.accounts import AccountStore
from bastion.cli._common import console, handle_errors, print_json, safe_text
from bastion.cli._keys import DbOption
from bastion.errors import InputError

if TYPE_CHECKING:
    from bastion.copilot import IncidentLike

copilot_app = typer.Typer(help="The defender's co-pilot: triage, confirmed actions, threat "
                          "intel, code scanning.", no_args_is_help=True)

TargetUrlOption = Annotated[str | None, typer.Option(
    "--target-url", envvar="BASTION_FINDINGS_TARGET_URL",
    help="The gateway's or model's /v1 root that start_regression_campaign re-tests fixed "
    "findings against.")]
TargetKindOption = Annotated[str, typer.Option(
    "--target", envvar="BASTION_FINDINGS_TARGET",
    help="'gateway' (a Bastion gateway: its blocks count as refusals) or 'openai'.")]
FindingTargetOption = Annotated[str, typer.Option(
    "--finding-target", envvar="BASTION_COPILOT_FINDING_TARGET",
    help="The system open_finding files findings against (developers who own it see them).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def _desk(db: str | None, *, target_url: str | None = None, target: str = "gateway",
          finding_target: str = "gateway") -> Iterator[object]:
    """An action desk whose playbooks act on the store of ``db`` (accounts, policies,
    findings, the monitor's incidents), every change in one audit log."""
    from bastion.copilot import ActionContext, ActionDesk, RegressionTarget  # noqa: PLC0415
    from bastion.copilot._monitor import from_monitor  # noqa: PLC0415
    from bastion.findings import FindingStore  # noqa: PLC0415
    from bastion.monitor import IncidentStore  # noqa: PLC0415
    from bastion.policy.store import PolicyStore  # noqa: PLC0415
    from bastion.store import close_store, open_store  # noqa: PLC0415

    if target not in ("gateway", "openai"):
        raise InputError(f"--target {target!r} is not known; use 'gateway' or 'openai'")
    sessions = open_store(db)
    try:
        accounts = AccountStore(sessions)
        incidents = IncidentStore(sessions, audit=accounts.audit)
        context = ActionContext(
            accounts, policies=PolicyStore(sessions, audit=accounts.audit),
            findings=FindingStore(sessions, audit=accounts.audit),
            incident=lambda ref: from_monitor(incidents.incident(ref)),
            regression=None if target_url is None else RegressionTarget(
                target_url, "gateway" if target == "gateway" else "openai"),
            finding_target=finding_target)
        yield ActionDesk(sessions, context)
    finally:
        close_store(sessions)


def _load_incident(ref: str, db: str | None) -> IncidentLike:
    """An incident from a JSON file, or the monitor's incident with this id."""
    from bastion.copilot import Incident  # noqa: PLC0415

    path = Path(ref)
    if not path.is_file():
        return _monitor_incident(ref, db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read incident file {ref!r}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InputError(f"incident file {ref!r} is not JSON: {exc}") from exc
    return Incident.from_dict(data)


def _monitor_incident(ref: str, db: str | None) -> IncidentLike:
    from bastion.copilot._monitor import from_monitor  # noqa: PLC0415
    from bastion.monitor import IncidentStore  # noqa: PLC0415
    from bastion.store import close_store, open_store  # noqa: PLC0415

    if not ref.startswith("inc_"):
        raise InputError(f"{ref!r} is neither an incident JSON file nor a monitor incident id "
                         "(inc_...); list incidents with 'bastion monitor incidents'")
    sessions = open_store(db)
    try:
        return from_monitor(IncidentStore(sessions).incident(ref))
    finally:
        close_store(sessions)


@copilot_app.command("triage")
@handle_errors
def triage(
    incident: Annotated[str, typer.Argument(help="A monitor incident id (inc_...) or an "
                                            "incident JSON file {id, title, alerts: [...]}.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Group, rank and explain an incident's alerts and store the proposed actions."""
    from bastion.copilot import ActionDesk, Triager, writer_from_env  # noqa: PLC0415

    result = Triager(writer_from_env()).triage(_load_incident(incident, db))
    with _desk(db) as desk:
        assert isinstance(desk, ActionDesk)
        proposals = desk.store(result.incident_id, result.drafts)
    if as_json:
        print_json({**result.to_json(), "proposals": [p.to_json() for p in proposals]})
        return
    console.print(safe_text(f"incident {result.incident_id}: {result.title}", None))
    console.print(safe_text(f"[{result.summary.mode}] {result.summary.text}", None))
    table = Table("alert", "kind", "severity", "account", "category", "events", "score", "group")
    for r in result.ranked:
        a = r.alert
        table.add_row(safe_text(a.id, 40), a.kind, a.severity, safe_text(a.account_id or "-", 40),
                      a.category or "-", str(a.count), f"{r.score:.2f}", str(r.group))
    console.print(table)
    actions = Table("proposal", "action", "why")
    for p in proposals:
        actions.add_row(p.id, safe_text(p.title, 60), safe_text(p.rationale, None))
    console.print(actions)
    console.print("confirm one with: bastion copilot confirm PROPOSAL --by NAME --reason TEXT")


@copilot_app.command("confirm")
@handle_errors
def confirm(
    proposal: Annotated[str, typer.Argument(help="The proposal id (from 'triage').")],
    by: Annotated[str, typer.Option("--by", help="Who confirms (recorded in the audit log).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
    target_url: TargetUrlOption = None,
    target: TargetKindOption = "gateway",
    finding_target: FindingTargetOption = "gateway",
    db: DbOption = None,
) -> None:
    """Run a proposed action now that a person confirms it (audited)."""
    from bastion.copilot import ActionDesk  # noqa: PLC0415

    with _desk(db, target_url=target_url, target=target,
               finding_target=finding_target) as desk:
        assert isinstance(desk, ActionDesk)
        done = desk.confirm(proposal, by=by, reason=reason)
    summary = (done.proposal.result or {}).get("summary", "done")
    console.print(safe_text(f"{done.proposal.id}: {summary}", None))
    if done.secret:
        console.print("new API key (shown once; store it now, it cannot be shown again):")
        typer.echo(done.secret)


@copilot_app.command("reject")
@handle_errors
def reject(
    proposal: Annotated[str, typer.Argument(help="The proposal id (from 'triage').")],
    by: Annotated[str, typer.Option("--by", help="Who rejects it.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    db: DbOption = None,
) -> None:
    """Close a proposed action without running it (audited)."""
    from bastion.copilot import ActionDesk  # noqa: PLC0415

    with _desk(db) as desk:
        assert isinstance(desk, ActionDesk)
        desk.reject(proposal, by=by, reason=reason)
    console.print(f"rejected {proposal}")


@copilot_app.command("digest")
@handle_errors
def digest_report(
    report: Annotated[Path, typer.Argument(help="Report: .txt, .md, .pdf or STIX 2.1 .json.")],
    cases: Annotated[Path | None, typer.Option(
        "--cases", help="Write the proposed red-team cases here (for the cases_file probe).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Digest a threat report: indicators, MITRE ATLAS techniques, summary, proposed probes."""
    from bastion.copilot import digest, read_report_file, writer_from_env  # noqa: PLC0415

    result = digest(read_report_file(report), writer_from_env())
    if cases is not None:
        cases.write_text(json.dumps([c.to_dict() for c in result.cases], indent=2) + "\n",
                         encoding="utf-8")
    if as_json:
        print_json(result.to_json())
        return
    console.print(safe_text(f"[{result.summary.mode}] {result.summary.text}", None))
    table = Table("kind", "indicators")
    for kind, values in result.indicators_by_kind().items():
        table.add_row(kind, safe_text(", ".join(values), 300))
    console.print(table)
    techniques = Table("ATLAS id", "technique", "tactics", "matched")
    for t in result.techniques:
        techniques.add_row(t.id, t.name, ", ".join(t.tactics), safe_text(", ".join(t.matched)))
    console.print(techniques)
    console.print(f"probes to run: {', '.join(result.probes) or 'none'}; proposed cases: "
                  f"{len(result.cases)}" + (f" (written to {cases})" if cases else ""))
    console.print("technique names: MITRE ATLAS, Apache-2.0")


@copilot_app.command("scan-code")
@handle_errors
def scan_code_command(
    path: Annotated[Path, typer.Argument(help="Repository folder or Python file.")],
    min_score: Annotated[float, typer.Option(
        "--min-score", min=0.0, help="Hide findings scoring below this (1.4 was best on the "
        "bench's dev pairs).")] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Scan code with Bandit and Semgrep (local rules); ranked findings with patches."""
    from bastion.copilot import scan_code, writer_from_env  # noqa: PLC0415

    report = scan_code(path, writer=writer_from_env(), min_score=min_score)
    if as_json:
        print_json(report.to_json())
        return
    for name, why in report.skipped:
        console.print(safe_text(f"skipped {name}: {why}", None))
    console.print(f"{report.files} file(s), scanners: {', '.join(report.scanners)}, "
                  f"{len(report.findings)} finding(s)")
    for f in report.findings:
        console.print(safe_text(f"\n{f.score:.2f}  {f.path}:{f.line}  "
                                f"{'CWE-' + str(f.cwe) if f.cwe else ''}  "
                                f"({', '.join(f.tools)})", None))
        console.print(safe_text(f.explanation.text, None))
        console.print(safe_text(f.context, None))
        if f.patch:
            console.print(safe_text(f.patch, None))


def register(app: typer.Typer) -> None:
    """Add ``bastion copilot`` to the main app."""
    app.add_typer(copilot_app, name="copilot")
