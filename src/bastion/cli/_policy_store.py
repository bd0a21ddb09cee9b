"""``bastion policy push|versions|diff|publish|compare``: policy versions in the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bastion.classify import get_classifier
from bastion.cli._common import console, err_console, handle_errors, print_json, safe_text
from bastion.cli._keys import DbOption
from bastion.cli._policy import EXIT_LINT_FAILED, policy_app
from bastion.errors import InputError, PolicyLintError
from bastion.policy.store import Comparison, PolicyStore, read_rows
from bastion.store import close_store, open_store

ByOption = Annotated[str, typer.Option("--by", help="Who is acting (recorded and audited).")]
PolicyArg = Annotated[str, typer.Argument(help="Policy id (the front matter's 'id').")]


@contextmanager
def policy_store(db: str | None) -> Iterator[PolicyStore]:
    """The policy store of ``db``, its connections closed afterwards."""
    sessions = open_store(db)
    try:
        yield PolicyStore(sessions)
    finally:
        close_store(sessions)


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}; give a UTF-8 policy file") from exc


@policy_app.command("push")
@handle_errors
def push_command(
    file: Annotated[Path, typer.Argument(help="Policy file (.md) to save as a new version.")],
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    tests: Annotated[Path | None, typer.Option(
        help="Labelled JSONL ({text, label, category}) to attach as the test set.")] = None,
    by: ByOption = "cli",
    db: DbOption = None,
) -> None:
    """Lint a policy file and save it as the next draft version (nothing is published)."""
    text = _read(file)
    with policy_store(db) as store:
        if tests is not None:
            read_rows(tests)  # refuse a bad test set before anything is saved
        try:
            version, warnings = store.save(text, author=by, message=message)
        except PolicyLintError as exc:
            for issue in exc.issues:
                err_console.print(safe_text(issue.render(str(file)), limit=None), soft_wrap=True,
                                  style="red" if issue.severity == "error" else "yellow")
            err_console.print("nothing saved: fix the errors and push again")
            raise typer.Exit(EXIT_LINT_FAILED) from exc
        for issue in warnings:
            err_console.print(safe_text(issue.render(str(file)), limit=None), soft_wrap=True,
                              style="yellow")
        if tests is not None:
            count = store.attach_tests(version.policy_id, _read(tests), by=by)
            console.print(f"attached {count} labelled rows to {version.policy_id}")
    console.print(f"saved {version.policy_id} v{version.number} ({version.state}, "
                  f"{len(warnings)} warnings); publish it with 'bastion policy publish "
                  f"{version.policy_id} {version.number} --reason ...'")


@policy_app.command("versions")
@handle_errors
def versions_command(policy: PolicyArg, as_json: Annotated[bool, typer.Option(
        "--json", help="Print JSON.")] = False, db: DbOption = None) -> None:
    """List the saved versions of a policy, newest first; '*' marks the published one."""
    with policy_store(db) as store:
        versions = store.versions(policy)
        live = store.heads().get(policy)
    if not versions:
        raise InputError(f"policy {policy!r} has no saved versions; save one with 'bastion "
                         "policy push FILE'")
    if as_json:
        print_json([{"number": v.number, "state": v.state, "live": live is not None and
                     live.version_id == v.id, "author": v.author, "message": v.message,
                     "created_at": v.created_at.isoformat(), "content_hash": v.content_hash}
                    for v in versions])
        return
    table = Table("", "version", "state", "author", "saved", "hash", "message",
                  title=f"{policy} versions")
    for v in versions:
        mark = "*" if live is not None and live.version_id == v.id else ""
        table.add_row(mark, str(v.number), v.state, safe_text(v.author),
                      v.created_at.strftime("%Y-%m-%d %H:%M"), v.content_hash[:12],
                      safe_text(v.message, limit=60))
    console.print(table)


@policy_app.command("diff")
@handle_errors
def diff_command(
    policy: PolicyArg,
    old: Annotated[int, typer.Argument(help="Older version number.")],
    new: Annotated[int | None, typer.Argument(help="Newer version (default: the newest).")] = None,
    db: DbOption = None,
) -> None:
    """Print the unified diff between two versions of a policy."""
    with policy_store(db) as store:
        if new is None:
            latest = store.latest(policy)
            new = latest.number if latest is not None else old
        diff = store.diff(policy, old, new)
    console.print(safe_text(diff, limit=None) if diff else "(no difference)", soft_wrap=True)


@policy_app.command("publish")
@handle_errors
def publish_command(
    policy: PolicyArg,
    version: Annotated[int, typer.Argument(help="Version to make live (older = rollback).")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (audited).")],
    by: ByOption = "cli",
    db: DbOption = None,
) -> None:
    """Publish a version: running gateways pick it up without a restart."""
    with policy_store(db) as store:
        head = store.publish(policy, version, by=by, reason=reason)
    console.print(f"published {policy} v{head.number} (publish #{head.serial}); gateways load "
                  "it at their next policy check")


@policy_app.command("compare")
@handle_errors
def compare_command(
    policy: PolicyArg,
    version: Annotated[int | None, typer.Argument(help="Draft version (default: newest).")] = None,
    tier: Annotated[str, typer.Option("--tier", "-t", help="Classifier tier.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Run the policy's test set on a version and on the published one, side by side."""
    with policy_store(db) as store:
        if version is None:
            latest = store.latest(policy)
            if latest is None:
                raise InputError(f"policy {policy!r} has no saved versions; push one first")
            version = latest.number
        result = store.compare(policy, version, get_classifier(tier), tier=tier)
    if as_json:
        print_json(result.to_dict())
        return
    _print_comparison(policy, result)


def _print_comparison(policy: str, result: Comparison) -> None:
    live = result.published
    label = "shipped" if live is not None and live.number is None else (
        f"v{live.number}" if live is not None else "none")
    table = Table("category", f"P {label}", f"P v{result.draft.number}", f"R {label}",
                  f"R v{result.draft.number}", f"F1 {label}", f"F1 v{result.draft.number}",
                  title=f"{policy}: {result.draft.rows} rows ({result.sources}), tier "
                        f"{result.draft.tier}")
    for code in result.codes():
        new = result.draft.scores.get(code)
        old = live.scores.get(code) if live is not None else None
        cells = []
        for field in ("precision", "recall", "f1"):
            cells += [_cell(old, field), _cell(new, field)]
        table.add_row(code, *cells)
    console.print(table)
    console.print("the policy's own examples are read by the few-shot tiers, so their rows "
                  "flatter both versions; attached and shipped rows are the measurement")


def _cell(scores: object, field: str) -> str:
    value = getattr(scores, field, None)
    return "-" if value is None else f"{value:.3f}"
