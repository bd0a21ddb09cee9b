"""Distil a smaller student of the installed contextual model (an experiment: see
``bastion.training._distill``; nothing is installed).

Usage (from the repository root, with ``pip install -e '.[train]'``)::

    python scripts/train_classifier.py prepare --work build/train     # the training table
    python scripts/distill_student.py --keep 0,2,4,5 --minutes 60     # 4 layers, an hour

The validation curve (the teacher's figures first) goes to ``<out>/curve.json`` and the best
checkpoint by validation mean AUPRC to ``<out>/student.safetensors``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bastion.classify._onnx import artifact_dir
from bastion.training._distill import distill
from bastion.training._pipeline import Paths

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", default="0,2,4,5", help="The teacher's layers the student keeps.")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "train",
                        help="The work folder 'train_classifier.py prepare' wrote to.")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "student")
    parser.add_argument("--label-weight", type=float, default=0.0,
                        help="Weight of the training labels' cross-entropy (0: the teacher "
                             "alone).")
    args = parser.parse_args()
    paths = Paths(ROOT, ROOT.parent / "shared" / "datasets", args.work)
    keep = [int(x) for x in args.keep.split(",")]
    distill(args.work / "fit-input" / "table.jsonl.gz", artifact_dir(), paths.base, keep,
            args.out, minutes=args.minutes, label_weight=args.label_weight)


if __name__ == "__main__":
    main()
