"""Choices made on validation data only: Platt scaling of every head (on the validation split
of the training table) and the policy reader's weights (on the development custom policies,
never the blind ones)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bastion.classify._onnx import ContextualModel
from bastion.classify._reader import CategoryAnchors, anchors_of
from bastion.evaluation import binary_scores
from bastion.policy import load_policy
from bastion.training._sources import jsonl

READER_C = (1.0, 10.0, 100.0)
#: Offsets added to the reader's logit, tried for the best macro F1 (see :func:`choose_offset`).
READER_OFFSETS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """``(scale, shift)`` so that ``sigmoid(scale * logit + shift)`` is calibrated."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 (training extra)

    if len(set(labels.tolist())) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=100.0).fit(logits.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def reader_features(model: ContextualModel, policy_path: Path, rows_path: Path
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Reader features and labels of one custom policy's labelled rows."""
    policy = load_policy(policy_path)
    (category,) = policy.categories
    items = anchors_of(policy, category.code)
    anchors = CategoryAnchors.build(items, model.run([a.text for a in items]).embeddings)
    rows = list(jsonl(rows_path))
    embeddings = model.run([str(r["text"]) for r in rows]).embeddings
    labels = np.array([int(r["label"]) for r in rows])
    return anchors.features(embeddings), labels


def policy_sets(model: ContextualModel, folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Features and labels per custom policy of a folder (``<id>.md`` + ``<id>.jsonl``)."""
    return {p.stem: reader_features(model, p, p.with_suffix(".jsonl"))
            for p in sorted(folder.glob("*.md")) if p.name != "README.md"}


def fit_reader(sets: dict[str, tuple[np.ndarray, np.ndarray]], c: float
               ) -> tuple[np.ndarray, float]:
    """Logistic weights over every given policy's rows."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    x = np.concatenate([f for f, _ in sets.values()])
    y = np.concatenate([y for _, y in sets.values()])
    model = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def reader_f1(logits: np.ndarray, labels: np.ndarray, offset: float = 0.0) -> float:
    """F1 of the reader's decisions (``logit + offset >= 0``) against ``labels``."""
    return binary_scores(labels.tolist(), (logits + offset >= 0).astype(int).tolist()).f1


def held_out_logits(sets: dict[str, tuple[np.ndarray, np.ndarray]], c: float
                    ) -> dict[str, np.ndarray]:
    """Reader logits of each policy's rows, the reader fitted on the other policies."""
    out = {}
    for name, (x, _) in sets.items():
        coef, bias = fit_reader({k: v for k, v in sets.items() if k != name}, c)
        out[name] = x @ coef + bias
    return out


def held_out_f1(sets: dict[str, tuple[np.ndarray, np.ndarray]],
                held: dict[str, np.ndarray]) -> dict[str, float]:
    """F1 of each policy from its :func:`held_out_logits`."""
    return {name: reader_f1(logits, sets[name][1]) for name, logits in held.items()}


def leave_one_out(sets: dict[str, tuple[np.ndarray, np.ndarray]], c: float
                  ) -> dict[str, float]:
    """F1 of each policy when the reader is fitted on the others."""
    return held_out_f1(sets, held_out_logits(sets, c))


def choose_offset(dev: dict[str, tuple[np.ndarray, np.ndarray]], held: dict[str, np.ndarray],
                  extra: dict[str, tuple[np.ndarray, np.ndarray]], coef: np.ndarray,
                  bias: float) -> tuple[float, dict[str, float]]:
    """The logit offset with the best macro F1 over policies the reader was not fitted on.

    The reader's logistic fit maximises likelihood, which is not where F1 peaks for a
    category with fewer violating than allowed texts. Each ``dev`` policy is scored by a
    reader fitted on the other ``dev`` policies (``held``: :func:`held_out_logits`), each
    ``extra`` policy by the reader fitted on every ``dev`` policy (``coef``, ``bias``); the
    offset in :data:`READER_OFFSETS` with the best mean F1 over all of them wins (the first of
    equals). Returns it and the mean F1 of every offset.
    """
    scored = [(logits, dev[name][1]) for name, logits in held.items()]
    scored += [(x @ coef + bias, y) for x, y in extra.values()]
    curve = {str(offset): round(float(np.mean([reader_f1(logits, y, offset)
                                                for logits, y in scored])), 4)
             for offset in READER_OFFSETS}
    best = max(READER_OFFSETS, key=lambda offset: curve[str(offset)])
    return best, curve
