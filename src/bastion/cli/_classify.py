"""``bastion classify``: classify one text (or stdin) and show the verdict."""

from __future__ import annotations

import sys
from importlib import resources
from typing import Annotated

import typer

from bastion.classify import classify as run_classify
from bastion.cli._common import console, handle_errors, print_json, verdict_table
from bastion.cli._options import PolicyOption, TierOption
from bastion.errors import InputError


@handle_errors
def classify_command(
    text: Annotated[list[str], typer.Argument(
        help="Text(s) to classify; '-' reads stdin, one text per non-empty line.")],
    policy: PolicyOption = "default",
    tier: TierOption = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print verdicts as JSON.")] = False,
) -> None:
    """Classify text against a policy and print the verdict."""
    texts = [line for t in text
             for line in ([x for x in sys.stdin.read().splitlines() if x.strip()]
                          if t == "-" else [t])]
    if not any(t.strip() for t in texts):
        raise InputError("nothing to classify: the text is empty")
    verdicts = run_classify(texts, policy, tier=tier)
    if as_json:
        print_json([v.to_dict() for v in verdicts])
    else:
        console.print(verdict_table(texts, verdicts))
    if any(v.is_error for v in verdicts):
        raise typer.Exit(3)


@handle_errors
def demo_command(
    policy: PolicyOption = "default",
    tier: TierOption = "default",
) -> None:
    """Classify the sample texts shipped with Bastion and print a table of verdicts."""
    samples = resources.files("bastion.samples").joinpath("texts.txt").read_text("utf-8")
    texts = [line for line in samples.splitlines() if line.strip()]
    verdicts = run_classify(texts, policy, tier=tier)
    console.print(verdict_table(texts, verdicts))
    counts = {k: sum(v.kind == k for v in verdicts) for k in ("violation", "safe", "error")}
    console.print(f"policy {verdicts[0].policy.id} v{verdicts[0].policy.version} "
                  f"({verdicts[0].policy.hash[:12]}), tier {tier}: "
                  + ", ".join(f"{n} {k}" for k, n in counts.items()))


def register(app: typer.Typer) -> None:
    """Add the command to the main app."""
    app.command("classify")(classify_command)
    app.command("demo")(demo_command)
