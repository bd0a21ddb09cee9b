"""The static tier's trained artifact and how one policy is scored with it: the calibrated
linear :class:`Heads` (read and verified by :func:`load_heads`), and the per-policy
:class:`Plan` that gives each category a shipped head or a few-shot model fitted on the
policy's examples (:func:`build_plan`).

Apart from the classifier (:mod:`bastion.classify._static`) because the training code
(:mod:`bastion.training.static`) builds and evaluates these same heads, and a policy's plan
is built once per policy hash while a classifier scores many batches with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bastion.classify._fewshot import Calibration, Exemplars, fit_fewshot, sigmoid
from bastion.classify._static_encoders import encoder_for
from bastion.classify._static_tokens import FEATURES, Features
from bastion.errors import ConfigError
from bastion.policy import Category, Policy


@dataclass(frozen=True)
class Heads:
    """Calibrated linear heads over dense and hashed-token features.

    ``logit[h] = dense @ dense_w[h] + sum(value * sparse_q[feature, h] * sparse_scale[h])
    + bias[h]``, and the head's probability is ``sigmoid(logit)``.

    Attributes:
        background: benign prototype embeddings, the extra negatives of few-shot categories.
        meta: the artifact's JSON metadata (provenance, dev metrics, hashes).
    """

    names: tuple[str, ...]
    dense_w: np.ndarray
    sparse_q: np.ndarray
    sparse_scale: np.ndarray
    bias: np.ndarray
    background: np.ndarray
    meta: dict[str, Any]

    def index(self, name: str) -> int:
        """Column of head ``name``; ConfigError naming the available heads if there is none."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ConfigError(
                f"no embedded head {name!r}; available heads: {sorted(self.names)}. Fix the "
                "category's 'head:' or remove it to learn the category from its examples"
            ) from None

    @property
    def fewshot_calibration(self) -> Calibration:
        """How few-shot logits map to probabilities (fitted with the heads)."""
        return Calibration(**self.meta.get("fewshot_calibration", {}))

    def logits(self, features: Features) -> np.ndarray:
        """Head logits for every row of ``features``, shape ``[rows, heads]``."""
        sparse = features.sparse.dot(self.sparse_q) * self.sparse_scale
        return np.asarray(features.dense @ self.dense_w.T + sparse + self.bias, np.float32)


def default_artifacts() -> Path:
    """The folder of artifacts shipped inside the package."""
    return Path(__file__).resolve().parent / "artifacts"


def load_heads(encoder: str, folder: Path | None = None) -> Heads:
    """Read and verify ``<encoder>-heads.json`` and the ``.npz`` whose sha256 it records."""
    folder = folder or default_artifacts()
    meta_path = folder / f"{encoder}-heads.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        npz_path = folder / meta["npz"]
        blob = npz_path.read_bytes()
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"embedded artifact {str(meta_path)!r} cannot be read ({exc}); "
                          "reinstall bastion-ai or rebuild it with "
                          f"'python scripts/train_embedded.py --encoder {encoder}'") from exc
    actual = hashlib.sha256(blob).hexdigest()
    if actual != meta.get("npz_sha256"):
        raise ConfigError(f"embedded artifact {str(npz_path)!r} has sha256 {actual}, but "
                          f"{meta_path.name} records {meta.get('npz_sha256')}; the file was "
                          "changed, so Bastion refuses to load it. Reinstall bastion-ai or "
                          "rebuild the heads with scripts/train_embedded.py")
    if meta.get("features") != FEATURES.describe():
        raise ConfigError(f"embedded artifact {str(meta_path)!r} was built for features "
                          f"{meta.get('features')}, but this version computes "
                          f"{FEATURES.describe()}; rebuild it with scripts/train_embedded.py")
    with np.load(npz_path) as data:
        heads = Heads(
            tuple(meta["heads"]), data["dense_w"].astype(np.float32), data["sparse_q"],
            data["sparse_scale"].astype(np.float32), data["bias"].astype(np.float32),
            data["background"].astype(np.float32), meta,
        )
    _check_shapes(heads, npz_path)
    return heads


