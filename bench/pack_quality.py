"""Quality on the built-in policy pack's own labelled test sets (written for Bastion, never
trained on): recall, false-positive rate and F1 per policy, and over all of them.

Usage::

    python bench/pack_quality.py [--tier default|embedded|minilm|cascade-minilm] [--json]

Each ``src/bastion/policy/pack/tests/<id>.jsonl`` is classified with policy ``<id>``; a row is
predicted unsafe when its verdict is a violation. Results are merged into
``bench/results/pack_quality.json`` under the tier name.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bastion.classify import Classifier, get_classifier
from bastion.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
PACK_TESTS = ROOT / "src" / "bastion" / "policy" / "pack" / "tests"
RESULTS = ROOT / "bench" / "results" / "pack_quality.json"


def make_tier(tier: str) -> Classifier:
    """The classifier for a tier name (``cascade-minilm`` escalates the band to MiniLM)."""
    if tier == "cascade-minilm":
        return get_classifier("cascade", deep="minilm")
    return get_classifier(tier)


def counts(classifier: Classifier, path: Path) -> dict[str, int]:
    """Confusion counts of one policy's test set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    verdicts = classifier.classify([r["text"] for r in rows], load_policy(path.stem))
    out = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    for row, verdict in zip(rows, verdicts, strict=True):
        flagged = verdict.kind != "safe"  # errors count as flagged (fail closed)
        key = ("tp" if flagged else "fn") if int(row["label"]) else ("fp" if flagged else "tn")
        out[key] += 1
    return out


def figures(c: dict[str, int]) -> dict[str, Any]:
    """Recall, FPR and F1 from confusion counts."""
    tp, fn, fp, tn = c["tp"], c["fn"], c["fp"], c["tn"]
    return {**c, "n": tp + fn + fp + tn,
            "recall": round(tp / max(1, tp + fn), 4), "fpr": round(fp / max(1, fp + tn), 4),
            "f1": round(2 * tp / max(1, 2 * tp + fn + fp), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Quality on the policy pack's test sets.")
    parser.add_argument("--tier", default="default")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    classifier = make_tier(args.tier)
    per_policy = {p.stem: counts(classifier, p) for p in sorted(PACK_TESTS.glob("*.jsonl"))}
    total = {k: sum(c[k] for c in per_policy.values()) for k in ("tp", "fn", "fp", "tn")}
    report = {"tier": args.tier, "command": f"python bench/pack_quality.py --tier {args.tier}",
              "policies": {k: figures(v) for k, v in per_policy.items()},
              "all": figures(total)}
    merged = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    merged[args.tier] = report
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'policy':18s}{'n':>5s}{'recall':>9s}{'fpr':>8s}{'f1':>8s}")
    for name, row in [*report["policies"].items(), ("ALL", report["all"])]:
        print(f"{name:18s}{row['n']:>5d}{row['recall']:>9.3f}{row['fpr']:>8.3f}{row['f1']:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
