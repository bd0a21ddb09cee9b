"""What a policy's own few-shot categories need from a build: background negatives and a
calibration of the few-shot score.

A custom policy's category the heads do not know is fitted at run time on its handful of
examples (:mod:`bastion.classify._fewshot`), with centroids of benign train-side embeddings
as extra negatives. How that score maps to a probability cannot be learnt from one policy, so
it is fitted here on simulated few-shot policies: each episode pretends one head does not
exist and fits it from a few examples exactly as the runtime would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bastion.classify._fewshot import fit_fewshot
from bastion.training._sources import HEADS
from bastion.training.static._evaluate import binary_metrics, fair_dev, is_benign, sigmoid
from bastion.training.static._fit import SEED
from bastion.training.static._rows import Row

#: Simulated few-shot policies: violating and safe examples per category, episodes per head,
#: and the share of positives assumed when calibrating (few-shot categories are rare).
FEWSHOT_K = (6, 5)
FEWSHOT_EPISODES = 4
FEWSHOT_PRIOR = 0.2
BACKGROUND_CENTROIDS = 256


def background(rows: Sequence[Row], dense: np.ndarray, k: int = BACKGROUND_CENTROIDS) -> np.ndarray:
    """Centroids of benign train-side embeddings: extra negatives for few-shot categories."""
    from sklearn.cluster import KMeans  # noqa: PLC0415 - a training-only dependency

    benign = np.array([i for i, r in enumerate(rows)
                       if not r.dev and r.labels and not any(r.labels.values())])
    km = KMeans(n_clusters=k, n_init=3, random_state=SEED).fit(dense[benign])
    centres = km.cluster_centers_
    return np.asarray(centres / np.linalg.norm(centres, axis=1, keepdims=True))


def fewshot_calibration(
    rows: Sequence[Row], dense: np.ndarray, centres: np.ndarray
) -> tuple[dict[str, float], dict[str, Any]]:
    """Fit the few-shot calibration on simulated few-shot policies, and measure it.

    Each episode pretends one category head does not exist: a policy with FEWSHOT_K[0]
    violating and FEWSHOT_K[1] safe examples drawn from the train side, plus two violating
    examples of three other categories, is fitted exactly as the runtime would; the held-out
    dev rows (that category's positives, other categories' positives and benign rows) are
    scored. A Platt fit over all episodes, with positives weighted to FEWSHOT_PRIOR of the
    total, gives the calibration; figures are on a second draw of episodes.
    """
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - a training-only dependency

    fit_z, fit_y = episodes(rows, dense, centres, seed=SEED)
    weight = np.where(fit_y == 1, FEWSHOT_PRIOR / max(fit_y.mean(), 1e-9),
                      (1 - FEWSHOT_PRIOR) / max(1 - fit_y.mean(), 1e-9))
    platt = LogisticRegression(C=1e6).fit(fit_z.reshape(-1, 1), fit_y, sample_weight=weight)
    cal = {"scale": float(platt.coef_[0, 0]), "shift": float(platt.intercept_[0])}
    test_z, test_y = episodes(rows, dense, centres, seed=SEED + 1)
    probs = sigmoid(cal["scale"] * test_z + cal["shift"])
    return cal, binary_metrics(test_y, probs) | {"episodes": FEWSHOT_EPISODES}


def episodes(
    rows: Sequence[Row], dense: np.ndarray, centres: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Few-shot scores and labels of the held-out rows over every simulated policy."""
    rng = np.random.default_rng(seed)
    fair = np.array([r.source != "bastion-templates" for r in rows])
    dev, benign = fair_dev(rows), is_benign(rows)
    heads = [h for h in HEADS if h != "harm"]
    pos = {h: np.array([r.labels.get(h) == 1.0 for r in rows]) for h in heads}
    zs, ys = [], []
    for _ in range(FEWSHOT_EPISODES):
        for head in heads:
            others = rng.choice([h for h in heads if h != head], 3, replace=False)
            p = rng.choice(np.flatnonzero(pos[head] & ~dev), FEWSHOT_K[0], replace=False)
            n = [rng.choice(np.flatnonzero(benign & ~dev & fair), FEWSHOT_K[1], replace=False)]
            n += [rng.choice(np.flatnonzero(pos[o] & ~pos[head] & ~dev), 2, replace=False)
                  for o in others]
            model = fit_fewshot(dense[p], dense[np.concatenate(n)], centres)
            pool = np.flatnonzero(dev & (pos[head] | benign | np.any(
                [pos[o] for o in heads], axis=0)))
            zs.append(dense[pool] @ model.coef + model.bias)
            ys.append(pos[head][pool].astype(np.float64))
    return np.concatenate(zs), np.concatenate(ys)
