"""Sentence embeddings of the shipped contextual model, imported lazily (the CLI's help and
the package import stay free of numpy and ONNX Runtime), and what a caller that stores or
compares them needs to know about the embedder: which model it is, which words it knows, and
whether it reads a text at all."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from bastion.classify._normalize import LONE_SURROGATE

if TYPE_CHECKING:
    import numpy as np


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings of ``texts`` from the shipped contextual model.

    One float32 row per text (cosine similarity is a dot product). For similarity between
    findings, prompts and alert clusters; classification goes through the classifiers. A
    lone surrogate (half a UTF-16 pair, which no tokenizer can encode) reads as U+FFFD here:
    a similarity does not decide anything, so the text is still placed, not refused.
    """
    import numpy as np  # noqa: PLC0415 - heavy import, only when embeddings are asked for

    from bastion.classify._onnx import load_model  # noqa: PLC0415

    model = load_model()
    if not texts:
        return np.zeros((0, int(model.card["dim"])), np.float32)
    return model.run([LONE_SURROGATE.sub("\ufffd", t) if not t.isascii() else t
                      for t in texts]).embeddings


def embedder_id() -> str:
    """Which model :func:`embed` runs: the sha256 of the shipped ``model.onnx``, as its card
    records it (the model refuses to load when the file differs).

    Vectors made by two ids are not comparable; store the id beside a stored vector. Reads
    the card only, not the model.
    """
    from bastion.classify._onnx import shipped_card  # noqa: PLC0415

    return str(shipped_card()["files"]["model.onnx"])


@cache
def _vocabulary_ids() -> dict[str, int]:
    import json  # noqa: PLC0415

    from bastion.classify._onnx import artifact_dir  # noqa: PLC0415

    data = json.loads((artifact_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    return {w: int(i) for w, i in data["model"]["vocab"].items() if w.isascii()}


@cache
def embedder_vocabulary() -> frozenset[str]:
    """The embedder's WordPiece vocabulary (ASCII entries): whole words and ``##`` pieces."""
    return frozenset(_vocabulary_ids())


@cache
def embedder_words() -> dict[str, int]:
    """The whole lower-case words of the embedder's vocabulary, each with its id; WordPiece
    numbers its words roughly from the most frequent, so a lower id is a commoner word."""
    return {w: i for w, i in _vocabulary_ids().items() if w.isalpha() and w.islower()}
