"""Few-shot categories: a small logistic regression fitted in numpy on a policy's own examples.

A category without a shipped head is learned from the labelled examples in its policy: the
category's ``violates`` examples are the positives; its ``safe`` examples, every example of the
policy's other categories, and a few hundred benign background prototypes shipped with the
heads are the negatives. The fit is L2-regularised and class-balanced, so with a handful of
examples a score of 0.5 sits half-way between "looks like the violating examples" and "looks
like ordinary or other-category text". It takes a few milliseconds and is cached per policy
hash by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastion.policy import Policy

#: L2 penalty per unit of total sample weight; strong because there are few examples.
L2 = 0.01
#: Share of the negative weight carried by the background prototypes (the rest by examples).
BACKGROUND_SHARE = 0.8
#: Newton iterations; the problem is small and smooth, so a few are enough.
ITERATIONS = 12


@dataclass(frozen=True)
class FewShotModel:
    """A fitted few-shot scorer: ``p = sigmoid(x @ coef + bias)``."""

    coef: np.ndarray
    bias: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for rows of embeddings ``x`` (shape ``[n, dim]``)."""
        return sigmoid(x @ self.coef + self.bias)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float32)


def sample_weights(n_pos: int, n_neg: int, n_background: int) -> np.ndarray:
    """Weights that give positives half the total, and split negatives between the policy's
    own negatives and the background (all to one side when the other is empty)."""
    w_pos = np.full(n_pos, 0.5 / max(n_pos, 1))
    share = BACKGROUND_SHARE if n_neg and n_background else float(n_background > 0)
    w_neg = np.full(n_neg, 0.5 * (1.0 - share) / max(n_neg, 1))
    w_bg = np.full(n_background, 0.5 * share / max(n_background, 1))
    return np.concatenate([w_pos, w_neg, w_bg])


@dataclass(frozen=True)
class Calibration:
    """``p = sigmoid(scale * logit + shift)``: maps a few-shot logit to a probability.

    Fitted when the heads are built, on simulated few-shot policies (a handful of examples
    drawn from labelled data, scored on held-out rows), so that 0.5 means roughly the same
    for a few-shot category as for a shipped head. Stored in the heads' metadata.
    """

    scale: float = 1.0
    shift: float = 0.0


def fit_fewshot(
    positives: np.ndarray, negatives: np.ndarray, background: np.ndarray,
    calibration: Calibration | None = None,
) -> FewShotModel:
    """Fit the class-balanced, L2-regularised logistic regression by Newton's method.

    Args:
        positives: embeddings of violating examples, shape ``[p, dim]`` (p >= 1).
        negatives: embeddings of the policy's safe and other-category examples, ``[n, dim]``.
        background: benign prototype embeddings shipped with the heads, ``[k, dim]``.
        calibration: applied to the fitted logit (folded into the weights).
    """
    x = np.concatenate([positives, negatives, background]).astype(np.float64)
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives) + len(background))])
    w = sample_weights(len(positives), len(negatives), len(background))
    xb = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.full(xb.shape[1], L2)
    penalty[-1] = 0.0  # the bias is not shrunk
    theta = np.zeros(xb.shape[1])
    for _ in range(ITERATIONS):
        p = 0.5 * (1.0 + np.tanh(0.5 * (xb @ theta)))
        grad = xb.T @ (w * (p - y)) + penalty * theta
        hess = (xb * (w * p * (1.0 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-6:
            break
    cal = calibration or Calibration()
    return FewShotModel((theta[:-1] * cal.scale).astype(np.float32),
                        float(theta[-1] * cal.scale + cal.shift))


@dataclass(frozen=True)
class Citation:
    """The violating example (or rule text) nearest to a window, and how near it is."""

    rule_id: str
    text: str
    similarity: float


@dataclass(frozen=True)
class Exemplars:
    """Embeddings of one category's violating examples and rule texts, for citing rule ids."""

    vectors: np.ndarray
    rule_ids: tuple[str, ...]
    texts: tuple[str, ...]

    @classmethod
    def collect(
        cls, policy: Policy, code: str, examples: np.ndarray, rules: np.ndarray
    ) -> Exemplars | None:
        """From embeddings of ``policy.examples`` and of its violating rules, in order."""
        picked = [(examples[i], e.rule_id, e.text) for i, e in enumerate(policy.examples)
                  if e.category == code and e.violates]
        violating = [r for r in policy.rules if r.violates]
        picked += [(rules[i], r.id, r.text) for i, r in enumerate(violating)
                   if r.category == code]
        if not picked:
            return None
        return cls(np.stack([p[0] for p in picked]).astype(np.float32),
                   tuple(p[1] for p in picked), tuple(p[2] for p in picked))


def nearest(exemplars: Exemplars | None, vector: np.ndarray) -> Citation | None:
    """The exemplar with the highest cosine similarity to ``vector`` (unit length)."""
    if exemplars is None:
        return None
    sims = exemplars.vectors @ vector
    k = int(np.argmax(sims))
    return Citation(exemplars.rule_ids[k], exemplars.texts[k], float(sims[k]))
