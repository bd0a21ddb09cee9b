"""Rebuild the shipped contextual model (src/bastion/classify/artifacts/contextual).

Usage (from the repository root, with ``pip install -e '.[train]'``)::

    python scripts/train_classifier.py all            # every step
    python scripts/train_classifier.py prepare fit    # some steps, in order

    python scripts/train_classifier.py prepare unpack refit card windows install
                                                      # CPU: refit the installed model's heads
    python scripts/train_classifier.py prepare distil export weights card windows install
                                                      # CPU: a 4-layer student of it (an hour)

Steps: prepare (training table, near-duplicate splits; a minute), fit (fine-tuning: minutes
on a GPU, hours on two CPU cores; the step file ``src/bastion/training/_fit.py`` also runs on
its own on a machine with torch alone), export (ONNX, int8 weights, int8 activations quantised
per token), weights (rewrite a model exported in an earlier form, activations quantised per
batch or float, in today's per-token form; a no-op on newer exports), refit (the heads fitted
again on the exported encoder's embeddings, for rows added after the fine-tuning: CPU
minutes), card (calibration, policy reader, figures), windows (sentence pairs and window
margin, development data), install (copy into the package). unpack, never part of all, starts
from the installed model instead of fit and export; distil, never part of all, writes a smaller
student of the installed model where fit writes. Work files go to ``build/train``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bastion.training import ONLY_NAMED, STEPS, Paths

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steps", nargs="+", choices=[*STEPS, *ONLY_NAMED, "all"])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "train")
    args = parser.parse_args()
    paths = Paths(ROOT, args.data, args.work)
    steps = list(STEPS) if "all" in args.steps else args.steps
    for name in steps:
        print(f"== {name}", flush=True)
        (STEPS | ONLY_NAMED)[name](paths)


if __name__ == "__main__":
    main()
