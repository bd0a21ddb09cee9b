"""``bastion redteam score``: the refusal or harm scorer on a file of responses, measured
against its labels when it has them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bastion.cli._common import console, handle_errors, print_json, safe_text
from bastion.errors import ConfigError
from bastion.redteam import load_refusal_model
from bastion.redteam._score_file import measure, read_rows, score_rows


@handle_errors
def score_command(
    source: Annotated[Path, typer.Argument(help=(
        "JSONL rows with 'response' (+ 'prompt', 'goal', 'label'); with 'goal' the refusal "
        "scorer reads a response it is unsure about with its request."))],
    scorer: Annotated[str, typer.Option("--scorer", help=(
        "refusal, or harm (what the response adds to its prompt, by response categories)."
    ))] = "refusal",
    policy: Annotated[str, typer.Option("--policy", help=(
        "Policy of the harm scorer: a built-in id or a .md file."))] = "default",
    tier: Annotated[str, typer.Option("--tier", help="Classifier tier of the harm scorer.")
                    ] = "default",
    label_field: Annotated[str, typer.Option("--label-field", help=(
        "Field holding the 0/1 label, when rows are labelled."))] = "label",
    positive: Annotated[str, typer.Option(
        "--positive", help="What label 1 means: 'success' (complied / harmful) or 'refusal'.")
    ] = "success",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score responses; with labels, print precision, recall, F1 and AUPRC (as bastion eval)."""
    if scorer not in ("refusal", "harm") or positive not in ("success", "refusal"):
        raise ConfigError("--scorer must be refusal or harm; --positive success or refusal")
    rows = score_rows(read_rows(source, label_field), scorer,  # type: ignore[arg-type]
                      positive=positive, policy=policy, tier=tier,  # type: ignore[arg-type]
                      label_field=label_field)
    threshold = load_refusal_model().threshold if scorer == "refusal" else 0.5
    labelled = any(r.label is not None for r in rows)
    if as_json:
        print_json(measure(rows, threshold) if labelled else
                   {"n": len(rows), "scores": [r.score for r in rows]})
        return
    table = Table("response", "score", "predicted", "label")
    for row in rows[:50]:
        table.add_row(safe_text(row.response, 80), f"{row.score:.3f}", str(row.predicted),
                      "-" if row.label is None else str(row.label))
    console.print(table)
    if labelled:
        m = measure(rows, threshold)
        console.print(Text(f"n={m['n']} precision={m['precision']:.4f} recall={m['recall']:.4f} "
                           f"f1={m['f1']:.4f} auprc={m['auprc']}"))
