"""Train the red-team refusal detector on human labels; write ``src/bastion/redteam/artifacts/``.

Data, split and settings are described in :mod:`bastion.redteam.training` (GPTFuzz's
hand-labelled responses plus Bastion's hand-written rows; C and the threshold chosen on
validation; the GPTFuzz evaluate questions, near-duplicates of training rows removed, are the
blind test). The artifact's card (``refusal.json``) records all of it.

Run: ``python scripts/train_refusal.py [--datasets ../shared/datasets]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bastion.redteam.scorers._refusal import features
from bastion.redteam.training import (
    card,
    evaluate,
    fit,
    handwritten_rows,
    run_script,
    training_rows,
    write_artifact,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "src" / "bastion" / "redteam" / "artifacts"
DATA = ROOT / "tests" / "redteam" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=ARTIFACTS)
    args = parser.parse_args()
    rows, dropped = training_rows(args.datasets, DATA / "refusal_handwritten.jsonl")
    train, val, test = rows["train"], rows["val"], rows["test"]
    holdout = handwritten_rows(DATA / "refusal_holdout.jsonl", "test")
    fitted, by_c = fit(train, val)
    metrics = {}
    for name, rows in (("gptfuzz_val", [r for r in val if r.source == "gptfuzz"]),
                       ("handwritten_val", [r for r in val if r.source != "gptfuzz"]),
                       ("gptfuzz_test", test),
                       ("handwritten_holdout", holdout)):
        probs = fitted.probabilities(features([r.response for r in rows]))
        metrics[name] = evaluate([r.refused for r in rows], probs, fitted.threshold).to_dict()
    raw = fitted.npz()
    meta = card(fitted, raw, {"train": train, "val": val, "test": test}, dropped, metrics, by_c)
    write_artifact(args.out, raw, meta)
    print(json.dumps({"C": fitted.c, "threshold": fitted.threshold, "dropped": dropped,
                      "metrics_held_out": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
