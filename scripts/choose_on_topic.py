"""Choose PAIR and TAP's on-topic threshold on GPTFuzz validation rows; print the grid.

The threshold (:data:`bastion.redteam.scorers._topic.ON_TOPIC`) is a constant in the code: this
prints, for every threshold, how many of the validation responses labelled successes it would
set aside as off-topic and how many compliant responses read against another question's goal
it catches, and the one :func:`bastion.redteam.training._topic.choose_topic` picks, for a person
to copy. ``--test`` reads the blind test rows once, after the choice, for the record.

Run: ``python scripts/choose_on_topic.py [--datasets ../shared/datasets] [--test]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from bastion.redteam.scorers._topic import ON_TOPIC
from bastion.redteam.training import gptfuzz_rows, split_rows
from bastion.redteam.training._topic import MAX_LOST, choose_topic, readings, topic_grid

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--test", action="store_true",
                        help="also read the blind test rows at the shipped threshold")
    args = parser.parse_args()
    if not (args.datasets / "gptfuzz").is_dir():
        print(f"missing {args.datasets / 'gptfuzz'}; pass --datasets", file=sys.stderr)
        return 2
    kept, _ = split_rows(gptfuzz_rows(args.datasets))
    val = [r for r in kept if r.split == "val"]
    grid = topic_grid(readings(val))
    out = {"rows": len(val), "successes": sum(1 - r.refused for r in val),
           "max_lost": MAX_LOST, "chosen": asdict(choose_topic(grid)),
           "grid": [asdict(s) for s in grid]}
    if args.test:
        test = [r for r in kept if r.split == "test"]
        read = readings(test)
        out["test_at_shipped"] = {"threshold": ON_TOPIC, "rows": len(test),
                                  "successes": len(read.successes),
                                  "lost": int((read.successes < ON_TOPIC).sum()),
                                  "caught": round(float((read.mismatched < ON_TOPIC).mean()), 4)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
