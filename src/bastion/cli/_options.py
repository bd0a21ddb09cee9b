"""Options and helpers shared by several commands."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bastion.cli._common import err_console
from bastion.evaluation._data import count_rows

PolicyOption = Annotated[
    str, typer.Option("--policy", "-p", help="Built-in policy id or path to a policy .md file.")
]
TierOption = Annotated[
    str, typer.Option("--tier", "-t", help="Profile (default: rules + contextual model; fast: "
                      "rules + static embeddings) or tier: rules, embedded, static, minilm, llm, "
                      "cascade.")
]
InputArgument = Annotated[str, typer.Argument(
    metavar="INPUT", help="A .jsonl, .csv or .parquet file; '-' reads JSONL from stdin.")]
TextFieldOption = Annotated[str, typer.Option("--text-field", help="Field holding the text.")]
BatchSizeOption = Annotated[int, typer.Option("--batch-size", min=1,
                                              help="Rows classified (and written) at a time.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q",
                                           help="No progress bar and no summary.")]


@contextmanager
def batch_progress(source: str, label: str, *, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, shown only on a terminal; yields ``advance(rows)``."""
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err_console,
        disable=quiet or not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task(label, total=count_rows(source))
        yield lambda rows: progress.advance(task, rows)


def flowed_help(doc: str | None) -> str:
    """A docstring as help text: paragraphs kept, line breaks inside them removed.

    Typer prints a docstring's line breaks as they are, which wraps badly on a terminal.
    """
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)
