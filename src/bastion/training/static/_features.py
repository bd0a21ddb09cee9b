"""The features heads are fitted on: exactly what the runtime computes for a text.

The static tier reads a text window by window (:data:`WINDOW`), each window as a unit-length
dense embedding beside hashed token n-grams (:mod:`bastion.classify._static`). Heads learn the
first window of each training text through the same code, so training and run time cannot
drift apart. Dense embeddings of MiniLM can be kept between runs (``--cache``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bastion.classify._static import FEATURES, Encoder, Features, SparseRows, encoder_for
from bastion.classify._window import windows

#: Window used both here (first window of each training text) and at run time.
WINDOW = {"wordllama": (500, 100), "minilm": (500, 100)}
#: Weight of the hashed token features relative to the unit-length embedding, chosen on
#: dev and external AUPRC with the L2 strength (:data:`._fit.C_VALUE`).
SPARSE_SCALE = 3.0
_BATCH = 2048


def first_window(text: str, encoder: str) -> str:
    """The first run-time window of a text: heads learn what the runtime will show them."""
    size, overlap = WINDOW[encoder]
    start, end = windows(text, size, overlap)[0]
    return text[start:end]


def featurize(texts: Sequence[str], encoder: str, cache: Path | None = None) -> Features:
    """Run-time features (dense embedding + hashed token n-grams) of each first window.

    With ``cache``, dense embeddings are read from and added to ``<cache>/<encoder>.npz``
    (keyed by sha256 of the window), which makes MiniLM rebuilds fast.
    """
    enc = encoder_for(encoder)
    pieces = [first_window(t, encoder) for t in texts]
    if cache is None:
        return concat([enc.featurize(pieces[i:i + _BATCH])
                       for i in range(0, len(pieces), _BATCH)])
    dense = cached_dense(enc, pieces, cache / f"{encoder}.npz")
    return Features(dense, enc.sparse(pieces))


def cached_dense(enc: Encoder, pieces: Sequence[str], path: Path) -> np.ndarray:
    """Dense embeddings of ``pieces``, those not yet in the cache file embedded and added."""
    keys = [hashlib.sha256(p.encode("utf-8")).hexdigest() for p in pieces]
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as data:
            known = dict(zip(data["keys"].tolist(), data["dense"], strict=True))
    missing = sorted({k: p for k, p in zip(keys, pieces, strict=True) if k not in known}.items())
    if missing:
        print(f"  embedding {len(missing)} windows not in {path}")
        vectors = enc.dense([p for _, p in missing])
        known.update(zip([k for k, _ in missing], vectors, strict=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), dense=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]).astype(np.float32)


def concat(parts: Sequence[Features]) -> Features:
    """The features of consecutive batches as one, sparse row numbers shifted to match."""
    offsets = np.cumsum([0] + [p.sparse.n for p in parts])
    sparse = SparseRows(
        int(offsets[-1]),
        np.concatenate([p.sparse.rows + o for p, o in zip(parts, offsets[:-1], strict=True)]),
        np.concatenate([p.sparse.cols for p in parts]),
        np.concatenate([p.sparse.vals for p in parts]),
    )
    return Features(np.concatenate([p.dense for p in parts]), sparse)


def design_matrix(features: Features) -> Any:
    """``[dense | SPARSE_SCALE * sparse]`` as a scipy CSR matrix for scikit-learn."""
    # scipy comes with scikit-learn, a training-only dependency, and ships no type stubs.
    from scipy import sparse as sp  # type: ignore[import-untyped]  # noqa: PLC0415

    s = features.sparse
    hashed = sp.csr_matrix((s.vals * SPARSE_SCALE, (s.rows, s.cols)),
                           shape=(s.n, FEATURES.size))
    return sp.hstack([sp.csr_matrix(features.dense), hashed], format="csr")
