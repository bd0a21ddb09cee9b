"""Shared CLI plumbing: consoles, safe rendering of hostile text, errors to exit codes."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bastion.classify import Verdict
from bastion.errors import BastionError, RuntimeFailure, UserError

P = ParamSpec("P")
R = TypeVar("R")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_USER_ERROR = 2
EXIT_RUNTIME_FAILURE = 3

# Control, bidi-override and invisible characters could rewrite a terminal or hide text; show
# them as visible escapes instead.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069"
                     r"\ufeff\U000e0000-\U000e007f]")


def safe_text(text: str, limit: int | None = 120) -> Text:
    """Adversarial text made safe for a terminal: no markup, no control or bidi characters."""
    shown = _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return Text(shown)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Bastion errors into a one-line message and an exit code (2 user, 3 runtime)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            err_console.print(Text(f"error: {exc}", style="bold red"), soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from exc
        except RuntimeFailure as exc:
            err_console.print(Text(f"failure: {exc}", style="bold red"), soft_wrap=True)
            raise typer.Exit(EXIT_RUNTIME_FAILURE) from exc
        except BastionError as exc:  # pragma: no cover - every error is one of the two above
            err_console.print(Text(f"error: {exc}", style="bold red"), soft_wrap=True)
            raise typer.Exit(1) from exc

    return wrapper


def print_json(data: Any) -> None:
    """Print JSON to stdout without Rich markup processing."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


_KIND_STYLE = {"safe": "green", "violation": "bold red", "error": "bold magenta"}


def verdict_table(texts: Sequence[str], verdicts: Sequence[Verdict]) -> Table:
    """A table of verdicts: text, decision (kind, action, score), rules, tier, rationale.

    Short facts share a cell so the table stays readable at 80 columns; the two free-text
    columns share the width that is left.
    """
    table = Table(show_lines=True)
    table.add_column("text", overflow="fold", ratio=2, min_width=16)
    table.add_column("verdict", no_wrap=True)
    table.add_column("rules", overflow="fold", max_width=12)
    table.add_column("tier", no_wrap=True)
    table.add_column("rationale", overflow="fold", ratio=3, min_width=16)
    for text, verdict in zip(texts, verdicts, strict=True):
        decision = Text(verdict.kind, style=_KIND_STYLE[verdict.kind])
        decision.append(f"\n{verdict.action} {verdict.score:.2f}", style="default")
        table.add_row(
            safe_text(text, 60),
            decision,
            ", ".join(verdict.rule_ids) or "-",
            f"{verdict.tier}\n{_duration(verdict.latency_ms)}",
            safe_text(verdict.rationale, 160),
        )
    return table


def _duration(ms: float) -> str:
    """A latency in at most 8 characters, so the table's layout does not depend on it."""
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"
