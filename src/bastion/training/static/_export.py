"""The artifact the static tier reads: ``<encoder>-heads.npz`` and its card,
``<encoder>-heads.json``.

The runtime reads the heads with numpy alone, so weights are stored as arrays: dense weights
in float32, the much larger hashed-token weights as int8 with one scale per head. The card is
written by the code that trained the heads: encoder and its file hashes, every set trained on
with its licence and row counts, the split, hyper-parameters, figures, the npz's sha256 (the
runtime refuses an npz that does not match) and the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bastion.classify._static import FEATURES, encoder_for
from bastion.training._sources import HEADS
from bastion.training.static._features import SPARSE_SCALE, WINDOW
from bastion.training.static._fit import (
    C_VALUE,
    FOLDS,
    KEYWORD_WEIGHT,
    OTHER_HARM_WEIGHT,
    SEED,
    HeadFit,
)
from bastion.training.static._own import OWN_VIOLATING_WEIGHT
from bastion.training.static._rows import DEV_FRACTION, FORBIDDEN, LICENCES, SPLIT_SALT, Row

#: Where the package keeps the artifacts, relative to the repository root.
ARTIFACTS = Path("src/bastion/classify/artifacts")


def quantise(fits: Sequence[HeadFit], dim: int) -> dict[str, np.ndarray]:
    """Split fitted weights into dense float32 and int8 sparse parts (per-head scale)."""
    coef = np.stack([f.coef for f in fits])
    sparse = coef[:, dim:].T * SPARSE_SCALE
    scale = np.maximum(np.abs(sparse).max(axis=0), 1e-12) / 127.0
    return {
        "dense_w": coef[:, :dim].astype(np.float32),
        "sparse_q": np.round(sparse / scale).astype(np.int8),
        "sparse_scale": scale.astype(np.float32),
        "bias": np.array([f.intercept for f in fits], dtype=np.float32),
    }


def provenance(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """What the artifact learned from: set, file, rows used for training, licence."""
    counts = Counter((r.source, r.file) for r in rows if not r.dev)
    dev_counts = Counter((r.source, r.file) for r in rows if r.dev)
    licence = {(r.source, r.file): r.extra.get("licence") for r in rows}
    return [
        {"set": s, "file": f, "train_rows": n, "dev_rows": dev_counts.get((s, f), 0),
         "licence": licence[(s, f)] or LICENCES[s]}
        for (s, f), n in sorted(counts.items())
    ]


def metadata(encoder: str, rows: Sequence[Row], command: str) -> dict[str, Any]:
    """Everything about the build except the metrics and the npz hash."""
    import sklearn  # noqa: PLC0415 - a training-only dependency

    enc = encoder_for(encoder)
    return {
        "format": 2, "encoder": encoder, "encoder_model": enc.model_name,
        "encoder_files": dict(enc.pins), "heads": list(HEADS),
        "window": {"size": WINDOW[encoder][0], "overlap": WINDOW[encoder][1]},
        "features": FEATURES.describe(), "sparse_scale": SPARSE_SCALE,
        "model": "per-head L2 logistic regression (class-balanced) on [unit embedding | "
                 "hashed token uni+bigrams], Platt-calibrated on out-of-fold scores; "
                 "calibration folded into the weights; sparse weights int8 per head",
        "c": C_VALUE, "folds": FOLDS, "other_harm_weight": OTHER_HARM_WEIGHT,
        "keyword_weight": KEYWORD_WEIGHT, "own_violating_weight": OWN_VIOLATING_WEIGHT,
        "split": {"method": "sha256(salt + text.strip()) < fraction", "salt": SPLIT_SALT,
                  "dev_fraction": DEV_FRACTION},
        "seed": SEED, "sklearn": sklearn.__version__, "numpy": np.__version__,
        "rebuild": command, "trained_on": provenance(rows), "never_trained_on": list(FORBIDDEN),
    }


def write_artifacts(folder: Path, encoder: str, arrays: dict[str, np.ndarray],
                    meta: dict[str, Any]) -> Path:
    """Write ``<encoder>-heads.npz`` and ``<encoder>-heads.json`` (with the npz's sha256)
    into ``folder``; the path of the json."""
    folder.mkdir(parents=True, exist_ok=True)
    npz = folder / f"{encoder}-heads.npz"
    # numpy's stubs read a ``**dict`` as possibly filling ``allow_pickle``; these are arrays.
    np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
    meta = {**meta, "npz": npz.name, "npz_sha256": hashlib.sha256(npz.read_bytes()).hexdigest()}
    path = folder / f"{encoder}-heads.json"
    path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return path
