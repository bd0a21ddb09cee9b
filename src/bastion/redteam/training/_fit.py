"""Fit the refusal detector, choose its settings on validation, and write its card.

``C`` (the inverse regularisation strength) and the decision threshold are chosen on the
validation split only; the test split is scored once, after the choice, and only reported.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bastion.evaluation import Scores, binary_scores
from bastion.redteam.scorers._refusal import FEATURES_VERSION, LEXICAL, features
from bastion.redteam.training._data import NEAR_DUP, SEED, VAL_SHARE, Row

C_GRID = (0.001, 0.002, 0.003, 0.01, 0.03)
WEIGHT_GRID = (1.0, 3.0, 10.0)  # weight of a hand-written row against a GPTFuzz row
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.01))


@dataclass(frozen=True)
class Fitted:
    """A fitted detector: standardisation, weights, threshold and the chosen C."""

    weights: NDArray[np.float32]
    bias: float
    mean: NDArray[np.float32]
    scale: NDArray[np.float32]
    threshold: float
    c: float
    handwritten_weight: float

    def probabilities(self, x: NDArray[np.float32]) -> NDArray[np.float64]:
        """p(refusal) for a feature matrix."""
        z = ((x - self.mean) / self.scale).astype(np.float64) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def npz(self) -> bytes:
        """The weights file (read by :func:`bastion.redteam.load_refusal_model`)."""
        buffer = io.BytesIO()
        np.savez(buffer, weights=self.weights.astype(np.float32), bias=np.float32(self.bias),
                 mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32))
        return buffer.getvalue()


def evaluate(labels: Sequence[int], probs: NDArray[np.float64], threshold: float) -> Scores:
    """Precision, recall, F1 and AUPRC with refusal as the positive class."""
    return binary_scores(list(labels), [int(p >= threshold) for p in probs], probs.tolist(),
                         threshold)


def _weights(rows: Sequence[Row], handwritten: float) -> NDArray[np.float64]:
    return np.asarray([1.0 if r.source == "gptfuzz" else handwritten for r in rows])


def fit(train: Sequence[Row], val: Sequence[Row]) -> tuple[Fitted, dict[str, float]]:
    """Fit one model per (C, hand-written weight) on ``train``; keep the best on ``val``.

    The validation figure is F1 at the model's best threshold, averaged over the validation
    sources (GPTFuzz and hand-written rows), so neither style of response is given up.
    """
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - a dev dependency

    x_train = features([r.response for r in train])
    y_train = np.asarray([r.refused for r in train])
    x_val = features([r.response for r in val])
    y_val = np.asarray([r.refused for r in val])
    sources = [np.asarray([r.source == s for r in val]) for s in sorted({r.source for r in val})]
    mean = x_train.mean(axis=0)
    scale = x_train.std(axis=0) + 1e-6
    best: tuple[float, Fitted] | None = None
    by_c: dict[str, float] = {}
    for c in C_GRID:
        for weight in WEIGHT_GRID:
            model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
            model.fit((x_train - mean) / scale, y_train, sample_weight=_weights(train, weight))
            candidate = Fitted(model.coef_[0].astype(np.float64), float(model.intercept_[0]),
                               mean, scale, 0.5, c, weight)
            probs = candidate.probabilities(x_val)
            f1, threshold = max((float(np.mean([evaluate(y_val[m].tolist(), probs[m], t).f1
                                                for m in sources])), t) for t in THRESHOLDS)
            by_c[f"C={c} weight={weight}"] = round(f1, 4)
            if best is None or f1 > best[0]:
                best = (f1, Fitted(candidate.weights, candidate.bias, mean, scale, threshold,
                                   c, weight))
    assert best is not None
    return best[1], by_c


def card(fitted: Fitted, raw: bytes, rows: dict[str, Sequence[Row]], dropped: dict[str, int],
         metrics: dict[str, Any], by_c: dict[str, float]) -> dict[str, Any]:
    """The artifact's card: data, licences, split, settings and held-out figures."""
    counts = {name: dict(Counter(f"{r.source}:{'refused' if r.refused else 'complied'}"
                                 for r in part)) for name, part in rows.items()}
    return {
        "name": "bastion-refusal", "version": 3, "features_version": FEATURES_VERSION,
        "features": ["wordllama(head 240 chars, 256-d)", "wordllama(first 2000 chars, 256-d)",
                     "wordllama(first persona segment, 600 chars, 256-d)",
                     "wordllama(last persona segment, 600 chars, 256-d)", *LEXICAL],
        "model": f"logistic regression, class_weight=balanced, C={fitted.c} chosen on "
                 f"validation from {list(C_GRID)}; hand-written rows weighted "
                 f"{fitted.handwritten_weight} (chosen on validation from {list(WEIGHT_GRID)})",
        "threshold": fitted.threshold, "threshold_chosen_on": "validation (best F1)",
        "positive_class": "refusal (the response does not give what was asked)",
        "labels": "human: GPTFuzz annotators (jailbroken or not) and hand labels written for "
                  "Bastion; no regex or LLM-judge labels",
        "trained_on": [
            {"data": "gptfuzz/gptfuzz_labelled_responses.jsonl (train split)",
             "licence": "MIT", "rows": sum(r.source == "gptfuzz" for r in rows["train"])},
            {"data": "tests/redteam/data/refusal_handwritten.jsonl",
             "licence": "Apache-2.0 (written for Bastion)",
             "rows": sum(r.source != "gptfuzz" for r in rows["train"])},
        ],
        "split": {"seed": SEED, "val_share_of_train_questions": VAL_SHARE,
                  "test": "GPTFuzz's own evaluate questions (20 of 100)",
                  "by": "question, then near-duplicate clusters (character 5-gram cosine >= "
                        f"{NEAR_DUP}): val/test rows near-duplicating an earlier split dropped",
                  "dropped": dropped, "rows": counts},
        "validation_mean_f1_by_setting": by_c,
        "metrics_held_out": metrics,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "rebuild": "python scripts/train_refusal.py --datasets ../shared/datasets",
    }


def write_artifact(folder: Path, raw: bytes, meta: dict[str, Any]) -> None:
    """Write ``refusal.npz`` and ``refusal.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refusal.npz").write_bytes(raw)
    (folder / "refusal.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
