"""Sentence embeddings of the shipped contextual model, imported lazily (the CLI's help and
the package import stay free of numpy and ONNX Runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings of ``texts`` from the shipped contextual model.

    One float32 row per text (cosine similarity is a dot product). For similarity between
    findings, prompts and alert clusters; classification goes through the classifiers.
    """
    import numpy as np  # noqa: PLC0415 - heavy import, only when embeddings are asked for

    from bastion.classify._onnx import load_model  # noqa: PLC0415

    model = load_model()
    if not texts:
        return np.zeros((0, int(model.card["dim"])), np.float32)
    return model.run(list(texts)).embeddings
