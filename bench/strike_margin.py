"""Which blocks are borderline: the choice of ``abuse.uncertain_margin``.

Usage::

    python scripts/train_classifier.py prepare   # once: the training table and its splits
    python bench/strike_margin.py [--table build/train/fit-input/table.jsonl.gz]

Reads the contextual classifier's *validation* split (rows labelled for the general harm
head; at most ``--rows``, a seeded sample), classifies each with the default policy and the
default tier, and for every violation records its margin: how far the violated category's
score is above its threshold (the largest, over the violated categories). For each candidate
margin it counts the share of false positives (benign rows) and of true violations under it;
the margin chosen is the one with the widest gap between the two shares (Youden's J), ties
to the smaller margin. Validation figures, not blind ones. Results go to
``bench/results/strike_margin.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

from bastion.accounts import margin
from bastion.classify import get_classifier
from bastion.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "strike_margin.json"
CANDIDATES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def validation_rows(table: Path, limit: int) -> list[tuple[str, int]]:
    """(text, harmful) of the validation rows labelled for the harm head, a seeded sample."""
    rows = []
    with gzip.open(table, "rt", encoding="utf-8") as handle:
        next(handle)  # the heads line
        for line in handle:
            row = json.loads(line)
            if row["split"] == "val" and row["labels"][0] != -1:
                rows.append((str(row["text"]), int(row["labels"][0])))
    random.Random(1).shuffle(rows)
    return rows[:limit]


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path,
                        default=ROOT / "build" / "train" / "fit-input" / "table.jsonl.gz")
    parser.add_argument("--rows", type=int, default=4000)
    args = parser.parse_args()
    if not args.table.exists():
        print(f"no training table at {args.table}; run "
              "'python scripts/train_classifier.py prepare' first", file=sys.stderr)
        return 2
    rows = validation_rows(args.table, args.rows)
    verdicts = get_classifier("default").classify([t for t, _ in rows], load_policy("default"))
    margins: dict[int, list[float]] = {0: [], 1: []}
    for (_, harmful), verdict in zip(rows, verdicts, strict=True):
        if verdict.kind == "violation":
            margins[harmful].append(margin(verdict))
    true, false = margins[1], margins[0]
    grid = [{"margin": m, "false_positives_under": round(sum(x < m for x in false)
                                                         / max(1, len(false)), 4),
             "true_violations_under": round(sum(x < m for x in true) / max(1, len(true)), 4)}
            for m in CANDIDATES]
    chosen = max(grid, key=lambda g: (g["false_positives_under"] - g["true_violations_under"],
                                      -g["margin"]))
    result = {"command": "python bench/strike_margin.py", "set": "classifier validation split",
              "rows": len(rows), "violations": len(true) + len(false),
              "true_violations": len(true), "false_positives": len(false),
              "criterion": "largest false_positives_under - true_violations_under",
              "chosen": chosen, "grid": grid}
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
