"""The policy reader: scores a category that has no trained head from the policy itself.

The fine-tuned encoder was also trained to place a text near a description of what it asks
for (a contrastive objective over hundreds of intents and harm categories), so "does this text
match this rule" becomes a comparison of embeddings. For one category the reader embeds its
"violates" rules, its "does not violate" rules and its labelled examples once per policy, and
turns nine features into a probability with a small logistic model whose weights ship in the
model card (fitted on development policies, never on the blind ones; its bias includes an offset
chosen there for F1, since the likelihood fit alone sets the threshold too high).

Features: cosine similarities between the text and ``[best violating rule, best allowed rule,
best violating example, best allowed example, rule margin, example margin, overall margin]``,
then a soft nearest-neighbour vote over all anchors (temperature ``KNN_TAU``), and the logit
of a small logistic regression fitted on the anchors themselves (violating vs allowed), which
adapts the decision to each policy's own wording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastion.classify._fewshot import FewShotModel, fit_fewshot, sigmoid
from bastion.policy import Policy

FEATURES = ("rule_v", "rule_s", "example_v", "example_s", "rule_margin", "example_margin",
            "margin", "knn_vote", "anchor_logit")
KNN_TAU = 0.02


@dataclass(frozen=True)
class Anchor:
    """A rule or example the reader compares texts with."""

    rule_id: str
    text: str
    violates: bool
    kind: str  # "rule" or "example"


@dataclass(frozen=True)
class CategoryAnchors:
    """One category's anchors and their embeddings (rows of ``vectors``)."""

    anchors: tuple[Anchor, ...]
    vectors: np.ndarray
    fewshot: FewShotModel | None = None

    @classmethod
    def build(cls, anchors: tuple[Anchor, ...], vectors: np.ndarray) -> CategoryAnchors:
        """Anchors with their per-policy logistic model (when both sides have anchors)."""
        violates = np.array([a.violates for a in anchors], bool)
        model = None
        if violates.any() and (~violates).any():
            model = fit_fewshot(vectors[violates], vectors[~violates],
                                np.zeros((0, vectors.shape[1]), np.float32))
        return cls(anchors, vectors, model)

    def _best(self, sims: np.ndarray, violates: bool, kind: str) -> np.ndarray:
        cols = [i for i, a in enumerate(self.anchors) if a.violates == violates and a.kind == kind]
        if not cols:
            return np.full(sims.shape[0], np.nan, np.float32)
        return np.asarray(sims[:, cols].max(axis=1), np.float32)

    def features(self, embeddings: np.ndarray) -> np.ndarray:
        """``[texts, len(FEATURES)]`` similarity features of unit-length embeddings."""
        sims = embeddings @ self.vectors.T
        rule_v, rule_s = self._best(sims, True, "rule"), self._best(sims, False, "rule")
        ex_v, ex_s = self._best(sims, True, "example"), self._best(sims, False, "example")
        # a category without examples (or without allowed rules) reads its rules twice
        ex_v = np.where(np.isnan(ex_v), rule_v, ex_v)
        ex_s = np.where(np.isnan(ex_s), rule_s, ex_s)
        rule_s = np.where(np.isnan(rule_s), ex_s, rule_s)
        rule_s = np.nan_to_num(rule_s, nan=0.0)
        ex_s = np.nan_to_num(ex_s, nan=0.0)
        best_v, best_s = np.maximum(rule_v, ex_v), np.maximum(rule_s, ex_s)
        violates = np.array([a.violates for a in self.anchors], np.float32)
        weights = np.exp((sims - sims.max(axis=1, keepdims=True)) / KNN_TAU)
        vote = (weights * violates).sum(axis=1) / weights.sum(axis=1)
        logit = (embeddings @ self.fewshot.coef + self.fewshot.bias if self.fewshot is not None
                 else best_v - best_s)
        return np.stack([rule_v, rule_s, ex_v, ex_s, rule_v - rule_s, ex_v - ex_s,
                         best_v - best_s, vote, logit], axis=1).astype(np.float32)

    def nearest_violating(self, embedding: np.ndarray) -> tuple[Anchor, float] | None:
        """The violating anchor closest to one embedding, with its similarity."""
        cols = [i for i, a in enumerate(self.anchors) if a.violates]
        if not cols:
            return None
        sims = self.vectors[cols] @ embedding
        best = int(np.argmax(sims))
        return self.anchors[cols[best]], float(sims[best])


def anchors_of(policy: Policy, code: str) -> tuple[Anchor, ...]:
    """The rules and examples of category ``code``, violating and allowed."""
    rules = tuple(Anchor(r.id, r.text, r.violates, "rule")
                  for r in policy.rules if r.category == code)
    examples = tuple(Anchor(e.rule_id, e.text, e.violates, "example")
                     for e in policy.examples if e.category == code)
    return rules + examples


@dataclass(frozen=True)
class ReaderWeights:
    """``p = sigmoid(features @ coef + bias)``."""

    coef: np.ndarray
    bias: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probabilities for rows of reader features."""
        return sigmoid(features @ self.coef + self.bias)
