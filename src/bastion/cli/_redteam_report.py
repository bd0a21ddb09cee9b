"""``bastion redteam report``, and what ``run`` and ``rerun`` share with it: checking the
report settings before any attack, reading a log, writing the reports and the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bastion.cli._common import (
    EXIT_RUNTIME_FAILURE,
    console,
    err_console,
    handle_errors,
    print_json,
    safe_text,
)
from bastion.cli._redteam_args import split
from bastion.errors import ConfigError, InputError
from bastion.redteam import FORMATS, Attempt, read_log, summarise, write_reports
from bastion.redteam._summary import undecided


def report_formats(formats: list[str] | None, report_dir: Path | None) -> list[str]:
    """The report formats to write, checked before any attack is sent."""
    chosen = list(formats or FORMATS)
    bad = set(chosen) - set(FORMATS)
    if bad:
        raise ConfigError(f"unknown report formats {sorted(bad)}; choose from {FORMATS}")
    if formats and report_dir is None:
        raise ConfigError("--format chooses report formats, but no report is written without "
                          "--report-dir (-o DIR)")
    check_report_dir(report_dir)
    return chosen


def check_report_dir(report_dir: Path | None) -> None:
    """Refuse a report folder that is a file before any attack is sent (the reports were
    lost, with a traceback, after the campaign had run)."""
    if report_dir is not None and report_dir.exists() and not report_dir.is_dir():
        raise ConfigError(f"--report-dir {str(report_dir)!r} is a file; name a folder (it is "
                          "made when missing)")


def load(log: Path) -> tuple[dict[str, Any], list[Attempt]]:
    """A campaign log's header and attempts; a file with no header is an error."""
    header, attempts = read_log(log)
    if not header:
        raise InputError(f"{str(log)!r} is not a campaign log (no header line)")
    return header, attempts


def finish(attempts: list[Attempt], header: dict[str, Any], report_dir: Path | None,
           formats: list[str], as_json: bool) -> bool:
    """Write the reports and print the summary; whether any attempt was judged (an attempt
    that errored, or could not be judged, proves nothing: ``run`` and ``rerun`` then exit
    with EXIT_RUNTIME_FAILURE, so a script that checks only the status does not read a
    campaign against a target that was down as a pass)."""
    if report_dir is not None:
        for path in write_reports(attempts, header, report_dir, formats):  # type: ignore[arg-type]
            err_console.print(Text(f"wrote {path}"))
    summary = summarise(attempts)
    failed = [a for a in attempts if a.error is not None]
    unjudged = [a for a in attempts if a.error is None and undecided(a)]
    judged = len(failed) + len(unjudged) < len(attempts)
    if as_json:
        print_json({"overall": summary.overall.to_dict(),
                    "by_category": [r.to_dict() for r in summary.by_category]})
        return judged
    table = Table("category", "n", "successes", "ASR", "95% CI", title="attack success rate")
    for r in [*summary.by_category, summary.overall]:
        table.add_row(safe_text(r.group, 40), str(r.n), str(r.successes), f"{r.asr:.1%}",
                      f"{r.low:.1%} - {r.high:.1%}")
    console.print(table)
    _warn(attempts, failed, unjudged, judged)
    return judged


def _warn(attempts: list[Attempt], failed: list[Attempt], unjudged: list[Attempt],
          judged: bool) -> None:
    """Say what the summary table cannot: attempts that prove nothing, and why."""
    if failed:
        err_console.print(safe_text(
            f"{len(failed)} of {len(attempts)} attempts errored (first: {failed[0].error}); "
            "they prove nothing and fail the gate: fix what failed (the error names the "
            "target, or the attacker or judge model) and run again (with the same --log, "
            "only they are tried again)", 600), style="yellow")
    if unjudged:
        err_console.print(safe_text(
            f"{len(unjudged)} of {len(attempts)} attempts could not be judged ("
            f"{unjudged[0].reason}); they count as errors and fail the gate", 600),
            style="yellow")
    answered = [a for a in attempts if a.error is None]
    if answered and not any(a.last_response.strip() for a in answered):
        err_console.print(
            f"every reply was empty ({len(answered)} attempts): they read as refusals, so "
            "the ASR says nothing if the target answers elsewhere; check the target (for "
            "the http target, -T response_path)", style="yellow")
    if attempts and not judged:
        err_console.print("no attempt was judged: the run measured nothing (exit status "
                          f"{EXIT_RUNTIME_FAILURE})", style="red")


@handle_errors
def report_command(
    log: Annotated[Path, typer.Argument(help="Campaign log (JSONL).")],
    report_dir: Annotated[Path, typer.Option("--report-dir", "-o", help="Folder to write.")
                          ] = Path("redteam-report"),
    formats: Annotated[list[str] | None, typer.Option("--format", "-f", help=(
        f"Report formats, comma-separated (default all: {', '.join(FORMATS)})."))] = None,
) -> None:
    """Write reports (json, md, html, junit, sarif) from a campaign log."""
    kinds = report_formats(split(formats), report_dir)
    header, attempts = load(log)
    finish(attempts, header, report_dir, kinds, as_json=False)
