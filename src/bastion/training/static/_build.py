"""One encoder's heads, start to finish: load, featurise, fit, calibrate, measure, write.

This is the order the steps depend on each other in, and the only place they meet; each step
lives in its own module so it can be read and tested alone.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bastion.classify._static import Heads
from bastion.training._pipeline import Paths
from bastion.training._sources import HEADS
from bastion.training.static._corpus import rows_for
from bastion.training.static._evaluate import dev_metrics
from bastion.training.static._export import ARTIFACTS, metadata, quantise, write_artifacts
from bastion.training.static._features import design_matrix, featurize
from bastion.training.static._fewshot import background, fewshot_calibration
from bastion.training.static._fit import train_heads

#: How the card describes the split of a build on the contextual model's table.
TABLE_SPLIT = ("the contextual model's table: near-duplicate clusters, train / validation / "
               "test; dev figures on validation ('val') and test together")


def build(encoder: str, paths: Paths, command: str, cache: Path | None = None,
          table: Path | None = None) -> Path:
    """Load, featurise, fit, measure and write one encoder's heads into the package's
    artifact folder under ``paths.root``; the path of the card written.

    Args:
        encoder: ``wordllama`` or ``minilm`` (a key of :data:`._features.WINDOW`).
        paths: the repository root (own prompt files, frozen sets, artifacts) and the
            shared datasets.
        command: the command that rebuilds these heads, recorded in the card.
        cache: a folder to keep dense embeddings in between runs, or None.
        table: the contextual model's training table to learn from, or None for this
            package's own corpus.
    """
    start = time.perf_counter()
    rows = rows_for(encoder, paths, table)
    print(f"{len(rows)} rows ({sum(r.dev for r in rows)} dev) from "
          f"{len({r.source for r in rows})} sources")
    features = featurize([r.text for r in rows], encoder, cache)
    print(f"featurised in {time.perf_counter() - start:.1f}s; fitting heads")
    fits = train_heads(rows, design_matrix(features))
    dim = features.dense.shape[1]
    arrays = quantise(fits, dim)
    arrays["background"] = background(rows, features.dense).astype(np.float16)
    meta = metadata(encoder, rows, command) | {"dim": dim}
    if table:
        meta["split"] = {"method": TABLE_SPLIT, "table": str(table.name)}
    centres = arrays["background"].astype(np.float32)
    meta["fewshot_calibration"], meta["fewshot_dev_metrics"] = fewshot_calibration(
        rows, features.dense, centres)
    print(f"  few-shot calibration {meta['fewshot_calibration']}: "
          f"{meta['fewshot_dev_metrics']}")
    heads = Heads(tuple(HEADS), arrays["dense_w"], arrays["sparse_q"], arrays["sparse_scale"],
                  arrays["bias"], arrays["background"].astype(np.float32), meta)
    meta["dev_metrics"] = dev_metrics(rows, features, heads)
    path = write_artifacts(paths.root / ARTIFACTS, encoder, arrays, meta)
    print(f"wrote {path.relative_to(paths.root)} in {time.perf_counter() - start:.1f}s")
    return path
