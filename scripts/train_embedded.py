"""Train the static-embedding heads of the ``static`` tier (the ``fast`` profile) and write
them as plain-numpy artifacts. The default contextual model is built by
``scripts/train_classifier.py``.

Usage (from the repository root)::

    python scripts/train_classifier.py prepare           # the contextual model's table
    python scripts/train_embedded.py --table build/train/fit-input/table.jsonl.gz
                                                         # the shipped WordLlama heads (~5 min)
    python scripts/train_embedded.py                     # WordLlama heads on the training
                                                         # package's own corpus (~1 minute)
    python scripts/train_embedded.py --encoder minilm    # all-MiniLM-L6-v2 heads (~5 minutes)

This file only parses arguments: what a build reads, how it splits, fits, measures and what
it writes is :mod:`bastion.training.static` (one module per step; its docstring walks through
them). scikit-learn is a development dependency only: the runtime reads the ``.npz`` with
numpy.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bastion.training import Paths
from bastion.training.static import WINDOW, build

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", choices=sorted(WINDOW), default="wordllama")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep dense embeddings in between runs (optional)")
    parser.add_argument("--table", type=Path, default=None,
                        help="train on the contextual model's table instead "
                             "(build/train/fit-input/table.jsonl.gz, written by "
                             "'python scripts/train_classifier.py prepare')")
    args = parser.parse_args(argv)
    if args.table is not None and not args.table.is_file():
        parser.error(f"table {str(args.table)!r} not found; run 'python "
                     "scripts/train_classifier.py prepare' first")
    if args.table is None and not args.data.is_dir():
        parser.error(f"data folder {str(args.data)!r} not found; pass --data")
    command = f"python scripts/train_embedded.py --encoder {args.encoder}" + (
        " --table build/train/fit-input/table.jsonl.gz (after 'python scripts/"
        "train_classifier.py prepare')" if args.table else "")
    build(args.encoder, Paths(ROOT, args.data, ROOT / "build" / "train"), command,
          args.cache, args.table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
