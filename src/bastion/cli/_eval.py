"""``bastion eval``: classify a labelled file and report precision, recall, F1 and AUPRC."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bastion.classify import get_classifier
from bastion.cli._common import console, handle_errors, print_json, safe_text
from bastion.cli._options import (
    BatchSizeOption,
    InputArgument,
    PolicyOption,
    QuietOption,
    TextFieldOption,
    TierOption,
    batch_progress,
    flowed_help,
)
from bastion.evaluation._plot import plot_pr, require_matplotlib
from bastion.evaluation._report import EvalReport, evaluate
from bastion.evaluation._run import RunSettings, collect_outcomes
from bastion.policy import load_policy

_TEXT_COLUMNS = {"metric", "note", "category", "code", "name"}


def _num(value: float | None) -> Text:
    return Text("-" if value is None else f"{value:.4f}")


def _table(title: str, columns: Iterable[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in _TEXT_COLUMNS else "right")
    return table


def _overview(report: EvalReport) -> Table:
    scores = report.scores
    table = _table("metrics", ("metric", "value", "note"))
    for name in ("precision", "recall", "f1", "fpr", "auprc"):
        table.add_row(name, _num(getattr(scores, name)))
    how = ("the policy's lowest category threshold; each category used its own"
           if report.threshold_source == "policy" else "--threshold, on the verdict score")
    table.add_row("threshold", _num(scores.threshold), how)
    table.add_row("errors", Text(str(report.errors)), "counted as unsafe (fail closed)")
    return table


def _sweep(report: EvalReport) -> Table:
    table = _table("threshold sweep (verdict score >= threshold)",
                   ("threshold", "precision", "recall", "f1", "fpr"))
    for row in report.sweep:
        table.add_row(Text(f"{row.threshold:.2f}"), _num(row.precision), _num(row.recall),
                      _num(row.f1), _num(row.fpr))
    return table


def _per_category(report: EvalReport) -> Table:
    table = _table("per policy category", ("code", "name", "thresh", "flagged", "precision",
                                           "rows", "unsafe", "recall"))
    table.caption = ("flagged: rows where the category was violated; rows, unsafe: rows (and "
                     "unsafe rows) whose category names this code")
    for c in report.per_category:
        table.add_row(Text(c.code), safe_text(c.name, 40), Text(f"{c.threshold:.2f}"),
                      Text(str(c.predicted)), _num(c.precision), Text(str(c.rows)),
                      Text(str(c.positives)), _num(c.recall))
    return table


def _per_source(report: EvalReport) -> Table:
    table = _table("per source category (recall and fpr of the overall prediction)",
                   ("category", "code", "rows", "unsafe", "recall", "fpr", "errors"))
    for s in report.per_source_category:
        table.add_row(safe_text(s.category, 60), Text(s.code or "-"), Text(str(s.n)),
                      Text(str(s.positives)), _num(s.recall), _num(s.fpr), Text(str(s.errors)))
    return table


def _print_report(report: EvalReport) -> None:
    ref = report.policy
    console.print(Text(f"policy {ref.id} {ref.version} ({ref.hash[:12]}), tier {report.tier}: "
                       f"{report.scores.n} rows, {report.scores.positives} labelled unsafe"))
    console.print(_overview(report))
    console.print(_sweep(report))
    console.print(_per_category(report))
    if report.per_source_category:
        console.print(_per_source(report))


@handle_errors
def eval_command(
    source: InputArgument,
    policy: PolicyOption = "default",
    tier: TierOption = "default",
    text_field: TextFieldOption = "text",
    label_field: Annotated[str, typer.Option(
        "--label-field", help="Field holding the label: 0/1, true/false or safe/unsafe.")
    ] = "label",
    category_field: Annotated[str, typer.Option(
        "--category-field", help="Optional field naming each row's category, for "
        "per-category figures.")] = "category",
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="Predict unsafe when the verdict score reaches "
        "this, instead of using the policy's category thresholds.")] = None,
    batch_size: BatchSizeOption = 256,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Draw the precision-recall curve to this PNG file.")] = None,
    quiet: QuietOption = False,
) -> None:
    """Measure a classifier tier on a labelled file.

    A row is predicted unsafe when its verdict is a violation (or, with --threshold, when its
    score reaches the threshold). Error verdicts count as unsafe (fail closed) and are
    reported. Without --threshold the reported threshold is the policy's lowest category
    threshold; the JSON lists every category's under 'category_thresholds'.
    """
    if plot is not None:
        require_matplotlib()
    loaded = load_policy(policy)
    get_classifier(tier)
    settings = RunSettings(source, loaded, tier, text_field, batch_size=batch_size)
    with batch_progress(source, "evaluating", quiet=quiet) as advance:
        outcomes = collect_outcomes(settings, label_field, category_field, advance)
    report = evaluate(outcomes, loaded, tier, threshold)
    if plot is not None:
        plot_pr(report, plot)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def register(app: typer.Typer) -> None:
    """Add the command to the main app."""
    app.command("eval", help=flowed_help(eval_command.__doc__))(eval_command)
