"""``bastion policy``: list, show, lint and test policies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bastion.classify import Verdict, get_classifier
from bastion.cli._common import console, err_console, handle_errors, print_json, safe_text
from bastion.policy import (
    Policy,
    builtin_path,
    builtin_policies,
    builtin_testset,
    lint_policy,
    load_policy,
)
from bastion.policy.store import LabelledRow, category_scores, example_rows, read_rows

policy_app = typer.Typer(help="List, lint and test policies; save, diff and publish versions.",
                        no_args_is_help=True)

EXIT_LINT_FAILED = 1


@policy_app.command("list")
@handle_errors
def list_command() -> None:
    """List the built-in policies."""
    table = Table("id", "version", "categories", "title", "hash")
    for policy_id in builtin_policies():
        policy = load_policy(policy_id)
        codes = ", ".join(c.code for c in policy.categories)
        table.add_row(policy.id, policy.version, codes, policy.title, policy.hash[:12])
    console.print(table)


@policy_app.command("show")
@handle_errors
def show_command(policy: Annotated[str, typer.Argument(help="Built-in id or .md path.")]) -> None:
    """Print a policy file."""
    loaded = load_policy(policy)
    console.print(safe_text(Path(loaded.source).read_text("utf-8"), limit=None))


@policy_app.command("lint")
@handle_errors
def lint_command(
    files: Annotated[list[str], typer.Argument(help="Policy files (or built-in ids).")],
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
) -> None:
    """Check policy files: structure, keys, codes, thresholds, rules and examples."""
    failed = False
    for spec in files:
        issues = lint_policy(spec)
        source = spec if spec.endswith(".md") else str(builtin_path(spec))
        for issue in issues:
            style = "red" if issue.severity == "error" else "yellow"
            err_console.print(safe_text(issue.render(source), limit=None), style=style,
                              soft_wrap=True)
        if any(i.severity == "error" or strict for i in issues):
            failed = True
        else:
            console.print(f"{source}: ok ({len(issues)} warnings)")
    if failed:
        raise typer.Exit(EXIT_LINT_FAILED)


@policy_app.command("test")
@handle_errors
def run_policy_tests(
    policy: Annotated[str, typer.Argument(help="Built-in id or .md path.")],
    data: Annotated[list[Path] | None, typer.Option(
        "--data", "-d", help="Labelled JSONL ({text, label, category}); repeatable.")] = None,
    tier: Annotated[str, typer.Option("--tier", "-t", help=(
        "Classifier tier: default, rules, embedded, minilm, llm, cascade."))] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    show_misses: Annotated[bool, typer.Option(help="List misclassified rows.")] = False,
) -> None:
    """Run a policy's own examples (plus labelled data) and print P / R / F1 per category."""
    loaded = load_policy(policy)
    files = list(data or [])
    shipped = builtin_testset(policy) if not policy.endswith(".md") else None
    if shipped is not None and not data:
        files.append(shipped)
    classifier = get_classifier(tier)
    measured: dict[str, tuple[list[LabelledRow], list[Verdict]]] = {}
    tested = [row for path in files for row in read_rows(path)]
    for name, rows in (("test rows", tested), ("examples", example_rows(loaded))):
        if rows:
            measured[name] = (rows, classifier.classify([r.text for r in rows], loaded))
    results = {name: {code: s.to_dict() for code, s in
                      category_scores(loaded, rows, verdicts).items()}
               for name, (rows, verdicts) in measured.items()}
    if as_json:
        print_json({"policy": loaded.id, "version": loaded.version, "hash": loaded.hash,
                    "tier": tier, "files": [str(f) for f in files],
                    "rows": {n: len(r) for n, (r, _) in measured.items()},
                    "errors": {n: sum(v.is_error for v in vs) for n, (_, vs) in measured.items()},
                    "scores": results.get("test rows", {}),
                    "examples": results.get("examples", {})})
        return
    for name, scores in results.items():
        note = ("the policy's own Examples: the model reads them, so these figures are not a "
                "measurement" if name == "examples" else "labelled data: " +
                ", ".join(str(f) for f in files))
        _print_scores(loaded, f"{name}, {len(measured[name][0])} rows, tier {tier}", scores)
        console.print(note)
    if show_misses:
        for rows, verdicts in measured.values():
            for row, verdict in zip(rows, verdicts, strict=True):
                if int(verdict.kind != "safe") != row.label:
                    console.print(safe_text(f"miss label={row.label} got={verdict.kind} "
                                            f"score={verdict.score:.2f}: {row.text}"))


def _print_scores(policy: Policy, title: str, results: dict[str, dict[str, object]]) -> None:
    table = Table("category", "n+", "precision", "recall", "f1", "auprc",
                  title=f"{policy.id} v{policy.version} ({title})")
    for code, score in results.items():
        auprc = score["auprc"]
        table.add_row(code, str(score["positives"]), f"{score['precision']:.3f}",
                      f"{score['recall']:.3f}", f"{score['f1']:.3f}",
                      "-" if auprc is None else f"{auprc:.3f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``policy`` group (with its store commands) to the main app."""
    from bastion.cli import _policy_store  # noqa: F401, PLC0415 - adds its commands to policy_app

    app.add_typer(policy_app, name="policy")
