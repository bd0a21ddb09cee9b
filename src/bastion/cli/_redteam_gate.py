"""``bastion redteam gate`` and ``compare``: a campaign log against limits, or against a
baseline run's log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bastion.cli._common import console, err_console, handle_errors, print_json, safe_text
from bastion.cli._redteam_report import load
from bastion.errors import ConfigError
from bastion.redteam import Attempt, check, compare, load_thresholds, summarise
from bastion.redteam.reports import target_line

EXIT_GATE_FAILED = 1


@handle_errors
def gate_command(
    log: Annotated[Path, typer.Argument(help="Campaign log (JSONL).")],
    max_asr: Annotated[float | None, typer.Option("--max-asr", min=0.0, max=1.0, help=(
        "Highest overall attack success rate allowed, 0 to 1, e.g. 0.05."))] = None,
    thresholds: Annotated[Path | None, typer.Option("--thresholds", help=(
        "YAML file of limits: overall, max_error_rate, min_judged, and per category, owasp, "
        "atlas, probe, converter or strategy.")) ] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        "--max-error-rate", min=0.0, max=1.0, help=(
            "Most attempts (as a share) that may error or go unjudged (default 0, or the "
            "thresholds file's max_error_rate)."))] = None,
    min_judged: Annotated[int | None, typer.Option("--min-judged", min=0, help=(
        "Fewest judged attempts for the gate to pass (default 1, or the thresholds file's "
        "min_judged)."))] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help=(
        "A past run's log: fail on successes it did not have (new ones); still-open ones "
        "do not fail the gate."))] = None,
) -> None:
    """Exit 1 when attack success, errors or missing evidence exceed the limits (fail closed)."""
    if max_asr is None and thresholds is None and baseline is None:
        raise ConfigError("give --max-asr, --thresholds or --baseline")
    header, attempts = load(log)
    new = _new_successes(header, attempts, baseline)
    limits: dict[str, object] = load_thresholds(thresholds) if thresholds else {}
    if max_asr is not None:
        limits["overall"] = max_asr
    if max_error_rate is not None:
        limits["max_error_rate"] = max_error_rate
    if min_judged is not None:
        limits["min_judged"] = min_judged
    planned = header.get("attempts")
    breaches = check(summarise(attempts), limits, attempts,
                     planned if isinstance(planned, int) else None)
    for breach in breaches:
        err_console.print(safe_text(f"FAIL {breach.render()}", None), style="bold red")
    if breaches or new:
        raise typer.Exit(EXIT_GATE_FAILED)
    console.print(Text(f"gate passed: {len(attempts)} attempts within limits", style="green"))


def _against(header: dict[str, Any], baseline: Path) -> list[Attempt]:
    """The baseline's attempts, saying when it attacked another target: comparing two models
    is a use, but a baseline picked by mistake makes every success look still open or new."""
    before, attempts = load(baseline)
    now, then = target_line(header), target_line(before)
    if now != then:
        err_console.print(safe_text(f"note: the baseline attacked another target ({then}; this "
                                    f"run: {now})", 400), style="yellow")
    return attempts


def _new_successes(header: dict[str, Any], attempts: list[Attempt],
                   baseline: Path | None) -> list[Attempt]:
    if baseline is None:
        return []
    comparison = compare(attempts, _against(header, baseline))
    for attempt in comparison.new:
        err_console.print(safe_text(f"NEW {attempt.case.id} ({attempt.strategy}, "
                                    f"{attempt.converter_label}): {attempt.reason}", 200),
                          style="bold red")
    err_console.print(Text(f"baseline: {len(comparison.new)} new, "
                           f"{len(comparison.still_open)} still open, "
                           f"{len(comparison.fixed)} fixed, "
                           f"{len(comparison.unverified)} unverified"))
    return list(comparison.new)


@handle_errors
def compare_command(
    log: Annotated[Path, typer.Argument(help="Campaign log (JSONL).")],
    baseline: Annotated[Path, typer.Argument(help="The baseline run's log.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Successes that are new, fixed, still open or unverified against a baseline run."""
    header, attempts = load(log)
    comparison = compare(attempts, _against(header, baseline))
    if as_json:
        print_json(comparison.to_dict())
        return
    table = Table("status", "case", "strategy", "converters", title="against the baseline")
    for status in ("new", "still_open", "fixed", "unverified"):
        for attempt in getattr(comparison, status):
            table.add_row(status, safe_text(attempt.case.id, 60),
                          safe_text(attempt.strategy, 40), safe_text(attempt.converter_label, 60))
    console.print(table)
