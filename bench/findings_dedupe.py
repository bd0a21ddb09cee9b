"""Dedupe quality: precision and recall of finding-pair decisions on labelled pairs.

    python bench/findings_dedupe.py

Development data: bench/data/findings_pairs/{dev,test}.jsonl (findings_pairs_build.py). The old
test split already steered a design choice (see History), so it is no longer blind and is used
as development data with dev. On dev + test together this chooses the attack/output weight, the
combined threshold and the attack-only threshold that maximise the smaller of precision and
recall (ties: higher F1). It then reports every set with that one choice, per pair kind, and
with translated pairs left out (the embedder reads English only), in
bench/results/findings_dedupe.json. The blind set, bench/data/findings_pairs/blind.jsonl
(findings_pairs_blind_build.py, frozen in bench/blind/FROZEN.sha256), is only reported, never
used for a choice. An exact transcript match always counts as a duplicate.

History, for honesty: the first design had no attack-only threshold. Its test result (precision
1.0, recall 0.825) was seen before the attack-only rule was added. The second design (chosen on
dev only: weight 0.0, threshold 0.75, attack threshold 0.81; test precision 0.945, recall 0.863)
was seen before issue 11's changes (attacks read paragraph by paragraph through the classifier's
decoders, leetspeak read back into words), which were made looking at dev and test misses; the
blind set was written and frozen before any of them. The third (2026-12-01): a pair whose attack
the embedder does not read in one of the two findings (another language) is decided on its
output cosine alone; chosen on dev + test because it raised their pooled min(precision, recall)
from 0.9437 to 0.9568 (recall 0.9437 -> 0.9688 at equal or better precision); the blind set was
measured once before it (with today's model) and once after.
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
CHOSEN_ON = ("dev", "test")
SPLITS = ("dev", "test", "blind")
HISTORY = [
    {"rule": "exact or weighted mean >= threshold", "chosen_on": ["dev"],
     "prompt_weight": 0.15, "threshold": 0.72,
     "test": {"precision": 1.0, "recall": 0.825, "f1": 0.9041}},
    {"rule": "exact, attack cosine, or weighted mean (attack: normalize's text or base64/hex/tags "
             "payload)", "chosen_on": ["dev"],
     "prompt_weight": 0.0, "threshold": 0.75, "prompt_threshold": 0.81,
     "test": {"precision": 0.9452, "recall": 0.8625, "f1": 0.902}},
    {"rule": "exact, attack cosine (attack read through the classifier's decoders, leetspeak "
             "spelled back), or weighted mean", "chosen_on": ["dev", "test"],
     "prompt_weight": 0.0, "threshold": 0.72, "prompt_threshold": 0.93,
     "blind": {"precision": 1.0, "recall": 0.8958, "f1": 0.9451},
     "then": "the contextual model's activations became float (2026-11-30); the embeddings "
             "moved, so the settings were chosen again on dev + test the same way"},
    {"rule": "the same, with the float-activation model", "chosen_on": ["dev", "test"],
     "prompt_weight": 0.15, "threshold": 0.695, "prompt_threshold": 0.94,
     "blind": {"precision": 1.0, "recall": 0.8854, "f1": 0.9392},
     "then": "the contextual model's activations became int8, quantised per token (2026-12-01, "
             "commit 41cd0c2); the embeddings moved, so the settings were chosen again on "
             "dev + test the same way"},
    {"rule": "the same, with the int8-activation model", "chosen_on": ["dev", "test"],
     "prompt_weight": 0.1, "threshold": 0.715, "prompt_threshold": 0.94,
     "dev_test": {"precision": 0.9557, "recall": 0.9437, "f1": 0.9497},
     "blind": {"precision": 1.0, "recall": 0.875, "f1": 0.9333},
     "then": "a pair with an attack the embedder does not read (another language) is decided "
             "on its output cosine alone; chosen on dev + test (pooled min(P, R) 0.9437 -> "
             "0.9568), the settings chosen again the same way"},
]


def _turns(finding: dict[str, str]) -> list[dict[str, str]]:
    return [{"role": "user", "content": finding["prompt"]},
            {"role": "assistant", "content": finding["output"]}]


def features(rows: list[dict[str, Any]]) -> tuple[np.ndarray, ...]:
    """(attack cosine, output cosine, exact match, label, both attacks read) of every pair."""
    a = fingerprints([_turns(r["a"]) for r in rows])
    b = fingerprints([_turns(r["b"]) for r in rows])
    read = np.array([x.attack_read and y.attack_read for x, y in zip(a, b, strict=True)])
    prompt = np.array([float(x.prompt_vec @ y.prompt_vec) for x, y in zip(a, b, strict=True)])
    output = np.array([float(x.output_vec @ y.output_vec) for x, y in zip(a, b, strict=True)])
    exact = np.array([x.transcript_hash == y.transcript_hash for x, y in zip(a, b, strict=True)])
    labels = np.array([int(r["label"]) for r in rows])
    return prompt, output, exact, labels, read


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


def predict(prompt: np.ndarray, output: np.ndarray, exact: np.ndarray, read: np.ndarray,
            setting: DedupeSettings) -> np.ndarray:
    """The duplicate decisions of one setting (the library's own rule)."""
    return np.array([is_duplicate(float(p), float(o), bool(e), setting, bool(r))
                     for p, o, e, r in zip(prompt, output, exact, read, strict=True)])


def choose(data: tuple[np.ndarray, ...]) -> tuple[DedupeSettings, dict[str, float]]:
    """The setting with the best min(precision, recall) on ``data`` (development pairs)."""
    prompt, output, exact, labels, read = data
    best: tuple[tuple[float, float], DedupeSettings, dict[str, float]] | None = None
    for prompt_threshold in PROMPT_THRESHOLDS:
        by_prompt = exact | (prompt >= prompt_threshold)
        for weight in WEIGHTS:
            # similarity(), vectorised: the output cosine alone where an attack is not read
            weights = np.where(read, weight, 0.0)
            combined = similarity(prompt, output, weights)  # type: ignore[arg-type]
            for threshold in THRESHOLDS:
                got = scores(by_prompt | (combined >= threshold), labels)
                key = (min(got["precision"], got["recall"]), got["f1"])
                if best is None or key > best[0]:
                    best = (key, DedupeSettings(weight, threshold, prompt_threshold), got)
    assert best is not None
    return best[1], best[2]


def report(rows: list[dict[str, Any]], feats: tuple[np.ndarray, ...],
           setting: DedupeSettings) -> dict[str, Any]:
    """Scores of one set with one setting: overall, without translated pairs, and by kind."""
    prompt, output, exact, labels, read = feats
    predicted = predict(prompt, output, exact, read, setting)
    kinds = np.array([r["kind"] for r in rows])
    english = kinds != "translated"
    by_kind = {kind: {"pairs": int(np.sum(kinds == kind)),
                      "wrong": int(np.sum(predicted[kinds == kind]
                                          != (labels[kinds == kind] == 1)))}
               for kind in sorted(set(kinds.tolist()))}
    return {"pairs": len(rows), **scores(predicted, labels),
            "without_translated": scores(predicted[english], labels[english]),
            "by_kind": by_kind}


def main() -> None:
    """Choose on dev + test, report dev, test and blind."""
    rows = {split: [json.loads(line) for line in (DATA / f"{split}.jsonl").open()]
            for split in SPLITS}
    start = time.perf_counter()
    feats = {split: features(r) for split, r in rows.items()}
    seconds = time.perf_counter() - start
    pooled = tuple(np.concatenate([feats[s][i] for s in CHOSEN_ON]) for i in range(5))
    chosen, pooled_scores = choose(pooled)
    shipped = DedupeSettings()
    result = {
        "what": "finding-pair dedupe decisions (duplicate = positive class)",
        "command": "python bench/findings_dedupe.py",
        "rule": "exact, or attack cosine >= prompt_threshold, or weighted mean >= threshold "
                "(the output cosine alone where the embedder does not read an attack)",
        "chosen_on": list(CHOSEN_ON),
        "blind": "blind.jsonl: written and frozen before the change; never used for a choice",
        "chosen": {**asdict(chosen), "on_chosen_sets": pooled_scores},
        "shipped_defaults": asdict(shipped),
        "shipped_equals_chosen": shipped == chosen,
        "sets": {split: report(rows[split], feats[split], chosen) for split in SPLITS},
        "goal": ">= 0.90 precision and recall (issue 11)",
        "embed_seconds": round(seconds, 2),
        "history": HISTORY,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