def _check_shapes(heads: Heads, path: Path) -> None:
    expected = {"dense_w": (len(heads.names), heads.meta["dim"]),
                "sparse_q": (FEATURES.size, len(heads.names))}
    for name, shape in expected.items():
        if getattr(heads, name).shape != shape:
            raise ConfigError(f"embedded artifact {str(path)!r}: {name} has shape "
                              f"{getattr(heads, name).shape}, expected {shape}; rebuild it "
                              "with scripts/train_embedded.py")


# --------------------------------------------------------------------------- per-policy plan


@dataclass(frozen=True)
class Plan:
    """How each category of one policy is scored.

    Attributes:
        head_columns: per category, the head column it reads, or -1 for few-shot.
        fewshot_w: ``[categories, dim]`` dense weights of few-shot categories (zero rows for
            head categories); ``fewshot_b`` their biases.
        sources: ``head:<name>`` or ``few-shot``, for rationales.
        exemplars: per category, its violating examples and rule texts (or None).
    """

    codes: tuple[str, ...]
    head_columns: np.ndarray
    fewshot_w: np.ndarray
    fewshot_b: np.ndarray
    sources: tuple[str, ...]
    exemplars: tuple[Exemplars | None, ...]

    def scores(self, heads: Heads, features: Features) -> np.ndarray:
        """Probabilities ``[rows, categories]`` for featurised windows."""
        columns = np.maximum(self.head_columns, 0)
        head = heads.logits(features)[:, columns]
        few = features.dense @ self.fewshot_w.T + self.fewshot_b
        return sigmoid(np.where(self.head_columns >= 0, head, few))


def build_plan(policy: Policy, heads: Heads, encoder_name: str) -> Plan:
    """Resolve heads and fit few-shot categories for ``policy`` (ConfigError on a bad head)."""
    columns = [heads.index(c.head) if c.head is not None else -1 for c in policy.categories]
    violating_rules = [r for r in policy.rules if r.violates]
    texts = [e.text for e in policy.examples] + [r.text for r in violating_rules]
    dim = heads.dense_w.shape[1]
    vectors = (encoder_for(encoder_name).featurize(texts).dense if texts
               else np.zeros((0, dim), np.float32))
    examples, rules = vectors[: len(policy.examples)], vectors[len(policy.examples):]
    weights = np.zeros((len(columns), dim), np.float32)
    biases = np.zeros(len(columns), np.float32)
    for j, category in enumerate(policy.categories):
        if columns[j] < 0:
            weights[j], biases[j] = _fewshot(policy, category, examples, heads)
    exemplars = tuple(
        Exemplars.collect(policy, c.code, examples, rules) for c in policy.categories
    )
    sources = tuple(f"head:{c.head}" if c.head else "few-shot" for c in policy.categories)
    return Plan(tuple(c.code for c in policy.categories), np.array(columns, np.int64),
                weights, biases, sources, exemplars)


def _fewshot(
    policy: Policy, category: Category, examples: np.ndarray, heads: Heads
) -> tuple[np.ndarray, float]:
    mine = np.array([e.category == category.code for e in policy.examples], dtype=bool)
    violating = np.array([e.violates for e in policy.examples], dtype=bool)
    if not np.any(mine & violating):
        raise ConfigError(f"category {category.code!r} of policy {policy.id!r} has no 'head:' "
                          "and no violating examples, so the embedded tier cannot score it; "
                          f"add examples such as '- violates {category.code}-1: \"...\"' or "
                          "set 'head:' to a shipped head")
    model = fit_fewshot(examples[mine & violating], examples[~(mine & violating)],
                        heads.background, heads.fewshot_calibration)
    return model.coef, model.bias

