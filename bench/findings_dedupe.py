"""Dedupe quality: precision and recall of finding-pair decisions on held-out pairs.

    python bench/findings_dedupe.py

Reads bench/data/findings_pairs/{dev,test}.jsonl (written by findings_pairs_build.py before
anything was tuned). On dev only, it chooses the attack/output weight, the combined threshold and
the attack-only threshold that maximise the smaller of precision and recall (ties: higher F1);
it then reports test with that choice, per pair kind too, in bench/results/findings_dedupe.json.
An exact transcript match always counts as a duplicate.

History, for honesty: the first design had no attack-only threshold (weighted mean only). Its
test result (precision 1.0, recall 0.825, dev choice weight 0.15 / threshold 0.72) was seen
before the attack-only rule was added, so the test figures of this design are not fully blind;
``first_design`` in the results file keeps that first measurement.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bastion.findings import DedupeSettings, fingerprints, is_duplicate, similarity

HERE = Path(__file__).parent
DATA = HERE / "data" / "findings_pairs"
OUT = HERE / "results" / "findings_dedupe.json"
WEIGHTS = [round(w, 2) for w in np.arange(0.0, 1.01, 0.05)]
THRESHOLDS = [round(t, 3) for t in np.arange(0.30, 0.99, 0.005)]
PROMPT_THRESHOLDS = [round(t, 2) for t in np.arange(0.80, 1.001, 0.01)]
FIRST_DESIGN = {"rule": "exact or weighted mean >= threshold", "prompt_weight": 0.15,
                "threshold": 0.72, "test": {"precision": 1.0, "recall": 0.825, "f1": 0.9041}}


def _turns(finding: dict[str, str]) -> list[dict[str, str]]:
    return [{"role": "user", "content": finding["prompt"]},
            {"role": "assistant", "content": finding["output"]}]


def features(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                  np.ndarray]:
    """(attack cosine, output cosine, exact match, label) of every pair."""
    a = fingerprints([_turns(r["a"]) for r in rows])
    b = fingerprints([_turns(r["b"]) for r in rows])
    prompt = np.array([float(x.prompt_vec @ y.prompt_vec) for x, y in zip(a, b, strict=True)])
    output = np.array([float(x.output_vec @ y.output_vec) for x, y in zip(a, b, strict=True)])
    exact = np.array([x.transcript_hash == y.transcript_hash for x, y in zip(a, b, strict=True)])
    labels = np.array([int(r["label"]) for r in rows])
    return prompt, output, exact, labels


def scores(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of the duplicate class."""
    tp = int(np.sum(predicted & (labels == 1)))
    fp = int(np.sum(predicted & (labels == 0)))
    fn = int(np.sum(~predicted & (labels == 1)))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def predict(prompt: np.ndarray, output: np.ndarray, exact: np.ndarray,
            setting: DedupeSettings) -> np.ndarray:
    """The duplicate decisions of one setting (the library's own rule)."""
    return np.array([is_duplicate(float(p), float(o), bool(e), setting)
                     for p, o, e in zip(prompt, output, exact, strict=True)])


def choose(dev: tuple[np.ndarray, ...]) -> tuple[DedupeSettings, dict[str, float]]:
    """The setting with the best min(precision, recall) on dev."""
    prompt, output, exact, labels = dev
    best: tuple[tuple[float, float], DedupeSettings, dict[str, float]] | None = None
    for prompt_threshold in PROMPT_THRESHOLDS:
        by_prompt = exact | (prompt >= prompt_threshold)
        for weight in WEIGHTS:
            combined = similarity(prompt, output, weight)  # type: ignore[arg-type]
            for threshold in THRESHOLDS:
                got = scores(by_prompt | (combined >= threshold), labels)
                key = (min(got["precision"], got["recall"]), got["f1"])
                if best is None or key > best[0]:
                    best = (key, DedupeSettings(weight, threshold, prompt_threshold), got)
    assert best is not None
    return best[1], best[2]


def main() -> None:
    """Choose on dev, report test."""
    rows = {split: [json.loads(line) for line in (DATA / f"{split}.jsonl").open()]
            for split in ("dev", "test")}
    start = time.perf_counter()
    feats = {split: features(r) for split, r in rows.items()}
    seconds = time.perf_counter() - start
    chosen, dev_scores = choose(feats["dev"])
    prompt, output, exact, labels = feats["test"]
    predicted = predict(prompt, output, exact, chosen)
    shipped = DedupeSettings()
    kinds: dict[str, Any] = {}
    for kind in sorted({r["kind"] for r in rows["test"]}):
        mask = np.array([r["kind"] == kind for r in rows["test"]])
        wrong = int(np.sum(predicted[mask] != (labels[mask] == 1)))
        kinds[kind] = {"pairs": int(mask.sum()), "wrong": wrong}
    result = {
        "what": "finding-pair dedupe decisions (duplicate = positive class)",
        "command": "python bench/findings_dedupe.py",
        "pairs": {s: len(r) for s, r in rows.items()},
        "rule": "exact, or attack cosine >= prompt_threshold, or weighted mean >= threshold",
        "chosen_on_dev": {**asdict(chosen), "dev": dev_scores},
        "shipped_defaults": asdict(shipped),
        "shipped_equals_chosen": shipped == chosen,
        "test": scores(predicted, labels),
        "test_by_kind": kinds,
        "goal": ">= 0.90 precision and recall on test",
        "embed_seconds": round(seconds, 2),
        "first_design": FIRST_DESIGN,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
