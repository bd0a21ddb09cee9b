"""Finish a build: calibrate on validation, fit the policy reader on development policies,
measure on held-out splits, and write ``card.json`` beside ``model.onnx``.

Everything recorded in the card is produced by this code from the run it describes: base
model and hashes, training sets with licences and row counts per split, split method and seed,
hyper-parameters chosen on validation, and figures on the test split and the blind sets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bastion.classify._onnx import ContextualModel
from bastion.evaluation import binary_scores
from bastion.models import sha256_file
from bastion.training._calibrate import (
    READER_C,
    choose_offset,
    fit_reader,
    held_out_f1,
    held_out_logits,
    platt,
    policy_sets,
)
from bastion.training._refit import read_table


def table_split(table: Path, split: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, label matrix (-1 masked) and sources of one split of the training table."""
    _, rows = read_table(table)
    rows = [r for r in rows if r["split"] == split]
    return ([r["text"] for r in rows], np.array([r["labels"] for r in rows]),
            [r["source"] for r in rows])


def head_metrics(probs: np.ndarray, labels: np.ndarray, heads: list[str]) -> dict[str, Any]:
    """AUPRC and F1 at 0.5 per head."""
    from sklearn.metrics import average_precision_score  # noqa: PLC0415 (training extra)

    out: dict[str, Any] = {}
    for j, head in enumerate(heads):
        keep = labels[:, j] >= 0
        y = labels[keep, j]
        if (y == 1).sum() < 5:
            continue
        out[head] = {"auprc": round(float(average_precision_score(y, probs[keep, j])), 4),
                     "f1": binary_scores(y.tolist(), (probs[keep, j] >= 0.5).astype(int)
                                         .tolist()).f1,
                     "positives": int((y == 1).sum()), "rows": int(keep.sum())}
    return out


def build_card(folder: Path, table: Path, fit_summary: dict[str, Any],
               prepare_summary: dict[str, Any], dev_policies: Path, base: Path,
               base_name: str, extra_policies: Path | None = None) -> dict[str, Any]:
    """Calibrate, fit the reader, measure, and write ``folder/card.json``."""
    heads = fit_summary["heads"]
    card: dict[str, Any] = {
        "heads": heads, "dim": 384, "calibration": {h: [1.0, 0.0] for h in heads},
        "reader": {"coef": [0.0] * 9, "bias": 0.0},
        "files": {n: sha256_file(folder / n) for n in ("model.onnx", "tokenizer.json")},
    }
    (folder / "card.json").write_text(json.dumps(card))
    model = ContextualModel(folder)
    texts, labels, _ = table_split(table, "val")
    logits = model.run(texts).logits
    for j, head in enumerate(heads):
        keep = labels[:, j] >= 0
        card["calibration"][head] = list(platt(logits[keep, j], labels[keep, j]))
    (folder / "card.json").write_text(json.dumps(card))
    model = ContextualModel(folder)
    sets = policy_sets(model, dev_policies)
    held = {c: held_out_logits(sets, c) for c in READER_C}
    per_c = {c: held_out_f1(sets, logits) for c, logits in held.items()}
    choice = {c: float(np.mean(list(f1.values()))) for c, f1 in per_c.items()}
    best_c = max(choice, key=lambda c: choice[c])
    coef, bias = fit_reader(sets, best_c)
    extra = policy_sets(model, extra_policies) if extra_policies is not None else {}
    offset, curve = choose_offset(sets, held[best_c], extra, coef, bias)
    card["reader"] = {"coef": coef.tolist(), "bias": bias + offset, "C": best_c,
                      "fitted_on": sorted(sets), "dev_leave_one_policy_out_f1": {
                          "per_policy": per_c[best_c], "mean_by_C": choice},
                      "fitted_bias": bias, "f1_offset": offset, "f1_offset_chosen_on": {
                          "policies": sorted(sets) + sorted(extra),
                          "mean_f1_by_offset": curve}}
    val_probs = model.probabilities(logits)
    test_texts, test_labels, _ = table_split(table, "test")
    test_probs = model.probabilities(model.run(test_texts).logits)
    card.update({
        "base_model": {"name": base_name, "files": {
            p.name: sha256_file(p) for p in sorted(base.iterdir()) if p.is_file()}},
        "trained_on": [{"set": name, **info} for name, info in
                       sorted(prepare_summary["sources"].items())],
        "training": {"sets": prepare_summary["sources"],
                     "rows": prepare_summary["rows"],
                     "dropped_near_duplicates_of_frozen_sets":
                         prepare_summary["dropped_near_duplicates_of_frozen_sets"],
                     "frozen_sets": prepare_summary["frozen_sets"],
                     "split": "MinHash (3-word shingles, Jaccard >= 0.5) near-duplicate "
                              "clusters plus shared groups, 80/10/10 by salted hash "
                              "'bastion-split-v2'"},
        "fit": {"chosen": fit_summary["chosen"], "device": fit_summary.get("device"),
                "torch": fit_summary.get("torch"),
                "validation_curve": fit_summary["results"][0]["history"]},
        "figures": {"validation": head_metrics(val_probs, labels, heads),
                    "test": head_metrics(test_probs, test_labels, heads)},
        "licence": "Apache-2.0 (fine-tuned from sentence-transformers/all-MiniLM-L6-v2, "
                   "Apache-2.0)",
        "rebuild": "python scripts/train_classifier.py all",
    })
    card["files"] = {n: sha256_file(folder / n) for n in ("model.onnx", "tokenizer.json")}
    (folder / "card.json").write_text(json.dumps(card, indent=1))
    return card
