"""Choose the red-team verdict's voice settings on GPTFuzz validation rows; print the grid.

The settings (:data:`bastion.redteam.scorers._compliance.VOICE_THRESHOLD` and
``VOICE_MIN_CHARS``) are constants in the code: this prints the agreement of every setting
and the one :func:`bastion.redteam.training.choose` picks, for a person to copy. Only the
validation split is read; the blind test is left to ``bench/redteam_verdicts.py``.

Run: ``python scripts/choose_voice_settings.py [--datasets ../shared/datasets]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from bastion.redteam.training import choose, gptfuzz_rows, split_rows, voice_grid

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()
    if not (args.datasets / "gptfuzz").is_dir():
        print(f"missing {args.datasets / 'gptfuzz'}; pass --datasets", file=sys.stderr)
        return 2
    kept, _ = split_rows(gptfuzz_rows(args.datasets))
    grid = voice_grid([r for r in kept if r.split == "val"])
    print(json.dumps({"whole_only": asdict(grid[0]), "chosen": asdict(choose(grid)),
                      "grid": [asdict(s) for s in grid[1:]]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
