"""Does fitting the policy reader on more development policies help? Decided on development
data only (the blind half is never read here).

Compares, for each reader C the card step tries, two readers scored policy by policy:

* **dev only**: fitted on ``bench/custom_policies/dev`` (what the card step fits), scored on
  each dev policy left out in turn, and on each ``extra`` policy it never saw;
* **dev + extra**: fitted on both folders, every policy left out in turn.

A policy added to the reader's training is kept only if the second is better on both groups.
Needs the training extra (scikit-learn). Results go to ``bench/results/reader_additions.json``.

    python bench/reader_additions.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bastion.classify._onnx import load_model
from bastion.training._calibrate import (
    READER_C,
    fit_reader,
    leave_one_out,
    policy_sets,
    reader_f1,
)

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "bench" / "custom_policies"
RESULTS = ROOT / "bench" / "results" / "reader_additions.json"


def main() -> None:
    model = load_model()
    dev = policy_sets(model, POLICIES / "dev")
    extra = policy_sets(model, POLICIES / "extra")
    both = {**dev, **extra}
    runs = {}
    for c in READER_C:
        alone = leave_one_out(dev, c)
        coef, bias = fit_reader(dev, c)
        for name, (x, y) in extra.items():
            alone[name] = reader_f1(x @ coef + bias, y)
        together = leave_one_out(both, c)
        runs[str(c)] = {
            reader: {group: round(statistics.mean(f1[k] for k in names), 4)
                     for group, names in (("dev", dev), ("extra", extra))}
            for reader, f1 in (("dev_only", alone), ("dev_plus_extra", together))}
    out = {"command": "python bench/reader_additions.py", "metric": "macro F1 per group, each "
           "policy scored by a reader not fitted on it (logit >= 0)", "by_C": runs}
    RESULTS.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
