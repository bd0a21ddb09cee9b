"""``bastion scan``: classify every row of a JSONL, CSV or Parquet file, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bastion.classify import get_classifier
from bastion.cli._common import EXIT_RUNTIME_FAILURE, err_console, handle_errors
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
from bastion.errors import InputError
from bastion.evaluation._data import STDIN, data_format, jsonl_appender
from bastion.evaluation._run import (
    ResumePoint,
    RunSettings,
    ScanStats,
    finish_output,
    prepare_output,
    run_scan,
    staging_path,
)
from bastion.policy import load_policy

EXIT_INTERRUPTED = 130

def _summary(stats: ScanStats, output: str) -> Table:
    table = Table(title="scan summary", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("rows classified", f"{stats.rows:,}")
    if stats.skipped:
        table.add_row("rows skipped (already in the output)", f"{stats.skipped:,}")
    table.add_row("violations", f"{stats.violations:,}")
    for code, count in sorted(stats.by_category.items()):
        table.add_row(Text(f"  {code}"), f"{count:,}")
    table.add_row("errors", f"{stats.errors:,}")
    table.add_row("speed", f"{stats.rate:,.1f} texts/s ({stats.seconds:.1f} s)")
    table.add_row("output", Text("stdout" if output == STDIN else output))
    return table


def _output_point(output: str, source: str, *, resume: bool, overwrite: bool) -> ResumePoint:
    if output == STDIN:
        if resume:
            raise InputError("--resume needs an output file; add -o OUTPUT.jsonl")
        return ResumePoint()
    data_format(output)
    return prepare_output(Path(output), source, resume=resume, overwrite=overwrite)


def _scan_to(output: str, settings: RunSettings, point: ResumePoint, *, quiet: bool) -> ScanStats:
    sink_path = output if output == STDIN else str(staging_path(Path(output)))
    try:
        with batch_progress(settings.source, "scanning", quiet=quiet) as advance, \
                jsonl_appender(sink_path) as sink:
            stats = run_scan(settings, sink, point, advance)
    except KeyboardInterrupt:
        message = "interrupted" if output == STDIN else (
            f"interrupted; rows written so far stay in {sink_path!r}; run the same command "
            "with --resume to continue")
        err_console.print(Text(message, style="yellow"))
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if output != STDIN:
        finish_output(Path(output))
    return stats


@handle_errors
def scan_command(
    source: InputArgument,
    output: Annotated[str, typer.Option(
        "--output", "-o", help="Output .jsonl, .csv or .parquet file; '-' (default) is JSONL "
        "on stdout.")] = STDIN,
    policy: PolicyOption = "default",
    tier: TierOption = "default",
    text_field: TextFieldOption = "text",
    id_field: Annotated[str, typer.Option(
        "--id-field", help="Field copied to the output's 'id'; rows without it get their "
        "row number.")] = "id",
    batch_size: BatchSizeOption = 256,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue an interrupted scan: skip the rows already in OUTPUT.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace OUTPUT if it exists.")] = False,
    keep_text: Annotated[bool, typer.Option(
        "--keep-text", help="Copy each row's text into the output.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Classify every row of a file and write one verdict row per input row.

    Output is written and flushed batch by batch, so an interrupted scan loses at most one
    batch; run it again with --resume to continue. Exit code 3 when any row got an error
    verdict.
    """
    settings = RunSettings(source, load_policy(policy), tier, text_field, id_field, batch_size,
                           keep_text)
    get_classifier(tier)  # an unknown tier fails before the output is touched
    point = _output_point(output, source, resume=resume, overwrite=overwrite)
    stats = _scan_to(output, settings, point, quiet=quiet)
    if not quiet:
        err_console.print(_summary(stats, output))
    if stats.errors:
        rows = "1 row" if stats.errors == 1 else f"{stats.errors:,} rows"
        err_console.print(Text(
            f"{rows} got error verdicts (kind 'error', see the 'error' column; the first: "
            f"{stats.first_error}); exit code {EXIT_RUNTIME_FAILURE}", style="bold red"),
            soft_wrap=True)
        raise typer.Exit(EXIT_RUNTIME_FAILURE)


def register(app: typer.Typer) -> None:
    """Add the command to the main app."""
    app.command("scan", help=flowed_help(scan_command.__doc__))(scan_command)
