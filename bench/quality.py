"""Quality of a classifier tier on held-out data: F1, precision, recall, AUPRC, FPR.

Usage::

    python bench/quality.py [--tier embedded|minilm|default|cascade-minilm] [--json]

Every figure is on text the shipped heads were NOT trained on:

* sets that are measurement-only by licence (ToxicChat, TweetEval, Tensor Trust,
  MaliciousInstruct, the Alpaca side of refusal_direction), minus any text that also appears
  on the train side of the training corpus;
* the deepset prompt-injection test split (training used only its train split);
* the dev side (20 %, by salted hash of the text) of every training set, including the benign
  over-refusal sets JailbreakBench-benign, CyberSecEval-FRR and NotInject, whose other 80 %
  WAS trained on: their rows below are marked ``(dev split)``.

The overall decision is the verdict's: violation when any category of the policy reaches its
threshold; the score for AUPRC is ``verdict.score`` (the highest category score). Results are
merged into ``bench/results/quality.json`` under the tier name. Sets whose files are missing
are skipped with a message (a fresh clone has no ``../shared``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import train_embedded as corpus  # noqa: E402 - the training script defines the split

RESULTS = ROOT / "bench" / "results" / "quality.json"
Kind = Literal["binary", "benign", "attacks"]


@dataclass(frozen=True)
class EvalSet:
    """Texts with gold labels (1 = should be flagged).

    Attributes:
        kind: ``binary`` (both labels; all metrics), ``benign`` (all 0; over-refusal FPR) or
            ``attacks`` (all 1; recall only).
        note: what the set is and why it is fair to measure on it.
    """

    name: str
    texts: tuple[str, ...]
    labels: tuple[int, ...]
    kind: Kind
    note: str


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _sample(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """A fixed pseudo-random sample (by hash of text), so every run sees the same rows."""
    def key(row: dict[str, Any]) -> str:
        return hashlib.sha256(("bench" + row["text"]).encode()).hexdigest()
    return sorted(rows, key=key)[:limit]


def _binary(name: str, rows: Sequence[tuple[str, int]], note: str) -> EvalSet:
    kinds = {label for _, label in rows}
    kind: Kind = "binary" if kinds == {0, 1} else ("benign" if kinds == {0} else "attacks")
    return EvalSet(name, tuple(t for t, _ in rows), tuple(int(v) for _, v in rows), kind, note)


def measurement_sets(data: Path, trained: set[str]) -> list[EvalSet]:
    """The licence-restricted sets (never trained on), minus texts seen in training."""
    def fresh(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return [(t, y) for t, y in pairs if t.strip() and t.strip() not in trained]

    specs: list[tuple[str, str, Callable[[], list[tuple[str, int]]], str]] = [
        ("toxicchat", "toxicchat/toxicchat0124_human_train.jsonl",
         lambda: [(r["text"], r["toxicity"]) for r in
                  _jsonl(data / "toxicchat/toxicchat0124_human_train.jsonl")],
         "ToxicChat 0124 human-annotated (label: toxicity); CC-BY-NC, measurement only"),
        ("tweeteval_hate_test", "tweeteval_hate_offensive/tweeteval_hate_test.jsonl",
         lambda: [(r["text"], r["label"]) for r in
                  _jsonl(data / "tweeteval_hate_offensive/tweeteval_hate_test.jsonl")],
         "TweetEval hate, test split; research use, measurement only"),
        ("tweeteval_offensive_test", "tweeteval_hate_offensive/tweeteval_offensive_test.jsonl",
         lambda: [(r["text"], r["label"]) for r in
                  _jsonl(data / "tweeteval_hate_offensive/tweeteval_offensive_test.jsonl")],
         "TweetEval offensive, test split (profanity is not a policy violation by itself)"),
        ("tensor_trust_extraction_detection",
         "tensor_trust/tensor_trust_extraction_detection.jsonl",
         lambda: [(r["text"], r["label"]) for r in
                  _jsonl(data / "tensor_trust/tensor_trust_extraction_detection.jsonl")],
         "LLM outputs that do / do not leak a secret; licence not stated, measurement only"),
        ("tensor_trust_attacks", "tensor_trust/tensor_trust_hijacking_robustness.jsonl",
         lambda: [(r["text"], 1) for f in ("hijacking", "extraction") for r in _jsonl(
             data / f"tensor_trust/tensor_trust_{f}_robustness.jsonl")],
         "human-written hijacking and extraction attacks (recall only)"),
        ("malicious_instruct+alpaca", "malicious_instruct/malicious_instruct.jsonl",
         lambda: [(r["text"], 1) for r in
                  _jsonl(data / "malicious_instruct/malicious_instruct.jsonl")]
         + [(r["text"], 0) for r in _sample(
             [r for r in _jsonl(data / "refusal_direction_splits/refusal_direction_all.jsonl")
              if r["label"] == 0 and r["split"] == "test"], 500)],
         "MaliciousInstruct (100) + 500 Alpaca instructions (refusal_direction test split)"),
        ("deepset_test", "deepset_prompt_injections/deepset_prompt_injections_test.jsonl",
         lambda: [(r["text"], r["label"]) for r in _jsonl(
             data / "deepset_prompt_injections/deepset_prompt_injections_test.jsonl")],
         "deepset prompt injections, test split (training used the train split only)"),
    ]
    sets = []
    for name, probe, load, note in specs:
        if not (data / probe).is_file():
            print(f"skip {name}: {data / probe} not found", file=sys.stderr)
            continue
        sets.append(_binary(name, fresh(load()), note))
    return sets


def heldout_sets(rows: Sequence[corpus.Row]) -> list[EvalSet]:
    """The dev side of the training corpus: overall, and the three over-refusal sets."""
    def label(row: corpus.Row) -> int | None:
        values = set(row.labels.values())
        if 1.0 in values:
            return 1
        return 0 if values == {0.0} and len(row.labels) == len(corpus.HEADS) else None

    # Template-generated benign rows share their templates across the split: not a fair test.
    dev = [(r.text, y, r) for r in rows
           if r.dev and r.source != "bastion-templates" and (y := label(r)) is not None]
    sets = [_binary("heldout_dev (all training sets)", [(t, y) for t, y, _ in dev],
                    "20 % dev split of every training set (never trained on)")]
    benign = [
        ("jailbreakbench_benign (dev split)", "jailbreakbench"),
        ("cyberseceval_benign (dev split)", "cyberseceval"),
        ("notinject_benign (dev split)", "injecguard_notinject_bipia"),
    ]
    for name, source in benign:
        pairs = [(t, y) for t, y, r in dev if r.source == source and y == 0]
        sets.append(_binary(name, pairs, "over-refusal: 80 % of this set was trained on; "
                            "FPR is on the untouched 20 %"))
    return sets


def metrics(labels: np.ndarray, flagged: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Precision, recall, F1, FPR at the policy thresholds, and AUPRC of the scores."""
    from sklearn.metrics import average_precision_score  # noqa: PLC0415

    tp = int(np.sum(flagged & (labels == 1)))
    fp = int(np.sum(flagged & (labels == 0)))
    fn = int(np.sum(~flagged & (labels == 1)))
    tn = int(np.sum(~flagged & (labels == 0)))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision and recall else (0.0 if tp + fn and tp + fp else None))
    has_both = 0 < labels.sum() < len(labels)
    return {
        "n": len(labels), "positives": int(labels.sum()),
        "precision": _r(precision), "recall": _r(recall), "f1": _r(f1),
        "fpr": _r(fp / (fp + tn)) if fp + tn else None,
        "auprc": _r(float(average_precision_score(labels, scores))) if has_both else None,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def make_tier(tier: str) -> Any:
    """The classifier for a tier name (tier classes directly; ``default`` via the registry)."""
    if tier == "embedded":
        from bastion.classify._embedded import EmbeddedClassifier  # noqa: PLC0415

        return EmbeddedClassifier()
    if tier == "minilm":
        from bastion.classify._embedded import MiniLMClassifier  # noqa: PLC0415

        return MiniLMClassifier()
    from bastion.classify import get_classifier  # noqa: PLC0415

    if tier == "cascade-minilm":
        # The quality end of the cascade: rules, WordLlama heads, then MiniLM on the
        # policy's escalate band.
        return get_classifier("cascade", deep="minilm")
    return get_classifier(tier)


def evaluate(classifier: Any, policy: Any, sets: Sequence[EvalSet]) -> dict[str, Any]:
    """Classify every set and compute its metrics."""
    results: dict[str, Any] = {}
    for item in sets:
        start = time.perf_counter()
        verdicts = classifier.classify(list(item.texts), policy)
        flagged = np.array([v.kind != "safe" for v in verdicts])
        scores = np.array([v.score for v in verdicts])
        result = metrics(np.array(item.labels), flagged, scores)
        result.update(kind=item.kind, note=item.note,
                      errors=sum(v.kind == "error" for v in verdicts),
                      seconds=round(time.perf_counter() - start, 2))
        results[item.name] = result
    return results


def table(results: dict[str, Any]) -> str:
    """A fixed-width table of the results."""
    cols = ("n", "positives", "precision", "recall", "f1", "auprc", "fpr")
    lines = [f"{'set':40s} " + " ".join(f"{c[:9]:>9s}" for c in cols)]
    for name, row in results.items():
        cells = [row[c] for c in cols]
        lines.append(f"{name:40s} " + " ".join(
            f"{'-':>9s}" if v is None else (f"{v:9d}" if isinstance(v, int) else f"{v:9.3f}")
            for v in cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Quality of a tier on held-out data.")
    parser.add_argument("--tier", default="embedded")
    parser.add_argument("--policy", default="default")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skip: no datasets at {args.data} (pass --data); nothing measured",
              file=sys.stderr)
        return 0
    from bastion.policy import load_policy  # noqa: PLC0415

    policy = load_policy(args.policy)
    rows = corpus.load_corpus(args.data)
    trained = {r.text.strip() for r in rows if not r.dev}
    sets = measurement_sets(args.data, trained) + heldout_sets(rows)
    classifier = make_tier(args.tier)
    results = evaluate(classifier, policy, sets)
    report = {"tier": args.tier, "policy": f"{policy.id}@{policy.version}",
              "policy_hash": policy.hash, "sets": results}
    merged = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    merged[args.tier] = report
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
